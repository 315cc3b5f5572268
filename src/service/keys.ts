import { randomBytes } from 'node:crypto';
import type { KeyOwner, ProjectKeyOwner } from '../domain/model.js';
import { sha256Hex } from '../domain/pem.js';
import type { Store } from '../store/store.js';
import type { Snapshots } from './core.js';

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
  private admin = new Map<string, KeyOwner>();
  private project = new Map<string, ProjectKeyOwner>();

  constructor(
    private readonly store: Store,
    snapshots: Snapshots,
  ) {
    snapshots.onInvalidate(() => {
      this.admin = new Map();
      this.project = new Map();
    });
  }

  adminKey(key: string): Promise<KeyOwner | undefined> | KeyOwner {
    return this.resolve(key, this.admin, (hash) => this.store.adminKeyOwner(hash));
  }

  projectKey(key: string): Promise<ProjectKeyOwner | undefined> | ProjectKeyOwner {
    return this.resolve(key, this.project, (hash) => this.store.projectKeyOwner(hash));
  }

  private resolve<T>(key: string, cache: Map<string, T>, load: (hash: string) => Promise<T | undefined>): Promise<T | undefined> | T {
    const hash = hashKey(key);
    const hit = cache.get(hash);
    if (hit) return hit;
    return load(hash).then((owner) => {
      if (owner && cache.size < MAX_CACHED) cache.set(hash, owner);
      return owner;
    });
  }
}
