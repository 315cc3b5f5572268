import type { Store } from '../store/store.js';

/** How often a gateway adds what it observed to the store. */
const FLUSH_MS = 1000;

/**
 * Counts of requests in scopes in observe mode, kept in memory on the request path (an increment) and added to
 * the store in one batch a second, off the request path, so that every replica's traffic counts. A batch the
 * store cannot take is kept and added with the next.
 */
export class ObservationCounter {
  private pending = new Map<string, { organizationId: string; scope: string; wouldRefuse: number; admitted: number }>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  count(organizationId: string, scope: string, wouldRefuse: boolean): void {
    const key = `${organizationId}\u0000${scope}`;
    let entry = this.pending.get(key);
    if (!entry) this.pending.set(key, (entry = { organizationId, scope, wouldRefuse: 0, admitted: 0 }));
    if (wouldRefuse) entry.wouldRefuse++;
    else entry.admitted++;
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batch = this.pending;
      if (batch.size === 0) return;
      this.pending = new Map();
      for (const [key, e] of batch) {
        try {
          await this.store.addObservations(e.organizationId, e.scope, e.wouldRefuse, e.admitted, this.now());
        } catch {
          // keep it for the next batch
          const again = this.pending.get(key);
          if (again) {
            again.wouldRefuse += e.wouldRefuse;
            again.admitted += e.admitted;
          } else {
            this.pending.set(key, e);
          }
        }
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
