import { randomBytes } from 'node:crypto';
import type { KeyOwner, ProjectKeyOwner } from '../domain/model.js';
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
  const dash = key.lastIndexOf('-', 12);
  return `${key.slice(0, dash + 1)}...${key.slice(-4)}`;
}

const MAX_CACHED = 10_000;

/**
 * Resolves bearer keys to their owners, caching hits in memory. The cache is
 * dropped whenever any snapshot is (a local write or another process's commit),
 * so a deleted key stops working as soon as the deletion is seen.
 */
export class KeyResolver {
  private readonly admin = new KeyCache<KeyOwner>();
  private readonly project = new KeyCache<ProjectKeyOwner>();
  /** Bumped whenever the keys may have changed: a resolution made under one generation holds while it lasts. */
  generation = 0;

  constructor(
    private readonly store: Store,
    snapshots: Snapshots,
  ) {
    snapshots.onInvalidate(() => {
      this.generation++;
      this.admin.expire();
      this.project.expire();
    });
  }

  adminKey(key: string): Promise<KeyOwner | undefined> | KeyOwner {
    return this.admin.resolve(hashKey(key), (hash) => this.store.adminKeyOwner(hash));
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
    return load(hash).then(
      (owner) => {
        if (owner && this.current.size < MAX_CACHED) this.current.set(hash, owner);
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
