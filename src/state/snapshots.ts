import { isStoreUnavailable, type Store } from '../store/store.js';
import { OrganizationSnapshot } from './snapshot.js';

/** After a failed load, how long the last good snapshot is served before the database is tried again. */
const RETRY_AFTER_FAILURE_MS = 250;
/** Bounds what one snapshot remembers, whatever cursors clients send. */
const MAX_MEMOS_PER_SNAPSHOT = 256;

/**
 * Per-process cache of organization snapshots, dropped on every local write
 * and every external change. When the database cannot be reached, the last
 * snapshot that was loaded keeps being served: a gateway goes on enforcing
 * the anchors it knew rather than opening or closing the gate.
 */
export class Snapshots {
  private readonly cache = new Map<string, Promise<OrganizationSnapshot>>();
  private readonly lastGood = new Map<string, OrganizationSnapshot>();
  private readonly listeners = new Set<() => void>();
  private readonly stopWatching: () => void;
  private readonly memos = new WeakMap<OrganizationSnapshot, Map<string, unknown>>();
  /** for metrics: loads that succeeded, and when each organization's newest snapshot was loaded (ms since the epoch) */
  private loads = 0;
  private readonly loadedAt = new Map<string, number>();

  constructor(private readonly store: Store) {
    this.stopWatching = store.onExternalChange(() => this.invalidateAll());
  }

  get(organizationId: string): Promise<OrganizationSnapshot> {
    return this.cache.get(organizationId) ?? this.load(organizationId);
  }

  /**
   * A value derived from the current snapshot, computed once per snapshot and
   * key: a snapshot never changes, so neither does anything derived from it.
   * Reads that repeat (the same list page, say) then cost a lookup.
   */
  async memo<T>(organizationId: string, key: string, derive: (snapshot: OrganizationSnapshot) => T): Promise<T> {
    const snapshot = await this.get(organizationId);
    let values = this.memos.get(snapshot);
    if (!values) this.memos.set(snapshot, (values = new Map()));
    if (values.has(key)) return values.get(key) as T;
    const value = derive(snapshot);
    if (values.size < MAX_MEMOS_PER_SNAPSHOT) values.set(key, value);
    return value;
  }

  /** A fresh load, for when a reader knows its snapshot is behind the database (a key names a project it lacks). */
  reload(organizationId: string): Promise<OrganizationSnapshot> {
    this.cache.delete(organizationId);
    return this.load(organizationId);
  }

  private load(organizationId: string): Promise<OrganizationSnapshot> {
    const forget = () => {
      if (this.cache.get(organizationId) === loading) this.cache.delete(organizationId);
    };
    const loading: Promise<OrganizationSnapshot> = this.store.loadOrganization(organizationId).then(
      (state) => {
        const snapshot = new OrganizationSnapshot(state);
        // a load that began before a later one may finish after it: keep the newest as the fallback
        const last = this.lastGood.get(organizationId);
        if (!last || last.revision <= snapshot.revision) this.lastGood.set(organizationId, snapshot);
        this.loads++;
        this.loadedAt.set(organizationId, Date.now());
        return snapshot;
      },
      (err: unknown) => {
        const last = this.lastGood.get(organizationId);
        if (!last || !isStoreUnavailable(err)) {
          forget();
          throw err;
        }
        setTimeout(forget, RETRY_AFTER_FAILURE_MS).unref();
        return last;
      },
    );
    this.cache.set(organizationId, loading);
    return loading;
  }

  /** How many snapshots this process has loaded, and when it last loaded one of this organization (null: never). */
  stats(organizationId: string): { readonly reloads: number; readonly loadedAt: number | null } {
    return { reloads: this.loads, loadedAt: this.loadedAt.get(organizationId) ?? null };
  }

  invalidate(organizationId: string): void {
    this.cache.delete(organizationId);
    for (const listener of this.listeners) listener();
  }

  invalidateAll(): void {
    this.cache.clear();
    for (const listener of this.listeners) listener();
  }

  /** Told whenever a snapshot may have gone stale. */
  onInvalidate(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.stopWatching();
    this.listeners.clear();
  }
}
