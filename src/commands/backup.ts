import BetterSqlite3 from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config.js';
import { migrations } from '../store/migrations/index.js';
import { existingSqliteFile, SQLITE_FILE } from '../store/sqlite.js';

// `certgate backup FILE` and `certgate restore FILE`, for the embedded SQLite store. A backup is taken from a
// running store with SQLite's online backup API: it reads one consistent snapshot of the database while servers go
// on writing to it (WAL readers never block writers), so it holds every write committed before it began. A restore
// puts such a copy in place of the store, only while no certgate process has the store open, keeping the store it
// replaces beside it. PostgreSQL is backed up with its own tools (pg_dump / pg_restore; see the README).

export const BACKUP_HELP = `Usage: certgate backup [--data-dir DIR] FILE

Writes a consistent copy of the SQLite store in DIR (default ./data, or CERTGATE_DATA_DIR) to FILE, while servers
keep running. FILE must not exist; it is created readable by its owner only (0600).
For a PostgreSQL store use pg_dump (see the README's "Running in production").
`;

export const RESTORE_HELP = `Usage: certgate restore [--data-dir DIR] FILE

Replaces the SQLite store in DIR (default ./data, or CERTGATE_DATA_DIR) with the backup FILE. Every certgate process
using DIR must be stopped first (restore refuses otherwise). The store it replaces is kept as
certgate.db.before-restore-<time> in DIR. Migrations run, as on any upgrade, when a server next starts.
`;

interface Io {
  readonly out: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

function parse(argv: readonly string[], env: NodeJS.ProcessEnv, command: string): { dataDir: string; file: string } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { 'data-dir': { type: 'string' }, 'database-url': { type: 'string' } }, strict: true, allowPositionals: true });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message.split(/\.\s/)[0]} (see certgate ${command} --help)`);
  }
  if (parsed.values['database-url'] !== undefined || (env.CERTGATE_DATABASE_URL && parsed.values['data-dir'] === undefined)) {
    throw new ConfigError(`certgate ${command} works on the embedded SQLite store; for PostgreSQL use pg_dump and pg_restore (see the README's "Running in production")`);
  }
  if (parsed.positionals.length !== 1) throw new ConfigError(`certgate ${command} takes one FILE (see certgate ${command} --help)`);
  const dataDir = parsed.values['data-dir'] ?? (env.CERTGATE_DATA_DIR || './data');
  return { dataDir, file: resolve(parsed.positionals[0]!) };
}

/** Tables a certgate store has from its first migration on: a file without them is not a certgate store. */
const REQUIRED_TABLES = ['organizations', 'certificates', 'projects'];

/** Opens a file read-only and checks that it is an intact certgate store that this version can run; returns its last migration. */
function inspect(file: string): string {
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new ConfigError(`${file} cannot be opened as an SQLite database (${(err as Error).message})`);
  }
  try {
    const check = db.prepare('PRAGMA integrity_check(1)').pluck().get();
    if (check !== 'ok') throw new ConfigError(`${file} fails SQLite's integrity check: ${String(check)}`);
    const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
    const missing = REQUIRED_TABLES.filter((t) => !tables.has(t));
    if (missing.length > 0) throw new ConfigError(`${file} is not a certgate store (no ${missing.join(', ')} table)`);
    const applied = tables.has('certgate_migrations') ? (db.prepare('SELECT name FROM certgate_migrations ORDER BY name').pluck().all() as string[]) : [];
    const known = new Set(migrations.map((m) => m.name));
    const newer = applied.filter((name) => !known.has(name));
    if (newer.length > 0) throw new ConfigError(`${file} was written by a newer certgate (migration ${newer.join(', ')}); restore it with that version or a later one`);
    return applied.at(-1) ?? 'none';
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${file} cannot be read as a certgate store (${(err as Error).message})`);
  } finally {
    db.close();
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function runBackup(argv: readonly string[], io: Io): Promise<number> {
  const { dataDir, file } = parse(argv, io.env, 'backup');
  const source = existingSqliteFile(dataDir);
  if (existsSync(file)) throw new ConfigError(`${file} already exists: choose a new file for the backup`);
  if (!existsSync(dirname(file))) throw new ConfigError(`the directory ${dirname(file)} does not exist`);
  const db = new BetterSqlite3(source, { fileMustExist: true, timeout: 10_000 });
  try {
    // the rest of the database in one step after the first: one read snapshot, so a write committed meanwhile
    // (which would restart a page-by-page copy) cannot keep a backup of a busy store from finishing
    await db.backup(file, { progress: () => 0x7fffffff });
  } catch (err) {
    rmSync(file, { force: true });
    throw new ConfigError(`the backup could not be written to ${file} (${(err as Error).message})`);
  } finally {
    db.close();
  }
  chmodSync(file, 0o600);
  fsyncPath(file);
  const migration = inspect(file);
  io.out(`certgate: backed up ${source} to ${file} (schema at ${migration})\n`);
  return 0;
}

/**
 * Takes the store from every other process, or refuses. Leaving WAL mode needs every other connection closed
 * (an idle server's connection holds no lock on the file itself, only on the WAL index), so it is the test of
 * "no certgate process has the store open"; the exclusive transaction that follows keeps a process that starts
 * meanwhile waiting until the swap is done.
 */
function lockStore(file: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(file, { fileMustExist: true, timeout: 0 });
  try {
    if (db.pragma('journal_mode = DELETE', { simple: true }) !== 'delete') throw Object.assign(new Error('still in WAL mode'), { code: 'SQLITE_BUSY' });
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new ConfigError(`a certgate process is using the store in ${JSON.stringify(dirname(file))}: stop every serve and gateway on it, then restore`);
    }
    throw new ConfigError(`the store ${file} cannot be locked (${(err as Error).message})`);
  }
}

export async function runRestore(argv: readonly string[], io: Io): Promise<number> {
  const { dataDir, file } = parse(argv, io.env, 'restore');
  if (!existsSync(file)) throw new ConfigError(`no backup at ${file}`);
  const migration = inspect(file);
  const target = join(dataDir, SQLITE_FILE);
  if (!existsSync(dataDir)) throw new ConfigError(`the data directory ${JSON.stringify(dataDir)} does not exist`);
  const incoming = `${target}.restoring`;
  rmSync(incoming, { force: true });
  const lock = existsSync(target) ? lockStore(target) : undefined;
  let kept: string | undefined;
  try {
    const from = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
    try {
      await from.backup(incoming, { progress: () => 0x7fffffff });
    } finally {
      from.close();
    }
    chmodSync(incoming, 0o600);
    fsyncPath(incoming);
    if (lock) {
      kept = `${target}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      // out of WAL mode, the file is the whole store: the kept copy is complete
      lock.exec('COMMIT');
      lock.close();
      renameSync(target, kept);
    }
    for (const side of ['-wal', '-shm']) rmSync(target + side, { force: true });
    renameSync(incoming, target);
    fsyncPath(dataDir);
  } catch (err) {
    if (lock?.open) lock.close();
    // put the store it was replacing back if the swap stopped half-way
    if (kept && !existsSync(target)) renameSync(kept, target);
    rmSync(incoming, { force: true });
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`the restore did not complete (${(err as Error).message}); the store in ${JSON.stringify(dataDir)} is unchanged`);
  }
  io.out(`certgate: restored ${file} into ${target} (schema at ${migration}; migrations run when a server starts)${kept ? `; the store it replaced is kept as ${kept}` : ''}\n`);
  return 0;
}
