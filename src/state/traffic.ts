import type { ObservedClient } from '../domain/model.js';
import { leafNames, sightingChain } from '../domain/sightings.js';
import { Slices } from '../slices.js';
import type { Store } from '../store/store.js';

/** How long a client seen is remembered for the lockout preview. */
export const REMEMBER_CLIENTS_S = 7 * 24 * 3600;
/** Clients remembered per organization, at most. */
export const MAX_CLIENTS_PER_ORGANIZATION = 10_000;

/** How often a gateway adds what it observed to the store. */
const FLUSH_MS = 1000;

/**
 * What the gateway saw: counts of requests in scopes in observe mode, and the clients admitted (for the lockout
 * preview), kept in memory on the request path (an increment) and added to
 * the store in one batch a second, off the request path, so that every replica's traffic counts. A batch the
 * store cannot take is kept and added with the next.
 */
export class TrafficRecorder {
  private pending = new Map<string, { organizationId: string; scope: string; wouldRefuse: number; admitted: number }>();
  private clients = new Map<string, { organizationId: string; client: { -readonly [K in keyof ObservedClient]: ObservedClient[K] } }>();
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

  /**
   * A request from a client was admitted (or let through in observe mode). The chain is read only for the
   * first request of a client in a batch, and kept only as far as a sighting keeps it (domain/sightings.ts).
   */
  sawClient(organizationId: string, projectId: string, serviceAccountId: string, fingerprint: string | undefined, chain: () => readonly Buffer[], certificateId: string | null): void {
    const key = `${organizationId}\u0000${projectId}\u0000${serviceAccountId}\u0000${fingerprint ?? ''}`;
    const now = this.now();
    const seen = this.clients.get(key);
    if (seen) {
      seen.client.requests++;
      seen.client.lastSeen = now;
      seen.client.certificateId = certificateId;
      return;
    }
    if (this.clients.size >= MAX_CLIENTS_PER_ORGANIZATION) return;
    this.clients.set(key, {
      organizationId,
      client: { projectId, serviceAccountId, fingerprint: fingerprint ?? '', subject: null, issuer: null, chain: fingerprint ? sightingChain(chain()) : [], certificateId, firstSeen: now, lastSeen: now, requests: 1 },
    });
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const clients = this.clients;
      if (clients.size > 0) {
        this.clients = new Map();
        const byOrganization = new Map<string, ObservedClient[]>();
        // the leaf's names are read here, off the request path, in slices: a batch may hold 10,000 new clients
        const slices = new Slices();
        for (const { organizationId, client } of clients.values()) {
          const names = client.chain[0] && leafNames(client.chain[0]);
          if (names) ({ subject: client.subject, issuer: client.issuer } = names);
          await slices.breathe();
          let list = byOrganization.get(organizationId);
          if (!list) byOrganization.set(organizationId, (list = []));
          list.push(client);
        }
        for (const [organizationId, list] of byOrganization) {
          await this.store.recordClients(organizationId, list, this.now() - REMEMBER_CLIENTS_S, MAX_CLIENTS_PER_ORGANIZATION).catch(() => undefined);
        }
      }
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
