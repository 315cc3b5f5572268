import type { Store } from './store.js';
import { existingSqliteFile, openSqliteStore } from './sqlite.js';

/** The store a configuration asks for, migrated and ready; with `existing`, only a SQLite store that is already there. */
export async function openStore(config: { dataDir: string; databaseUrl: string | undefined }, options: { existing?: boolean } = {}): Promise<Store> {
  if (config.databaseUrl) {
    const { openPostgresStore } = await import('./postgres.js');
    const store = openPostgresStore(config.databaseUrl);
    await store.migrate();
    return store;
  }
  if (options.existing) existingSqliteFile(config.dataDir);
  const store = openSqliteStore(config.dataDir);
  await store.migrate();
  return store;
}
