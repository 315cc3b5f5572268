import type { OrganizationPatch } from '../domain/model.js';
import { isStoreUnavailable, StoreUnavailable, type Store } from '../store/store.js';
import { OrganizationSnapshot } from './snapshot.js';

/** Whether a patch leaves the certificates in force untouched: anchors, activations and projects as they were. */
export function anchorsUnchanged(patch: OrganizationPatch): boolean {
  return patch.certificates.size === 0 && patch.activationsOf.size === 0 && patch.activationsIn.size === 0 && patch.projects.size === 0;
}

/** After a failed load, how long the last good snapshot is served before the database is tried again. */
const RETRY_AFTER_FAILURE_MS = 250;
/** Bounds what one snapshot remembers, whatever cursors clients send. */
const MAX_MEMOS_PER_SNAPSHOT = 256;

/** Told when a snapshot was made from an older one by a patch, before any reader sees it: what was derived from the older can carry over. */
export type Carry = (previous: OrganizationSnapshot, next: OrganizationSnapshot, patch: OrganizationPatch) => void;

/** Told of every snapshot a load or catch-up brought that differs from the one before it. */
export type SnapshotListener = (organizationId: string, snapshot: OrganizationSnapshot) => void;

/**
 * Per-process snapshots of each organization, and the one rule for what a read may be served:
 *
 * - `current`: at least the store's revision as of the call (one indexed read of the organization's revision; a
 *   catch-up first when the snapshot is behind). Admin reads take this, so a read that begins after a write was
 *   acknowledged, by any worker or replica, reflects it. When the store cannot be read, it fails (503).
 * - `known`: what this process has heard of. Marked stale on every local write and on every change notice from
 *   other processes (SQLite: PRAGMA data_version, ~10 ms; PostgreSQL: LISTEN/NOTIFY), and then caught up at once,
 *   not at the next request. The gateway takes this: bounded staleness, no read of the store per request. When
 *   the store cannot be reached it is the last snapshot loaded: a gateway goes on enforcing the anchors it knew.
 *
 * Both only ever move forward: no reader is served a snapshot older than one this process has already served,
 * so whatever a process has seen removed stays removed, outages included. A stale snapshot catches up through
 * the store's change feed: only the rows changed since its revision are read.
 */
export class Snapshots {
  private readonly cache = new Map<string, Promise<OrganizationSnapshot>>();
  /** the newest snapshot loaded, per organization */
  private readonly newest = new Map<string, OrganizationSnapshot>();
  /** per organization: the last load begun, and one that waits for it to end before it starts */
  private readonly running = new Map<string, Promise<OrganizationSnapshot>>();
  private readonly waiting = new Map<string, Promise<OrganizationSnapshot>>();
  private readonly stopWatching: () => void;
  private readonly memos = new WeakMap<OrganizationSnapshot, Map<string, unknown>>();
  /** for metrics: loads and catch-ups that succeeded, and when each organization's was last brought up to date (ms since the epoch) */
  private loads = 0;
  private readonly loadedAt = new Map<string, number>();
  private readonly listeners = new Set<SnapshotListener>();

  constructor(
    private readonly store: Store,
    private readonly carry: Carry,
  ) {
    this.stopWatching = store.onExternalChange(() => this.invalidateAll());
  }

  /** What this process has heard of (bounded staleness): for the gateway. */
  known(organizationId: string): Promise<OrganizationSnapshot> {
    return this.cache.get(organizationId) ?? this.load(organizationId);
  }

  /** At least the store's current revision: for admin reads. Answers without a promise when the snapshot is current and the engine reads at once. */
  current(organizationId: string): OrganizationSnapshot | Promise<OrganizationSnapshot> {
    let revision: number | Promise<number>;
    try {
      revision = this.store.revision(organizationId);
    } catch (err) {
      return Promise.reject(err);
    }
    if (typeof revision !== 'number') return revision.then((r) => this.atLeast(organizationId, r));
    return this.atLeast(organizationId, revision);
  }

  private atLeast(organizationId: string, revision: number): OrganizationSnapshot | Promise<OrganizationSnapshot> {
    const newest = this.newest.get(organizationId);
    if (newest && newest.revision >= revision) return newest;
    return this.catchUpTo(organizationId, revision);
  }

