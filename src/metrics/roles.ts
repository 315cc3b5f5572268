import cluster from 'node:cluster';

// What a process is in a deployment with --workers, without prom-client (metrics/cluster.ts): a server that
// serves no metrics loads none of it.

export const METRICS_REQUEST = 'certgate:metrics-request';
export const METRICS_RESPONSE = 'certgate:metrics-response';
/** Set in one worker's environment: it also runs what a deployment does once, not once per worker (expiry alerts). */
export const LEAD_ENV = 'CERTGATE_LEAD_WORKER';

export function isWorker(): boolean {
  return cluster.isWorker;
}

/** Whether this process runs the once-per-deployment duties: a single process, or the lead worker. */
export function isLead(): boolean {
  return !cluster.isWorker || process.env[LEAD_ENV] === '1';
}
