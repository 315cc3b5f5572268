import { DEFAULT_ORGANIZATION_ID, type Actor } from './domain/model.js';
import type { Keys } from './state/keys.js';
import type { OrganizationSnapshot } from './state/snapshot.js';
import { State } from './state/state.js';
import type { TrustAnchors } from './state/trust-anchors.js';
import { openStore } from './store/open.js';
import type { Store, WriteTransaction } from './store/store.js';

/**
 * Everything a certgate process keeps while it runs: the store, and the
 * state over it (snapshots, keys, trust anchors, verdicts: every cache),
 * opened together and closed together. Services and both servers are given
 * one of these.
 */
export interface Runtime {
  readonly store: Store;
  /** every cache over the store, and the rule for what a read may be served */
  readonly state: State;
  readonly anchors: TrustAnchors;
  readonly keys: Keys;
  /** the clock every rule reads (tests move it) */
  now(): Date;
  nowSeconds(): number;
  /**
   * The organization's snapshot: never older than one this process has served. An admin request has confirmed it
   * is at least the store's revision when the request began (its key check asks `state.current`), so admin
   * reads through this reflect every write acknowledged before they began, by any process.
   */
  snapshot(organizationId: string): Promise<OrganizationSnapshot>;
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
  const nowSeconds = () => Math.floor(clock().getTime() / 1000);
  const state = new State(store, nowSeconds);
  return {
    store,
    state,
    anchors: state.anchors,
    keys: state.keys,
    now: clock,
    nowSeconds,
    snapshot: (organizationId) => state.known(organizationId),
    snapshotStats: (organizationId) => state.stats(organizationId),
    memo: (organizationId, key, derive) => state.memo(organizationId, key, derive),
    async write(by, work) {
      try {
        return await store.write(by, nowSeconds(), work);
      } finally {
        state.written(by.organizationId);
      }
    },
    async close() {
      await state.close();
      await store.close();
    },
  };
}
