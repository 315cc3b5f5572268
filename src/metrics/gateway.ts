import { Counter, Histogram, type Registry } from 'prom-client';
import type { Decision } from './decisions.js';

export { NONE, type Decision } from './decisions.js';

/** Upper bounds in seconds: admission alone takes well under a millisecond; proxied requests wait for the upstream's head. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The gateway's own metrics. The request path only bumps plain numbers found
 * through nested maps (no label object, no string built per request); the
 * counter is filled from them when Prometheus scrapes. Labels stay bounded:
 * code and reason come from fixed lists, scope is 'organization' or a
 * project id.
 */
export class GatewayMetrics {
  /** decision → code → reason → scope → count */
  private readonly counts = new Map<Decision, Map<string, Map<string, Map<string, { n: number }>>>>();
  private readonly durations: Record<Decision, Histogram.Internal<'decision'>>;

  constructor(registry: Registry) {
    const counts = this.counts;
    new Counter({
      name: 'certgate_gateway_decisions_total',
      help: "The gateway's decisions: admitted, refused, would_refuse (let through in observe mode), or forward_failed (admitted, but the upstream gave no response head: 502), by code and reason (none when admitted; for forward_failed the failure's kind) and scope (the key's project id, or organization when no project key was given).",
      labelNames: ['decision', 'code', 'reason', 'scope'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [decision, byCode] of counts)
          for (const [code, byReason] of byCode)
            for (const [reason, byScope] of byReason) for (const [scope, { n }] of byScope) this.inc({ decision, code, reason, scope }, n);
      },
    });
    const histogram = new Histogram({
      name: 'certgate_gateway_request_duration_seconds',
      help: "Time from a request's arrival at the gateway to its response head (refusal, or the upstream's answer), by decision.",
      labelNames: ['decision'] as const,
      buckets: BUCKETS,
      registers: [registry],
    });
    this.durations = {
      admitted: histogram.labels('admitted'),
      refused: histogram.labels('refused'),
      would_refuse: histogram.labels('would_refuse'),
      forward_failed: histogram.labels('forward_failed'),
    };
  }

  /** One decision, and how long the request took since `startedMs` (performance.now()). */
  decided(decision: Decision, code: string, reason: string, scope: string, startedMs: number): void {
    let byCode = this.counts.get(decision);
    if (!byCode) this.counts.set(decision, (byCode = new Map()));
    let byReason = byCode.get(code);
    if (!byReason) byCode.set(code, (byReason = new Map()));
    let byScope = byReason.get(reason);
    if (!byScope) byReason.set(reason, (byScope = new Map()));
    const count = byScope.get(scope);
    if (count) count.n++;
    else byScope.set(scope, { n: 1 });
    this.durations[decision].observe((performance.now() - startedMs) / 1000);
  }
}
