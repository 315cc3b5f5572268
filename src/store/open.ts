import type { Store } from './store.js';
import { resolve } from 'node:path';
import { existingSqliteFile, openSqliteStore, SQLITE_FILE } from './sqlite.js';

/** The store a configuration names, for a start line: the SQLite file, or the PostgreSQL server and database without user, password or options. */
export function describeStore(config: { dataDir: string; databaseUrl: string | undefined }): string {
  if (!config.databaseUrl) return `sqlite:${resolve(config.dataDir, SQLITE_FILE)}`;
  try {
    const url = new URL(config.databaseUrl);
    return `postgresql://${url.host}${url.pathname}`;
  } catch {
    return 'postgresql';
  }
}

/** The store a configuration asks for, migrated and ready; with `existing`, only a SQLite store that is already there. */
export async function openStore(config: { dataDir: string; databaseUrl: string | undefined }, options: { existing?: boolean } = {}): Promise<Store> {
  if (config.databaseUrl) {
    const { openPostgresStore } = await import('./postgres.js');
    return migrated(openPostgresStore(config.databaseUrl));
  }
  if (options.existing) existingSqliteFile(config.dataDir);
  return migrated(openSqliteStore(config.dataDir));
}

/** The store once migrated; one whose migrations fail is closed (its pool, its file, its timers), not left open behind the error. */
async function migrated(store: Store): Promise<Store> {
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
