import { Kysely, PostgresDialect, sql } from './kysely.js';
import pg from 'pg';
import type { Database } from './schema.js';
import { SqlStore } from './sql-store.js';

const CHANNEL = 'certgate_changes';
/** Safety net behind LISTEN/NOTIFY: everything is reloaded this often anyway. */
const FULL_REFRESH_MS = 30_000;
const RECONNECT_MS = 500;

// int8 columns hold Unix seconds: well within a JavaScript number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function openPostgresStore(url: string, options: { poolSize?: number; statementTimeoutMs?: number } = {}): SqlStore {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    connectionTimeoutMillis: 5_000,
  });
  pool.on('error', () => undefined); // an idle client's error; the pool replaces it
  // A client checked out between two queries (inside a transaction) has no listener of the pool's: a backend
  // terminated then would raise an uncaught 'error'. Its next query fails instead (an outage, a 503), and the
  // pool drops it when it comes back unqueryable.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const listeners = new Set<Listener>();

  return new SqlStore({
    db,
    beginWrite: 'begin',
    // READ COMMITTED would let each of the load's statements see a different commit
    beginRead: 'begin isolation level repeatable read read only',
    async lockMigrations(conn) {
      await sql`select pg_advisory_xact_lock(hashtext('certgate_migrations'))`.execute(conn);
    },
    async beforeCommit(conn, organizationId) {
      // Delivered to every listener when, and only if, the transaction commits.
      await sql`select pg_notify(${CHANNEL}, ${organizationId})`.execute(conn);
    },
    watch(onChange) {
      const listener = listen(url, onChange);
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
        listener.stop();
      };
    },
    ready: () => [...listeners].every((l) => l.connected()),
    async close() {
      for (const listener of listeners) listener.stop();
      await db.destroy();
    },
  });
}

interface Listener {
  connected(): boolean;
  stop(): void;
}

/** A dedicated LISTEN connection that reconnects by itself; every (re)connect counts as a change. */
function listen(url: string, onChange: () => void): Listener {
  let stopped = false;
  let listening = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const refresh = setInterval(onChange, FULL_REFRESH_MS);
  refresh.unref();

  const connect = () => {
    if (stopped) return;
    const c = new pg.Client({ connectionString: url });
    client = c;
    const fail = () => {
      if (client !== c) return;
      client = undefined;
      listening = false;
      c.removeAllListeners('notification');
      c.end().catch(() => undefined);
      if (!stopped) {
        retry = setTimeout(connect, RECONNECT_MS);
        retry.unref();
      }
    };
    c.on('error', fail);
    c.on('end', fail);
    c.on('notification', () => onChange());
    c.connect()
      .then(() => c.query(`LISTEN ${CHANNEL}`))
      .then(() => {
        if (client !== c) return;
        listening = true;
        onChange();
      }, fail);
  };
  connect();

  return {
    connected: () => listening,
    stop() {
      stopped = true;
      listening = false;
      clearInterval(refresh);
      if (retry) clearTimeout(retry);
      const c = client;
      client = undefined;
      c?.end().catch(() => undefined);
    },
  };
}