  private async catchUpTo(organizationId: string, revision: number): Promise<OrganizationSnapshot> {
    // a load in flight may reach the revision already; one that began before the commit does not, and another follows it
    const pending = this.known(organizationId);
    let snapshot = await pending;
    if (snapshot.revision < revision) {
      if (this.cache.get(organizationId) === pending) this.cache.delete(organizationId);
      snapshot = await this.known(organizationId);
    }
    if (snapshot.revision < revision) {
      throw new StoreUnavailable(`the organization's snapshot could not be brought up to revision ${revision}`);
    }
    return snapshot;
  }

  /**
   * A value derived from the current snapshot, computed once per snapshot and
   * key: a snapshot never changes, so neither does anything derived from it.
   * Reads that repeat (the same list page, say) then cost a lookup.
   */
  memo<T>(snapshot: OrganizationSnapshot, key: string, derive: (snapshot: OrganizationSnapshot) => T): T {
    let values = this.memos.get(snapshot);
    if (!values) this.memos.set(snapshot, (values = new Map()));
    if (values.has(key)) return values.get(key) as T;
    const value = derive(snapshot);
    if (values.size < MAX_MEMOS_PER_SNAPSHOT) values.set(key, value);
    return value;
  }

  /** What this process has heard of, brought up to date with the store now (when it can be reached): for a reader that knows its snapshot may be behind. */
  caughtUp(organizationId: string): Promise<OrganizationSnapshot> {
    this.cache.delete(organizationId);
    return this.load(organizationId);
  }

  /**
   * Loads of one organization run one after another, so each reads a state at least as new as the one before: a
   * snapshot handed out is never older than one handed out earlier. A load asked for while one runs waits for it,
   * and asks made meanwhile share that one waiting load (it reads the newest state when it starts).
   */
  private load(organizationId: string): Promise<OrganizationSnapshot> {
    const waiting = this.waiting.get(organizationId);
    if (waiting) {
      this.cache.set(organizationId, waiting);
      return waiting;
    }
    const forget = () => {
      if (this.cache.get(organizationId) === loading) this.cache.delete(organizationId);
    };
    const running = this.running.get(organizationId);
    const run = () => {
      if (running && this.waiting.get(organizationId) === loading) this.waiting.delete(organizationId);
      const base = this.newest.get(organizationId);
      return base ? this.catchUp(organizationId, base) : this.loadWhole(organizationId);
    };
    // declared before it is made: `run` reads it, but only once the running load has ended
    let loading: Promise<OrganizationSnapshot>;
    loading = (running ? running.then(run, run) : run()).then(
      (snapshot) => {
        this.loads++;
        this.loadedAt.set(organizationId, Date.now());
        const previous = this.newest.get(organizationId);
        this.newest.set(organizationId, snapshot);
        if (snapshot !== previous) for (const listener of this.listeners) listener(organizationId, snapshot);
        return snapshot;
      },
      (err: unknown) => {
        const newest = this.newest.get(organizationId);
        if (!newest || !isStoreUnavailable(err)) {
          forget();
          throw err;
        }
        setTimeout(forget, RETRY_AFTER_FAILURE_MS).unref();
        return newest;
      },
    );
    if (running) this.waiting.set(organizationId, loading);
    this.running.set(organizationId, loading);
    const done = () => {
      if (this.running.get(organizationId) === loading) this.running.delete(organizationId);
    };
    loading.then(done, done);
    this.cache.set(organizationId, loading);
    return loading;
  }

  private loadWhole(organizationId: string): Promise<OrganizationSnapshot> {
    return this.store.loadOrganization(organizationId).then((state) => OrganizationSnapshot.of(state));
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
    this.carry(base, next, patch);
    return next;
  }

  /** How many loads and catch-ups succeeded, and when this organization's snapshot was last brought up to date (null: never). */
  stats(organizationId: string): { readonly reloads: number; readonly loadedAt: number | null } {
    return { reloads: this.loads, loadedAt: this.loadedAt.get(organizationId) ?? null };
  }

  /** After a local write: the next read catches up (at once, when something listens for new snapshots). */
  invalidate(organizationId: string): void {
    this.cache.delete(organizationId);
    if (this.listeners.size > 0) this.load(organizationId).catch(() => undefined);
  }

  /** Calls the listener with every new snapshot from now on (listeners must not throw); answers what stops it. */
  onSnapshot(listener: SnapshotListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Another process may have committed: every organization this process holds catches up now, so the gateway hears of it without waiting for a request. */
  invalidateAll(): void {
    this.cache.clear();
    for (const organizationId of this.newest.keys()) this.load(organizationId).catch(() => undefined);
  }

  close(): void {
    this.stopWatching();
  }
}
