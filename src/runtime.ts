import { DEFAULT_ORGANIZATION_ID, type Actor } from './domain/model.js';
import { KeyResolver } from './state/keys.js';
import type { OrganizationSnapshot } from './state/snapshot.js';
import { anchorsUnchanged, Snapshots } from './state/snapshots.js';
import { TrustAnchors } from './state/trust-anchors.js';
import { openStore } from './store/open.js';
import type { Store, WriteTransaction } from './store/store.js';

/**
 * Everything a certgate process keeps while it runs: the store, and the
 * caches over it (snapshots, trust anchors, keys), opened together and
 * closed together. Services and both servers are given one of these.
 */
export interface Runtime {
  readonly store: Store;
  readonly anchors: TrustAnchors;
  readonly keys: KeyResolver;
  /** the clock every rule reads (tests move it) */
  now(): Date;
  nowSeconds(): number;
  snapshot(organizationId: string): Promise<OrganizationSnapshot>;
  /** A fresh load, for when a reader knows its snapshot is behind the database (a key names a project it lacks). */
  reload(organizationId: string): Promise<OrganizationSnapshot>;
  /** For metrics: snapshots loaded so far, and when this organization's last one was loaded (ms since the epoch). */
  snapshotStats(organizationId: string): { readonly reloads: number; readonly loadedAt: number | null };
  /** A value derived from the current snapshot, computed once per snapshot and key. */
  memo<T>(organizationId: string, key: string, derive: (snapshot: OrganizationSnapshot) => T): Promise<T>;
  /** A write transaction for the actor's organization, its changes audited under the actor; the snapshot is dropped once it ends. */
  write<T>(by: Actor, work: (tx: WriteTransaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  readonly clock?: () => Date;
  /** open only a store that already exists (commands that read one), never make a new one */
  readonly existing?: boolean;
}

export async function openRuntime(config: { dataDir: string; databaseUrl: string | undefined }, options: RuntimeOptions = {}): Promise<Runtime> {
  const store = await openStore(config, { existing: options.existing });
  await store.ensureOrganization(DEFAULT_ORGANIZATION_ID, 'Default organization', Math.floor(Date.now() / 1000));
  return runtimeOver(store, options);
}

/** A runtime over a store that is already open; closing the runtime closes the store. */
export function runtimeOver(store: Store, options: RuntimeOptions = {}): Runtime {
  const clock = options.clock ?? (() => new Date());
  const snapshots = new Snapshots(store);
  const keys = new KeyResolver(store, snapshots, () => Math.floor(clock().getTime() / 1000));
  const anchors = new TrustAnchors();
  snapshots.onPatched((previous, next, patch) => {
    if (anchorsUnchanged(patch)) anchors.carry(previous, next);
  });
  return {
    store,
    anchors,
    keys,
    now: clock,
    nowSeconds: () => Math.floor(clock().getTime() / 1000),
    snapshot: (organizationId) => snapshots.get(organizationId),
    reload: (organizationId) => snapshots.reload(organizationId),
    snapshotStats: (organizationId) => snapshots.stats(organizationId),
    memo: (organizationId, key, derive) => snapshots.memo(organizationId, key, derive),
    async write(by, work) {
      try {
        return await store.write(by, Math.floor(clock().getTime() / 1000), work);
      } finally {
        snapshots.invalidate(by.organizationId);
      }
    },
    async close() {
      await keys.close();
      snapshots.close();
      await store.close();
    },
  };
}
