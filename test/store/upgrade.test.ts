// An upgrade as an operator makes one: stores written by the previous release (test/fixtures/release-0.1.0, made
// by that release's own `serve` through its API: see make-release-store.ts), opened by this build with the default
// worker count. The migrations run at start; every row the release wrote is found through the API, and the keys,
// activations, filter, CRL and observe mode it stored still decide at the gateway.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Agent, request } from 'undici';
import { migrations } from '../../src/store/migrations/index.js';
import { engines } from '../support/engines.js';
import { startUpstream } from '../support/gateway.js';
import { gatewayTlsFiles, spawnCertgate, storeArgs, type CertgateProcess } from '../support/processes.js';
import { tempDir } from '../support/server.js';

const run = promisify(execFile);
const FIXTURE = new URL('../../../test/fixtures/release-0.1.0/', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(FIXTURE, 'manifest.json'), 'utf8'));

type Written = (typeof manifest)['sqlite'];

async function everyRowFound(server: CertgateProcess, w: Written): Promise<void> {
  const get = async (path: string, key: string = w.adminKey) => {
    const res = await fetch(`${server.url}/v1${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as any };
  };
  const certificates = (await get('/organization/certificates?limit=100')).body.data;
  assert.deepEqual(certificates.map((c: any) => c.id).sort(), w.certificates.map((c: any) => c.id).sort());
  for (const [id, name] of Object.entries(w.names)) assert.equal(certificates.find((c: any) => c.id === id).name, name);
  for (const c of certificates) assert.equal(c.active, w.organizationActive.includes(c.id), `${c.id} active for the organization`);
  for (const [project, ids] of Object.entries(w.projectActive as Record<string, string[]>)) {
    const inProject = (await get(`/organization/projects/${project}/certificates?limit=100`)).body.data;
    for (const id of ids) assert.equal(inProject.find((c: any) => c.id === id).active, true);
  }
  for (const [id, expression] of Object.entries(w.filter)) assert.equal((await get(`/organization/certificates/${id}/filter`)).body.expression, expression);
  const crl = await get(`/organization/certificates/${w.crl}/crl`);
  assert.equal(crl.status, 200);
  assert.equal(crl.body.revoked_count, 1);
  const projects = (await get('/organization/projects?limit=100&include_archived=true')).body.data;
  assert.equal(projects.find((p: any) => p.id === w.project.id).status, 'active');
  assert.equal(projects.find((p: any) => p.id === w.archived.id).status, 'archived');
  const accounts = (await get(`/organization/projects/${w.project.id}/service_accounts`)).body.data;
  assert.ok(accounts.some((a: any) => a.id === w.project.serviceAccount));
  assert.equal((await get(`/organization/projects/${w.project.id}/mtls_settings`)).body.mode, w.project.mode);
  const keys = (await get('/organization/admin_api_keys?limit=100')).body.data;
  assert.deepEqual(keys.find((k: any) => k.id === w.readOnlyKey.id).permissions, w.readOnlyKey.permissions);
  assert.equal((await get('/organization/certificates', w.readOnlyKey.value)).status, 200, 'the read-only key still reads');
  assert.equal((await get('/organization/audit_logs', w.readOnlyKey.value)).status, 401, 'and still reads nothing else');
  const audit = new Set<string>();
  for (let after = ''; ; ) {
    const page = (await get(`/organization/audit_logs?limit=100${after}`)).body;
    for (const e of page.data) audit.add(e.id);
    if (!page.has_more) break;
    after = `&after=${page.last_id}`;
  }
  assert.deepEqual(w.auditEvents.filter((id: string) => !audit.has(id)), [], 'every audit event the release wrote');
}

async function appliedMigrations(place: { dataDir: string; databaseUrl?: string }): Promise<string[]> {
  const sql = 'SELECT name FROM certgate_migrations ORDER BY name';
  if (place.databaseUrl) {
    const client = new pg.Client({ connectionString: place.databaseUrl });
    await client.connect();
    try {
      return (await client.query(sql)).rows.map((r) => r.name);
    } finally {
      await client.end();
    }
  }
  const db = new BetterSqlite3(join(place.dataDir, 'certgate.db'), { readonly: true });
  try {
    return db.prepare(sql).pluck().all() as string[];
  } finally {
    db.close();
  }
}

/** The migrations the release had applied, read from the fixture itself. */
async function appliedMigrationsOfFixture(engine: string): Promise<string[]> {
  if (engine === 'sqlite') {
    const db = new BetterSqlite3(join(FIXTURE, 'certgate.db'), { readonly: true });
    try {
      return db.prepare('SELECT name FROM certgate_migrations').pluck().all() as string[];
    } finally {
      db.close();
    }
  }
  return [...readFileSync(join(FIXTURE, 'postgres.sql'), 'utf8').matchAll(/^(\d{3}_\w+)\t/gm)].map((m) => m[1]!);
}

async function gatewayStillDecides(place: { dataDir: string; databaseUrl?: string }, w: Written): Promise<void> {
  const dir = tempDir();
  const upstream = await startUpstream();
  const tls = await gatewayTlsFiles(dir.path);
  const gateway = await spawnCertgate('gateway', [...storeArgs(place), ...tls.args, '--upstream-url', upstream.url], { CERTGATE_WORKERS: '' });
  const agent = new Agent({ connect: { ca: tls.ca, servername: 'localhost' } });
  try {
    const call = async (key: string) => {
      const res = await request(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${key}` }, dispatcher: agent });
      return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as any };
    };
    // the project is in observe mode with an anchor in force: let through, and told it would be refused
    const observed = await call(w.project.key);
    assert.equal(observed.status, 200);
    assert.equal(observed.headers['x-request-id'] !== undefined, true);
    assert.equal(upstream.seen.at(-1)!.headers['x-certgate-would-refuse'], 'certificate_required');
    const archived = await call(w.archived.key);
    assert.equal(archived.status, 401);
    assert.equal(archived.body.error.code, 'invalid_api_key');
    assert.equal((await call('sk-svcacct-not-a-key-of-the-release')).status, 401);
  } finally {
    await agent.close();
    await gateway.stop();
    await upstream.close();
    dir.remove();
  }
}

describe(`upgrading a store written by release ${manifest.release}`, () => {
  for (const engine of engines) {
    it(`${engine.name}: migrations run at start, every row is found, and the gateway decides as before`, async () => {
      const place = await engine.fresh();
      const w: Written = engine.name === 'sqlite' ? manifest.sqlite : manifest.postgres;
      try {
        assert.ok((await appliedMigrationsOfFixture(engine.name)).length < migrations.length, 'the fixture predates a migration of this build');
        if (engine.name === 'sqlite') copyFileSync(join(FIXTURE, 'certgate.db'), join(place.dataDir, 'certgate.db'));
        else await run('psql', ['--quiet', '--set=ON_ERROR_STOP=1', `--dbname=${place.databaseUrl}`, `--file=${join(FIXTURE, 'postgres.sql')}`]);
        const server = await spawnCertgate('serve', storeArgs(place), { CERTGATE_WORKERS: '', CERTGATE_ADMIN_KEY: w.adminKey });
        try {
          await everyRowFound(server, w);
        } finally {
          await server.stop();
        }
        await gatewayStillDecides(place, w);
        // the store the release left had fewer migrations than this build; it now has every one
        assert.deepEqual(await appliedMigrations(place), migrations.map((m) => m.name));
      } finally {
        await place.drop();
      }
    });
  }
});
