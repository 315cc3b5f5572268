// Fresh stores for the benchmarks that run on both engines (SQLite in a temporary data directory, PostgreSQL in a
// database made for the run and dropped after it), and seeding them in-process through certgate's own services
// and admin API (Fastify's inject), the way an operator would: seeding is never part of a measured window.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { buildApp } from '../../src/api/app.js';
import { seedAdminKey } from '../../src/commands/serve.js';
import { DEFAULT_ORGANIZATION_ID, type Actor } from '../../src/domain/model.js';
import { openRuntime } from '../../src/runtime.js';
import { createProject } from '../../src/services/projects.js';
import { createServiceAccount } from '../../src/services/service-accounts.js';
import { log } from './harness.js';

export type Engine = 'sqlite' | 'postgres';

/** The server to make a fresh database on (trust auth on 127.0.0.1). */
export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface Place {
  readonly engine: Engine;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  /** the store flags for `certgate serve|gateway` */
  readonly args: readonly string[];
  /** drops the PostgreSQL database (the SQLite directory goes with the temporary directory) */
  drop(): Promise<void>;
  /** the pids of the PostgreSQL backends connected to this database now (their CPU is the store's cost); none for SQLite */
  backendPids(): Promise<number[]>;
}

export function enginesFromEnv(): Engine[] {
  const names = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',').filter(Boolean);
  for (const name of names) if (name !== 'sqlite' && name !== 'postgres') throw new Error(`BENCH_ENGINES: unknown engine ${name}`);
  return names as Engine[];
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A store nobody has used: a new directory under `tmp`, or a new PostgreSQL database. */
export async function freshPlace(engine: Engine, tmp: string, name: string): Promise<Place> {
  const dataDir = join(tmp, `data-${name}-${engine}`);
  if (engine === 'sqlite') return { engine, dataDir, databaseUrl: undefined, args: ['--data-dir', dataDir], drop: async () => undefined, backendPids: async () => [] };
  const database = `certgate_bench_${name.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${database}`));
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${database}`;
  const databaseUrl = url.toString();
  let dropped = false;
  return {
    engine,
    dataDir,
    databaseUrl,
    args: ['--database-url', databaseUrl],
    async backendPids() {
      const rows = await admin((c) => c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]));
      return rows.rows.map((r) => Number(r.pid));
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      try {
        await admin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
      } catch (err) {
        log(`could not drop database ${database}: ${(err as Error).message}`);
      }
    },
  };
}

export interface Seeder {
  readonly adminKey: string;
  /** an admin API call through Fastify's inject; throws unless 200 */
  call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object): Promise<Record<string, any>>;
  /** `count` projects, each with one service account and its key, made `parallel` at a time through the services */
  addProjects(count: number, parallel?: number): Promise<{ projectIds: string[]; keys: string[] }>;
  close(): Promise<void>;
}

const SEED_ACTOR: Actor = { organizationId: DEFAULT_ORGANIZATION_ID, key: null, local: 'certgate bench seed' };

/** Opens the store in this process, with an owner admin key that the server started later is given too. */
export async function openSeeder(place: Place): Promise<Seeder> {
  const adminKey = `sk-admin-bench-${randomBytes(24).toString('base64url')}`;
  const rt = await openRuntime({ dataDir: place.dataDir, databaseUrl: place.databaseUrl });
  await seedAdminKey(rt, adminKey, () => undefined);
  const app = await buildApp({ rt, logger: false });
  return {
    adminKey,
    async call(method, url, payload) {
      const res = await app.inject({ method, url, headers: { authorization: `Bearer ${adminKey}` }, ...(payload ? { payload } : {}) });
      if (res.statusCode !== 200) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
      return res.json() as Record<string, any>;
    },
    async addProjects(count, parallel = 8) {
      const projectIds: string[] = new Array(count);
      const keys: string[] = new Array(count);
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < count; i = next++) {
          const project = await createProject(rt, SEED_ACTOR, { name: `bench project ${i + 1}` });
          const account = await createServiceAccount(rt, SEED_ACTOR, project.id, { name: `bench account ${i + 1}` });
          projectIds[i] = project.id;
          keys[i] = account.apiKey!.value;
        }
      };
      await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
      return { projectIds, keys };
    },
    async close() {
      await app.close();
      await rt.close();
    },
  };
}
