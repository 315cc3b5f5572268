import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';
import { SqlStore } from './sql-store.js';

export const SQLITE_FILE = 'certgate.db';

/** How often to ask SQLite whether another process has committed (PRAGMA data_version). */
const WATCH_INTERVAL_MS = 100;

export function openSqliteStore(dataDir: string): SqlStore {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, SQLITE_FILE);
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 10000');
  const dataVersion = raw.prepare('PRAGMA data_version').pluck();
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });

  return new SqlStore({
    db,
    // IMMEDIATE takes the write lock at BEGIN (waiting under busy_timeout), so a
    // transaction never reads a snapshot it then cannot upgrade to a write.
    beginWrite: 'begin immediate',
    // a deferred transaction reads from one WAL snapshot from its first read on
    beginRead: 'begin',
    lockMigrations: async () => undefined,
    beforeCommit: async () => undefined,
    watch(listener) {
      // data_version changes when any other connection commits to the file.
      let seen = dataVersion.get();
      const timer = setInterval(() => {
        const now = dataVersion.get();
        if (now !== seen) {
          seen = now;
          listener();
        }
      }, WATCH_INTERVAL_MS);
      timer.unref();
      return () => clearInterval(timer);
    },
    ready: () => true,
    async close() {
      await db.destroy();
    },
  });
}
