import type { OrganizationPatch } from '../domain/model.js';
import { isStoreUnavailable, type Store } from '../store/store.js';
import { OrganizationSnapshot } from './snapshot.js';

/** Whether a patch leaves the certificates in force untouched: anchors, activations and projects as they were. */
export function anchorsUnchanged(patch: OrganizationPatch): boolean {
  return patch.certificates.size === 0 && patch.activationsOf.size === 0 && patch.activationsIn.size === 0 && patch.projects.size === 0;
}

/** After a failed load, how long the last good snapshot is served before the database is tried again. */
const RETRY_AFTER_FAILURE_MS = 250;
/** Bounds what one snapshot remembers, whatever cursors clients send. */
const MAX_MEMOS_PER_SNAPSHOT = 256;

/**
 * Per-process cache of organization snapshots, marked stale on every local
 * write and every external change. A stale snapshot catches up through the
 * store's change feed: only the rows changed since its revision are read, so
 * the cost of a change does not grow with the organization. What was derived
 * from a snapshot (list pages, anchors in force) carries over when the change
 * cannot have touched it. When the database cannot be reached, the last
 * snapshot that was loaded keeps being served: a gateway goes on enforcing
 * the anchors it knew rather than opening or closing the gate.
 */
export class Snapshots {
  private readonly cache = new Map<string, Promise<OrganizationSnapshot>>();
  private readonly lastGood = new Map<string, OrganizationSnapshot>();
  private readonly listeners = new Set<() => void>();
  private readonly changeListeners = new Set<(patch: OrganizationPatch | null) => void>();
  private readonly patchListeners = new Set<(previous: OrganizationSnapshot, next: OrganizationSnapshot, patch: OrganizationPatch) => void>();
  private readonly stopWatching: () => void;
  private readonly memos = new WeakMap<OrganizationSnapshot, Map<string, unknown>>();
  /** for metrics: loads and catch-ups that succeeded, and when each organization's was last brought up to date (ms since the epoch) */
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
    const base = this.lastGood.get(organizationId);
    const loading: Promise<OrganizationSnapshot> = (base ? this.catchUp(organizationId, base) : this.loadWhole(organizationId)).then(
      (snapshot) => {
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

  private loadWhole(organizationId: string): Promise<OrganizationSnapshot> {
    return this.store.loadOrganization(organizationId).then((state) => {
      const snapshot = OrganizationSnapshot.of(state);
      // what changed is not known: anything may have
      for (const listener of this.changeListeners) listener(null);
      return snapshot;
    });
  }

  private async catchUp(organizationId: string, base: OrganizationSnapshot): Promise<OrganizationSnapshot> {
    const patch = await this.store.catchUp(organizationId, base.revision);
    if (!patch) return this.loadWhole(organizationId);
    if (patch.revision === base.revision) return base;
    const next = base.patched(patch);
    if (anchorsUnchanged(patch)) {
      const memos = this.memos.get(base);
      if (memos) this.memos.set(next, memos);
    }
    for (const listener of this.patchListeners) listener(base, next, patch);
    for (const listener of this.changeListeners) listener(patch);
    return next;
  }

  /**
   * Told of what a snapshot brought up to date found changed, before any
   * caller sees it: the patch, or null when it was loaded whole (anything may
   * have changed). Caches of what the store says beside the snapshot (keys)
   * drop only what a change can have touched.
   */
  onChanged(listener: (patch: OrganizationPatch | null) => void): void {
    this.changeListeners.add(listener);
  }

  /** Told when a snapshot was made from an older one by a patch, so what was derived from it can carry over. */
  onPatched(listener: (previous: OrganizationSnapshot, next: OrganizationSnapshot, patch: OrganizationPatch) => void): void {
    this.patchListeners.add(listener);
  }

  /** How many loads and catch-ups succeeded, and when this organization's snapshot was last brought up to date (null: never). */
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
    this.patchListeners.clear();
    this.changeListeners.clear();
  }
}
