import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { tempDir } from './server.js';

/**
 * The stores every store-level and API test runs against. SQLite always;
 * PostgreSQL when CERTGATE_TEST_DATABASE_URL names a server (.ci/run sets it),
 * each test getting a database of its own that is dropped afterwards.
 */
export interface EngineUnderTest {
  readonly name: 'sqlite' | 'postgres';
  /** a fresh, empty location for a store */
  fresh(): Promise<{ dataDir: string; databaseUrl?: string; drop(): Promise<void> }>;
}

export const POSTGRES_URL = process.env.CERTGATE_TEST_DATABASE_URL || undefined;

const sqlite: EngineUnderTest = {
  name: 'sqlite',
  async fresh() {
    const dir = tempDir();
    return { dataDir: dir.path, drop: async () => dir.remove() };
  },
};

const postgres: EngineUnderTest = {
  name: 'postgres',
  async fresh() {
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    const name = `certgate_test_${randomBytes(6).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(POSTGRES_URL!);
    url.pathname = `/${name}`;
    return {
      dataDir: '',
      databaseUrl: url.toString(),
      async drop() {
        const c = new pg.Client({ connectionString: POSTGRES_URL });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      },
    };
  },
};

export const engines: readonly EngineUnderTest[] = POSTGRES_URL ? [sqlite, postgres] : [sqlite];

if (!POSTGRES_URL && !process.env.CERTGATE_POSTGRES_NOTICE_SHOWN) {
  process.env.CERTGATE_POSTGRES_NOTICE_SHOWN = '1';
  process.stderr.write(
    'note: PostgreSQL tests skipped: set CERTGATE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres to run every store test on PostgreSQL too.\n',
  );
}
