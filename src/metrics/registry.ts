import { collectDefaultMetrics, Counter, Gauge, Registry, type Aggregator } from 'prom-client';
import { DEFAULT_ORGANIZATION_ID } from '../domain/model.js';
import type { Runtime } from '../runtime.js';

/**
 * How each of prom-client's process metrics that is not an amount is combined across workers (the amounts, such as
 * memory, handles and CPU seconds, are summed: the deployment's total). prom-client sets its own for the event
 * loop's lag ('average', 'min', 'max') and the version ('first').
 */
const PROCESS_AGGREGATORS: Readonly<Record<string, Aggregator>> = {
  // when the deployment started, as one process would say: the oldest worker's start (prom-client omits it)
  process_start_time_seconds: 'min',
  // a limit of each process, not an amount: the tightest
  process_max_fds: 'min',
};

/**
 * A process's metrics registry (never prom-client's global one, so several
 * servers can run in one process), with what both servers report: the active
 * anchors' expiry, the CRLs' next update, the anchors this version cannot read, the snapshot's age and reloads,
 * whether the store is reachable, and Node's process metrics. Values that
 * describe state are read from the runtime at scrape time, never kept twice.
 *
 * With --workers the primary combines the workers' registries (metrics/cluster.ts), each metric by what it means:
 * counters and histograms are summed; a timestamp, a state or an age reads what one process would report (the
 * `aggregator` of each below), never a sum of them.
 */
export function runtimeRegistry(rt: Runtime, organizationId = DEFAULT_ORGANIZATION_ID): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const [name, aggregator] of Object.entries(PROCESS_AGGREGATORS)) {
    const metric = registry.getSingleMetric(name);
    // prom-client keeps it as a field of every metric (metric.js), though its types do not list it on the classes
    if (metric) (metric as unknown as { aggregator: Aggregator }).aggregator = aggregator;
  }

  // Gauges read the current snapshot (one load shared by all, as every reader shares it); none when it cannot be had.
  const snapshot = () => rt.snapshot(organizationId).catch(() => null);

  new Gauge({
    name: 'certgate_anchor_expiry_timestamp_seconds',
    help: 'When each active trust anchor expires (its expires_at, Unix seconds), per scope it is active in: organization or a project id.',
    labelNames: ['certificate_id', 'scope'] as const,
    // a certificate's expiry never changes: every worker that has the activation reports the same time
    aggregator: 'first',
    registers: [registry],
    async collect() {
      const s = await snapshot();
      this.reset();
      if (!s) return;
      for (const { certificateId, scope } of s.liveActivations()) {
        const certificate = s.certificate(certificateId);
        if (certificate) this.labels(certificateId, scope).set(certificate.expiresAt);
      }
    },
  });

  new Gauge({
    name: 'certgate_crl_next_update_timestamp_seconds',
    help: "When each trust anchor's CRL says its next update is due (next_update, Unix seconds); anchors without a CRL, or whose CRL has no next_update, are absent.",
    labelNames: ['certificate_id'] as const,
    // workers agree but for a moment after a CRL is replaced: the latest is the store's
    aggregator: 'max',
    registers: [registry],
    async collect() {
      const s = await snapshot();
      this.reset();
      if (!s) return;
      for (const c of s.certificates) if (c.crl?.nextUpdate != null) this.labels(c.id).set(c.crl.nextUpdate);
    },
  });

  new Gauge({
    name: 'certgate_trust_anchors_unusable',
    help: 'Active trust anchors this version of certgate cannot read, per organization: each admits nothing (its clients are refused anchor_unusable) until it is uploaded again. Alert on > 0.',
    labelNames: ['organization_id'] as const,
    // workers agree but for a moment after a change: the highest is what some worker still refuses clients for
    aggregator: 'max',
    registers: [registry],
    async collect() {
      const counts: [string, number][] = [];
      try {
        for (const id of await rt.store.organizationIds()) counts.push([id, rt.anchors.unusable(await rt.snapshot(id)).length]);
      } catch {
        // the store cannot be read: no figure rather than a wrong one (certgate_store_up says why)
        counts.length = 0;
      }
      this.reset();
      for (const [id, count] of counts) this.labels(id).set(count);
    },
  });

  new Gauge({
    name: 'certgate_snapshot_age_seconds',
    help: 'Seconds since this process last loaded the organization state it serves and enforces (grows while the store cannot be read).',
    // the stalest worker's: an alert on age must see the one that fell behind
    aggregator: 'max',
    registers: [registry],
    async collect() {
      await snapshot();
      const { loadedAt } = rt.snapshotStats(organizationId);
      if (loadedAt === null) this.reset();
      else this.set(Math.max(0, (Date.now() - loadedAt) / 1000));
    },
  });

  let reloadsSeen = 0;
  new Counter({
    name: 'certgate_snapshot_reloads_total',
    help: 'Times this process brought its organization snapshot up to date with the store (a whole load or a catch-up through the change feed, after its own writes or other processes\' changes).',
    registers: [registry],
    async collect() {
      await snapshot();
      const { reloads } = rt.snapshotStats(organizationId);
      if (reloads > reloadsSeen) this.inc(reloads - reloadsSeen);
      reloadsSeen = reloads;
    },
  });

  new Gauge({
    name: 'certgate_store_up',
    help: 'Whether the store is reachable and this process hears of other processes\' changes: 1 yes, 0 no.',
    // 1 only when every worker reaches the store
    aggregator: 'min',
    registers: [registry],
    collect() {
      this.set(rt.store.ready() ? 1 : 0);
    },
  });

  return registry;
}
