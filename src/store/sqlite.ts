import BetterSqlite3 from 'better-sqlite3';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SqliteDatabase } from 'kysely';
import { makeDataDir, narrow, privateFile } from './data-dir.js';
import { Kysely, SqliteDialect } from './kysely.js';
import type { Database } from './schema.js';
import { SqlStore } from './sql-store.js';
import { StoreMissing, StoreUnavailable } from './store.js';

export const SQLITE_FILE = 'certgate.db';

/** The store file of a data directory that must already hold one: a mistyped directory is an error, never a new, empty store. */
export function existingSqliteFile(dataDir: string): string {
  const file = join(dataDir, SQLITE_FILE);
  if (!existsSync(file)) throw new StoreMissing(`no certgate store in ${JSON.stringify(dataDir)} (no ${SQLITE_FILE}): give the --data-dir the server runs with`);
  return file;
}

/**
 * How often to ask SQLite whether another process has committed (PRAGMA data_version): a read of the WAL index
 * in shared memory, no system call, so asking often costs little and brings another process's change within ~10 ms.
 */
const WATCH_INTERVAL_MS = 10;
/** How often the file is checked to be still ours (stat, and a read of its header): every this many ticks (100 ms). */
const FILE_CHECK_EVERY = 10;

const MAGIC = Buffer.from('SQLite format 3\u0000', 'latin1');

/** Does the file on disk still start as an SQLite database? (Read past SQLite's page cache, which may hide a damaged header.) */
function headerIntact(file: string): boolean {
  const header = Buffer.alloc(MAGIC.length);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    return readSync(fd, header, 0, header.length, 0) === header.length && header.equals(MAGIC);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The file a connection opened, by device and inode: a file moved away or replaced is no longer the store. */
function identity(file: string): string | undefined {
  try {
    const st = statSync(file);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** Prepared statements kept per connection, at most (Kysely's SQL strings repeat; an `in (…)` list of each length is one more). */
export const KEPT_STATEMENTS = 500;

/**
 * The connection as Kysely sees it, with its prepared statements kept: Kysely's SQLite driver prepares every query
 * afresh, and parsing and planning the same SQL again was about 12% of serve's CPU in a loop of writes. A statement is
 * reused only once its last use has returned (better-sqlite3 runs it synchronously; certgate never streams rows).
 */
export function keepingStatements(raw: BetterSqlite3.Database): SqliteDatabase {
  const kept = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => raw.close(),
    prepare(sql: string) {
      let statement = kept.get(sql);
      if (!statement) {
        statement = raw.prepare(sql);
        if (kept.size >= KEPT_STATEMENTS) kept.delete(kept.keys().next().value!);
        kept.set(sql, statement);
      }
      return statement;
    },
  };
}

export function openSqliteStore(dataDir: string): SqlStore {
  makeDataDir(dataDir);
  const file = join(dataDir, SQLITE_FILE);
  // SQLite gives the -wal and -shm files the database file's mode: a 0600 database keeps all three private
  privateFile(file);
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = WAL');
  for (const companion of ['-wal', '-shm']) narrow(file + companion);
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 10000');
  const dataVersion = raw.prepare('PRAGMA data_version').pluck();
  // what snapshots are made of changes only with an organization's revision: counters and sightings written by
  // gateways commit too, and must not make every process reload
  // (prepared on first use: on a new file the table appears only when the migrations have run)
  let revisions: BetterSqlite3.Statement | undefined;
  const revisionTotal = (): unknown => {
    try {
      revisions ??= raw.prepare('SELECT coalesce(sum(revision), 0) FROM organizations').pluck();
      return revisions.get();
    } catch {
      return Symbol('unknown'); // not migrated yet: every commit counts as a change
    }
  };
  let revisionOf: BetterSqlite3.Statement | undefined;
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: keepingStatements(raw) }) });

  // One monitor per store: it tells listeners of other processes' commits, and keeps `healthy` true only while
  // the file at the path is still the one this connection opened and SQLite can read it. Every check it makes costs
  // the same however large the store grows (a read of the WAL index, a stat, 16 bytes of header): a page corrupted
  // deeper in the file is found by the query that reads it (SQLITE_CORRUPT, an outage like any other), not by a
  // periodic scan on the event loop, whose cost grew with the store (PRAGMA quick_check held the loop 255 ms at
  // 400,000 audit events). When it turns unhealthy
  // writes are refused (503), /readyz says 503, and the caches keep serving what was last read; when it recovers,
  // everything is reloaded.
  const opened = identity(file);
  const listeners = new Set<() => void>();
  let healthy = true;
  let seenVersion: unknown;
  let seenRevisions: unknown;
  let ticks = 0;
  const tick = () => {
    let version: unknown;
    let revision: unknown = seenRevisions;
    const fileCheck = ++ticks % FILE_CHECK_EVERY === 0;
    if (!healthy && !fileCheck) return; // an unhealthy file is looked at again at the next file check
    let ok = fileCheck ? identity(file) === opened && headerIntact(file) : true;
    try {
      version = dataVersion.get();
      if (version !== seenVersion) revision = revisionTotal();
    } catch {
      ok = false;
    }
    const recovered = ok && !healthy;
    healthy = ok;
    if (!ok) return;
    seenVersion = version;
    if (recovered || revision !== seenRevisions) {
      seenRevisions = revision;
      for (const listener of listeners) listener();
    }
  };
  tick();
  const timer = setInterval(tick, WATCH_INTERVAL_MS);
  timer.unref();
  const usable = () => {
    if (identity(file) !== opened) {
      healthy = false;
      throw new StoreUnavailable(`the SQLite file ${file} is no longer the one certgate opened (moved, removed or replaced)`);
    }
    if (!healthy) throw new StoreUnavailable(`the SQLite file ${file} cannot be read as a database`);
  };

  return new SqlStore({
    db,
    // IMMEDIATE takes the write lock at BEGIN (waiting under busy_timeout), so a
    // transaction never reads a snapshot it then cannot upgrade to a write.
    beginWrite: 'begin immediate',
    // a deferred transaction reads from one WAL snapshot from its first read on
    beginRead: 'begin',
    lockMigrations: async () => undefined,
    beforeCommit: async () => undefined,
    beforeTransaction: usable,
    revisionNow(organizationId) {
      // inside an open transaction this connection would see that transaction's view, not the latest commit:
      // such a read waits its turn through Kysely instead
      if (raw.inTransaction) return undefined;
      if (!healthy) throw new StoreUnavailable(`the SQLite file ${file} cannot be used now`);
      revisionOf ??= raw.prepare('SELECT revision FROM organizations WHERE id = ?').pluck();
      return Number(revisionOf.get(organizationId) ?? 0);
    },
    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    ready: () => healthy,
    async close() {
      clearInterval(timer);
      await db.destroy();
    },
  });
}
