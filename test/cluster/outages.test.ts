// Outages of a real store, as a bad day brings them: the gateway never answers 500 and never admits what its last
// known anchors would refuse; writes answer 503 database_unavailable; /readyz says 503; all of it recovers alone.
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { POSTGRES_URL } from '../support/engines.js';
import { call, startScene, type Scene } from '../support/gateway.js';
import { makeCa, makeClient, type Issued } from '../support/pki.js';
import { tempDir } from '../support/server.js';
import { within } from '../support/wait.js';

interface Setup extends Scene {
  good: Issued;
  stranger: Issued;
}

async function setUp(place: { dataDir: string; databaseUrl?: string }): Promise<Setup> {
  const scene = await startScene(place, 'outage');
  const ca = await makeCa();
  await scene.enforce(ca.pem);
  const good = await makeClient(ca);
  const stranger = await makeClient(await makeCa({ name: 'stranger' }));
  assert.equal((await call(scene.gateway, { key: scene.key, client: good })).status, 200);
  return { ...scene, good, stranger };
}

const readyz = async (s: Setup) => (await call(s.gateway, { path: '/readyz' })).status;

/** During an outage: the gateway keeps its last verdicts, never a 500; writes and /readyz answer 503. */
async function duringOutage(s: Setup): Promise<void> {
  await within(3000, async () => (await readyz(s)) === 503);
  for (let i = 0; i < 10; i++) {
    assert.equal((await call(s.gateway, { key: s.key, client: s.good })).status, 200, 'an accepted client stays accepted');
    assert.equal((await call(s.gateway, { key: s.key })).status, 403, 'a request without a certificate stays refused');
    assert.equal((await call(s.gateway, { key: s.key, client: s.stranger })).status, 403, 'a stranger stays refused');
  }
  const write = await s.admin.request('POST', '/v1/organization/projects', { name: 'during the outage' });
  assert.equal(write.status, 503, write.text);
  assert.equal(write.body.error.code, 'database_unavailable');
}

/** After it: ready again, writes go through, and the gateway still decides as before. */
async function recovered(s: Setup): Promise<void> {
  await within(5000, async () => (await readyz(s)) === 200);
  await within(5000, async () => (await s.admin.request('POST', '/v1/organization/projects', { name: 'after the outage' })).status === 200);
  assert.equal((await call(s.gateway, { key: s.key, client: s.good })).status, 200);
  assert.equal((await call(s.gateway, { key: s.key })).status, 403);
}

describe('outages of a SQLite file', () => {
  const dir = tempDir();
  let s: Setup;
  before(async () => {
    s = await setUp({ dataDir: dir.path });
  });
  after(async () => {
    await s.close();
    dir.remove();
  });

  it('the file moved away, then back', async () => {
    const file = join(dir.path, 'certgate.db');
    renameSync(file, `${file}.away`);
    try {
      await duringOutage(s);
    } finally {
      renameSync(`${file}.away`, file);
    }
    await recovered(s);
  });

  it('the file corrupted, then restored', async () => {
    const file = join(dir.path, 'certgate.db');
    const original = readFileSync(file);
    const corrupt = Buffer.from(original);
    corrupt.fill(0x5a, 0, Math.min(4096, corrupt.length)); // the header and the first page
    writeFileSync(file, corrupt);
    try {
      await duringOutage(s);
    } finally {
      writeFileSync(file, original);
    }
    await recovered(s);
  });
});

describe('outages of a PostgreSQL database', { skip: POSTGRES_URL ? false : 'CERTGATE_TEST_DATABASE_URL is not set' }, () => {
  let s: Setup;
  const suffix = randomBytes(5).toString('hex');
  const role = `certgate_role_${suffix}`;
  const database = `certgate_outage_${suffix}`;
  const superuser = () => {
    const c = new pg.Client({ connectionString: POSTGRES_URL });
    return c.connect().then(() => c);
  };
  const asSuperuser = async (sql: string) => {
    const c = await superuser();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  const terminate = () => asSuperuser(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${database}' and pid <> pg_backend_pid()`);

  before(async () => {
    await asSuperuser(`create role ${role} login`);
    await asSuperuser(`create database ${database} owner ${role}`);
    const url = new URL(POSTGRES_URL!);
    url.username = role;
    url.pathname = `/${database}`;
    s = await setUp({ dataDir: '', databaseUrl: url.toString() });
  });
  after(async () => {
    await s.close();
    await asSuperuser(`drop database if exists ${database} with (force)`);
    await asSuperuser(`drop role if exists ${role}`);
  });

  it('every backend terminated: nothing but a reconnect', async () => {
    await terminate();
    for (let i = 0; i < 20; i++) {
      const res = await call(s.gateway, { key: s.key, client: s.good });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    await recovered(s);
  });

  it('the role may no longer log in (ALTER ROLE … NOLOGIN), then may again', async () => {
    await asSuperuser(`alter role ${role} nologin`);
    try {
      await terminate();
      await duringOutage(s);
    } finally {
      await asSuperuser(`alter role ${role} login`);
    }
    await recovered(s);
  });

  it('the database read-only (a standby, or default_transaction_read_only), then writable again', async () => {
    await asSuperuser(`alter database ${database} set default_transaction_read_only = on`);
    try {
      await terminate();
      await within(5000, async () => {
        const write = await s.admin.request('POST', '/v1/organization/projects', { name: 'while read-only' });
        return write.status === 503 && write.body.error.code === 'database_unavailable';
      });
      // reads and the gate go on as before
      assert.equal((await call(s.gateway, { key: s.key, client: s.good })).status, 200);
      assert.equal((await call(s.gateway, { key: s.key, client: s.stranger })).status, 403);
      assert.equal((await s.admin.request('GET', '/v1/organization/projects')).status, 200);
    } finally {
      await asSuperuser(`alter database ${database} reset default_transaction_read_only`);
      await terminate();
    }
    await recovered(s);
  });

  it('the database dropped', async () => {
    await asSuperuser(`drop database ${database} with (force)`);
    await duringOutage(s);
  });
});
