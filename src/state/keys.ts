import { randomBytes } from 'node:crypto';
import type { AdminKeyOwner, ProjectKeyOwner } from '../domain/model.js';
import { grantedBy } from '../domain/permissions.js';
import { sha256Hex } from '../domain/x509/pem.js';
import { isStoreUnavailable, type Store } from '../store/store.js';
import type { Snapshots } from './snapshots.js';

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

const MAX_CACHED = 10_000;
const USE_FLUSH_MS = 1000;

/**
 * Resolves bearer keys to their owners, caching hits in memory. Admin keys
 * are dropped whenever any snapshot is (a local write or another process's
 * commit). Project keys are dropped when a snapshot brought up to date finds
 * keys, service accounts or projects changed (or was loaded whole), so
 * traffic elsewhere does not make every connection resolve its key again; the
 * gateway asks again when its snapshot's catching up moved the generation, so
 * a deleted key stops working as soon as the deletion is seen.
 */
export class KeyResolver {
  private readonly admin = new KeyCache<AdminKeyOwner>();
  private readonly project = new KeyCache<ProjectKeyOwner>();
  /** Bumped whenever the project keys may have changed: a resolution made under one generation holds while it lasts. */
  generation = 0;
  /** admin keys used since the last flush, and when each was last written as used */
  private readonly used = new Set<string>();
  private readonly lastWritten = new Map<string, number>();
  private readonly flusher: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    snapshots: Snapshots,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    snapshots.onInvalidate(() => this.admin.expire());
    snapshots.onChanged((patch) => {
      if (patch && !patch.keys && patch.serviceAccounts.size === 0 && patch.projects.size === 0) return;
      this.generation++;
      this.project.expire();
    });
    this.flusher = setInterval(() => void this.flushUse(), USE_FLUSH_MS).unref();
  }

  adminKey(key: string): Promise<AdminKeyOwner | undefined> | AdminKeyOwner {
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

  projectKey(key: string): Promise<ProjectKeyOwner | undefined> | ProjectKeyOwner {
    return this.project.resolve(hashKey(key), (hash) => this.store.projectKeyOwner(hash));
  }
}

/**
 * Hits are served from memory until the next change. Expired entries are kept
 * one generation longer, used only when the database cannot be reached: a key
 * that worked keeps working through an outage, and nothing new gets in.
 */
class KeyCache<T> {
  private current = new Map<string, T>();
  private previous = new Map<string, T>();

  expire(): void {
    if (this.current.size > 0) this.previous = this.current;
    this.current = new Map();
  }

  resolve(hash: string, load: (hash: string) => Promise<T | undefined>): Promise<T | undefined> | T {
    const hit = this.current.get(hash);
    if (hit) return hit;
    const asked = this.current;
    return load(hash).then(
      (owner) => {
        // an answer read before the cache expired may predate the change that expired it: used once, not kept
        if (owner && asked === this.current && this.current.size < MAX_CACHED) this.current.set(hash, owner);
        return owner;
      },
      (err: unknown) => {
        const stale = this.previous.get(hash);
        if (stale && isStoreUnavailable(err)) return stale;
        throw err;
      },
    );
  }
}
