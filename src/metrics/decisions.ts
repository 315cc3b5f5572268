// The gateway's decisions as its metrics label them, without prom-client (metrics/gateway.ts): the data plane
// names them whether or not metrics are on.

/** forward_failed: admitted, but no response head came from the upstream (answered 502 upstream_unavailable) */
export type Decision = 'admitted' | 'refused' | 'would_refuse' | 'forward_failed';

/** Label value for a decision without a refusal code or reason (an admission). */
export const NONE = 'none';
