import type { Store } from './store.js';
import { openSqliteStore } from './sqlite.js';

/** The store a configuration asks for, migrated and ready. */
export async function openStore(config: { dataDir: string; databaseUrl: string | undefined }): Promise<Store> {
  if (config.databaseUrl) {
    const { openPostgresStore } = await import('./postgres.js');
    const store = openPostgresStore(config.databaseUrl);
    await store.migrate();
    return store;
  }
  const store = openSqliteStore(config.dataDir);
  await store.migrate();
  return store;
}
