import type { AdminKeyOwner, ProjectKeyOwner } from '../domain/model.js';
import type { Store } from '../store/store.js';
import { Keys } from './keys.js';
import { Presentations } from './presentations.js';
import type { OrganizationSnapshot } from './snapshot.js';
import { anchorsUnchanged, Snapshots, type SnapshotListener } from './snapshots.js';
import { TrustAnchors } from './trust-anchors.js';
import { Verdicts } from './verdicts.js';

/** A gateway request's project key, with the snapshot it is judged on. */
export interface KeyInSnapshot {
  readonly owner: ProjectKeyOwner;
  readonly snapshot: OrganizationSnapshot;
}

/** What kept-alive connections reuse: the key their Authorization header resolved to (a key's owner never changes). */
interface ConnectionKeys {
  header: string;
  project?: ProjectKeyOwner;
  admin?: AdminKeyOwner;
}

/**
 * Everything a process remembers over its store, and when each may be served; one per runtime, nothing at
 * module level. Snapshots decide what a read may be served (admin reads: at least the store's revision now; the
 * gateway: what the process has heard, caught up on every change notice); keys, trust anchors and verdicts are
 * derived from what the store says and never need expiring by hand: keys are fixed facts checked against the
 * snapshot, anchor lists and verdicts belong to the snapshot (or the anchor list) they were made from.
 */
export class State {
  readonly keys: Keys;
  readonly anchors = new TrustAnchors();
  readonly verdicts = new Verdicts();
  /** what ingresses said clients presented, by certificate header values (certgate decide, gateway --behind-ingress) */
  readonly presentations = new Presentations();
  private readonly snapshots: Snapshots;
  private readonly onConnection = new WeakMap<object, ConnectionKeys>();

  constructor(store: Store, nowSeconds: () => number) {
    this.keys = new Keys(store, nowSeconds);
    this.snapshots = new Snapshots(store, (previous, next, patch) => {
      if (anchorsUnchanged(patch)) this.anchors.carry(previous, next);
    });
  }

  /** For admin reads: a snapshot at least as new as the store's revision when asked. */
  current(organizationId: string): OrganizationSnapshot | Promise<OrganizationSnapshot> {
    return this.snapshots.current(organizationId);
  }

  /** What this process knows, never older than anything it has served (after `current`, at least that). */
  known(organizationId: string): Promise<OrganizationSnapshot> {
    return this.snapshots.known(organizationId);
  }

  /** A value derived from the known snapshot, computed once per snapshot and key. */
  memo<T>(organizationId: string, key: string, derive: (snapshot: OrganizationSnapshot) => T): Promise<T> {
    return this.snapshots.known(organizationId).then((snapshot) => this.snapshots.memo(snapshot, key, derive));
  }

  stats(organizationId: string): { readonly reloads: number; readonly loadedAt: number | null } {
    return this.snapshots.stats(organizationId);
  }

  /** Every new snapshot of any organization this process holds, from now on (a local write's included): answers what stops it. */
  onSnapshot(listener: SnapshotListener): () => void {
    return this.snapshots.onSnapshot(listener);
  }

  /** After a write of this process (committed or not): the next read catches up. */
  written(organizationId: string): void {
    this.snapshots.invalidate(organizationId);
  }

  /**
   * The owner of an admin key that exists, for an admin request. `current`: checked against a snapshot at least
   * the store's revision now (a key deleted through any process is refused at once); otherwise against what this
   * process knows. Answers without a promise when the connection's key is remembered and the snapshot current.
   */
  adminKey(header: string, token: string, connection: object | undefined, current: boolean): AdminKeyOwner | undefined | Promise<AdminKeyOwner | undefined> {
    const kept = connection && this.onConnection.get(connection);
    const owner = kept && kept.header === header && kept.admin ? kept.admin : this.keys.adminKey(token);
    const check = (found: AdminKeyOwner | undefined) => {
      if (!found) return undefined;
      if (connection && found !== kept?.admin) this.onConnection.set(connection, { header, admin: found });
      const exists = (snapshot: OrganizationSnapshot) => (snapshot.hasAdminKey(found.key.id) ? found : undefined);
      const snapshot = current ? this.snapshots.current(found.organizationId) : this.snapshots.known(found.organizationId);
      return snapshot instanceof Promise ? snapshot.then(exists) : exists(snapshot);
    };
    return owner instanceof Promise ? owner.then(check) : check(owner);
  }

  /**
   * A gateway request's project key and the snapshot to judge it on (bounded staleness: no read of the store when
   * the key is remembered). A key just read from the store may be newer than the snapshot: the snapshot catches up
   * once, so a project or service account made elsewhere moments ago is found. A kept-alive connection whose
   * Authorization header is unchanged reuses its key without parsing or hashing it again.
   */
  async projectKey(header: string | undefined, connection: object | undefined, tokenOf: (header: string | undefined) => string | undefined): Promise<KeyInSnapshot | 'no_key' | 'unknown_key'> {
    const kept = connection && this.onConnection.get(connection);
    let owner: ProjectKeyOwner;
    let fresh = false;
    if (kept && kept.header === header && kept.project) owner = kept.project;
    else {
      const token = tokenOf(header);
      if (token === undefined) return 'no_key';
      const resolved = await this.keys.projectKey(token);
      if (!resolved) return 'unknown_key';
      ({ owner, fresh } = resolved);
      if (connection && header !== undefined) this.onConnection.set(connection, { header, project: owner });
    }
    let snapshot = await this.snapshots.known(owner.organizationId);
    if (fresh && !(snapshot.project(owner.projectId) && snapshot.serviceAccount(owner.serviceAccountId))) {
      snapshot = await this.snapshots.caughtUp(owner.organizationId);
    }
    return { owner, snapshot };
  }

  async close(): Promise<void> {
    await this.keys.close();
    this.snapshots.close();
  }
}
