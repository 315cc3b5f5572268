import { randomBytes } from 'node:crypto';
import type { AdminKeyOwner, ProjectKeyOwner } from '../domain/model.js';
import { grantedBy } from '../domain/permissions.js';
import { sha256Hex } from '../domain/x509/pem.js';
import type { Store } from '../store/store.js';

// Keys are stored only as SHA-256 hashes. A key is high-entropy random text,
// so a fast unsalted hash is the right tool: it makes lookup by hash a single
// index probe, and the hash is useless for logging in.

export function hashKey(key: string): string {
  return sha256Hex(key);
}

export function generateKey(prefix: 'sk-admin-' | 'sk-svcacct-'): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** What may be shown of a key: its prefix and last four characters. */
export function redactKey(key: string): string {
  const prefix = /^sk-[a-z]+-/.exec(key)?.[0] ?? '';
  return `${prefix}...${key.slice(-4)}`;
}

/** Keys remembered, at most, of each kind: past that the longest remembered is forgotten first. */
const MAX_REMEMBERED = 10_000;
const USE_FLUSH_MS = 1000;

/**
 * Resolves bearer keys to their owners. What a key is (its organization, id, project, service account,
 * permissions, expiry) is fixed when it is made, so an owner once read is remembered and never goes stale; whether
 * the key still exists is not remembered here but read from the organization's snapshot by whoever asks (an
 * admin key by its id, a project key by its service account, which it lives and dies with). So no change has
 * to expire anything here, and a key removed by a change a snapshot has seen is refused, outages included.
 * Only owners found are remembered: an unknown key is asked of the store each time.
 */
export class Keys {
  private readonly admin = new Remembered<AdminKeyOwner>();
  private readonly project = new Remembered<ProjectKeyOwner>();
  /** admin keys used since the last flush, and when each was last written as used */
  private readonly used = new Set<string>();
  private readonly lastWritten = new Map<string, number>();
  private readonly flusher: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.flusher = setInterval(() => void this.flushUse(), USE_FLUSH_MS).unref();
  }

  /** The owner of an admin key, if it was ever made (deleted or not: ask the snapshot); answered at once when remembered. */
  adminKey(key: string): Promise<AdminKeyOwner | undefined> | AdminKeyOwner | undefined {
    return this.admin.resolve(hashKey(key), async (hash) => {
      const found = await this.store.adminKeyByHash(hash);
      if (!found) return undefined;
      const k = found.key;
      return {
        organizationId: found.organizationId,
        key: { id: k.id, name: k.name, redactedValue: k.redactedValue },
        permissions: grantedBy(k.permissions),
        expiresAt: k.expiresAt,
      };
    });
  }

  /** The owner of a project key, and whether it was read from the store just now (the snapshot may not have caught up with it yet). */
  projectKey(key: string): Promise<Resolved<ProjectKeyOwner> | undefined> | Resolved<ProjectKeyOwner> {
    return this.project.resolveNoting(hashKey(key), (hash) => this.store.projectKeyOwner(hash));
  }

  /** Notes that an admin key was used: `last_used_at` is written in batches, at most once a minute per key, off the request path. */
  noteUse(keyId: string): void {
    const written = this.lastWritten.get(keyId);
    if (written !== undefined && this.nowSeconds() - written < 60) return;
    this.used.add(keyId);
  }

  private async flushUse(): Promise<void> {
    if (this.used.size === 0) return;
    const ids = [...this.used];
    this.used.clear();
    const now = this.nowSeconds();
    for (const id of ids) this.lastWritten.set(id, now);
    await this.store.touchAdminKeys(ids, now).catch(() => undefined); // a lost note of use is harmless
  }

  async close(): Promise<void> {
    clearInterval(this.flusher);
    await this.flushUse();
  }
}

export interface Resolved<T> {
  readonly owner: T;
  /** read from the store by this very call, not remembered from before */
  readonly fresh: boolean;
}

/** Owners by key hash, bounded (past the bound the longest remembered goes first). Only owners found are remembered. */
class Remembered<T> {
  private readonly owners = new Map<string, Resolved<T>>();

  resolve(hash: string, load: (hash: string) => Promise<T | undefined>): Promise<T | undefined> | T {
    const hit = this.owners.get(hash);
    if (hit) return hit.owner;
    return load(hash).then((owner) => owner && this.remember(hash, owner).owner);
  }

  resolveNoting(hash: string, load: (hash: string) => Promise<T | undefined>): Promise<Resolved<T> | undefined> | Resolved<T> {
    return this.owners.get(hash) ?? load(hash).then((owner) => owner && { owner: this.remember(hash, owner).owner, fresh: true });
  }

  private remember(hash: string, owner: T): Resolved<T> {
    if (this.owners.size >= MAX_REMEMBERED) this.owners.delete(this.owners.keys().next().value!);
    const resolved = { owner, fresh: false };
    this.owners.set(hash, resolved);
    return resolved;
  }
}
