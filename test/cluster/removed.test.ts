// Nothing removed comes back (issue 17, item 4): a key, project, service account or anchor removed by a change a
// process has seen is never admitted again, during an outage of either engine that begins well after the removal.
// The gateway and the admin server are separate runtimes over one store, as two processes are.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { POSTGRES_URL } from '../support/engines.js';
import { call, startScene, type Scene } from '../support/gateway.js';
import { makeCa, makeClient, type Issued } from '../support/pki.js';
import { tempDir } from '../support/server.js';
import { within } from '../support/wait.js';

interface Removed {
  /** a key whose service account was deleted */
  readonly deletedKey: string;
  /** a key of an archived project */
  readonly archivedKey: string;
  /** a key that still exists, in a project with two anchors */
  readonly liveKey: string;
  /** a client of the anchor deleted from that project; another anchor stays in force there */
  readonly ofDeletedAnchor: Issued;
  /** a client of the anchor that stays */
  readonly ofKeptAnchor: Issued;
  /** an admin key deleted */
  readonly deletedAdminKey: string;
}

/** Uses everything, removes it, sees it refused, then lets time pass before the outage begins. */
async function removeThenWait(s: Scene): Promise<Removed> {
  const org = s.admin.sdk.admin.organization;
  const keyOf = async (project: string) => (await org.projects.serviceAccounts.create(project, { name: 'removed' })).api_key!.value;
  const open = (await org.projects.create({ name: 'open' })).id;
  const deletedAccount = await org.projects.serviceAccounts.create(open, { name: 'to delete' });
  const deletedKey = deletedAccount.api_key!.value;
  const archived = (await org.projects.create({ name: 'to archive' })).id;
  const archivedKey = await keyOf(archived);
  const gated = (await org.projects.create({ name: 'two anchors' })).id;
  const liveKey = await keyOf(gated);
  const caA = await makeCa({ name: 'anchor to delete' });
  const caB = await makeCa({ name: 'anchor kept' });
  const ofDeletedAnchor = await makeClient(caA);
  const ofKeptAnchor = await makeClient(caB);
  const a = (await org.certificates.create({ certificate: caA.pem })).id;
  const b = (await org.certificates.create({ certificate: caB.pem })).id;
  await org.projects.certificates.activate(gated, { certificate_ids: [a, b] });
  const created = await s.admin.request('POST', '/v1/organization/admin_api_keys', { name: 'to delete' });
  assert.equal(created.status, 200, created.text);
  const deletedAdminKey: string = created.body.value;
  const metrics = (key: string) => fetch(`${s.admin.url}/metrics`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);

  // each works, and is used, so the processes hold it
  await within(2000, async () => (await call(s.gateway, { key: deletedKey })).status === 200);
  assert.equal((await call(s.gateway, { key: archivedKey })).status, 200);
  await within(2000, async () => (await call(s.gateway, { key: liveKey, client: ofDeletedAnchor })).status === 200);
  assert.equal((await call(s.gateway, { key: liveKey, client: ofKeptAnchor })).status, 200);
  assert.equal(await metrics(deletedAdminKey), 200);

  // removed, each through the admin API (another runtime than the gateway's)
  await org.projects.serviceAccounts.delete(deletedAccount.id, { project_id: open });
  await org.projects.archive(archived);
  await org.projects.certificates.deactivate(gated, { certificate_ids: [a] });
  await org.certificates.delete(a);
  assert.equal((await s.admin.request('DELETE', `/v1/organization/admin_api_keys/${created.body.id}`)).status, 200);

  await within(2000, async () => (await call(s.gateway, { key: deletedKey })).status === 401);
  await within(2000, async () => (await call(s.gateway, { key: archivedKey })).status === 401);
  await within(2000, async () => (await call(s.gateway, { key: liveKey, client: ofDeletedAnchor })).status === 403);
  assert.equal(await metrics(deletedAdminKey), 401);

  // the outage begins well after the removal (the issue saw a key come back 40 s later; the caches it came back
  // from were not time-bound, so a few seconds with traffic in between shows the same)
  for (let i = 0; i < 10; i++) {
    assert.equal((await call(s.gateway, { key: liveKey, client: ofKeptAnchor })).status, 200);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { deletedKey, archivedKey, liveKey, ofDeletedAnchor, ofKeptAnchor, deletedAdminKey };
}

/** During the outage: what was removed stays refused, what exists keeps working. */
async function stillRemoved(s: Scene, r: Removed): Promise<void> {
  await within(5000, async () => (await call(s.gateway, { path: '/readyz' })).status === 503);
  const write = await s.admin.request('POST', '/v1/organization/projects', { name: 'during the outage' });
  assert.equal(write.status, 503, 'the outage is real: writes fail');
  // an admin read cannot confirm it is current, so it is not answered from a snapshot that may be stale
  const read = await s.admin.request('GET', '/v1/organization/projects');
  assert.equal(read.status, 503, read.text);
  assert.equal(read.body.error.code, 'database_unavailable');
  for (let i = 0; i < 5; i++) {
    const deleted = await call(s.gateway, { key: r.deletedKey });
    assert.notEqual(deleted.status, 200, `a deleted service account's key was admitted during the outage (${JSON.stringify(deleted.body)})`);
    assert.equal(deleted.status, 401);
    assert.equal((await call(s.gateway, { key: r.archivedKey })).status, 401, "an archived project's key");
    assert.equal((await call(s.gateway, { key: r.liveKey, client: r.ofDeletedAnchor })).status, 403, 'a client of a deleted anchor');
    assert.equal((await call(s.gateway, { key: r.liveKey, client: r.ofKeptAnchor })).status, 200, 'a client of an anchor in force');
    const metrics = await fetch(`${s.admin.url}/metrics`, { headers: { authorization: `Bearer ${r.deletedAdminKey}` } });
    assert.equal(metrics.status, 401, 'a deleted admin key');
  }
}

describe('nothing removed comes back: SQLite file gone', () => {
  const dir = tempDir();
  let s: Scene;
  before(async () => {
    s = await startScene({ dataDir: dir.path }, 'removed');
  });
  after(async () => {
    await s.close();
    dir.remove();
  });

  it('a deleted key, an archived project, a deleted anchor and a deleted admin key stay refused while the file is away', async () => {
    const removed = await removeThenWait(s);
    const file = join(dir.path, 'certgate.db');
    renameSync(file, `${file}.away`);
    try {
      await stillRemoved(s, removed);
    } finally {
      renameSync(`${file}.away`, file);
    }
  });
});

describe('nothing removed comes back: PostgreSQL refusing logins', { skip: POSTGRES_URL ? false : 'CERTGATE_TEST_DATABASE_URL is not set' }, () => {
  let s: Scene;
  const suffix = randomBytes(5).toString('hex');
  const role = `certgate_removed_${suffix}`;
  const database = `certgate_removed_${suffix}`;
  const asSuperuser = async (sql: string) => {
    const c = new pg.Client({ connectionString: POSTGRES_URL });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  before(async () => {
    await asSuperuser(`create role ${role} login`);
    await asSuperuser(`create database ${database} owner ${role}`);
    const url = new URL(POSTGRES_URL!);
    url.username = role;
    url.pathname = `/${database}`;
    s = await startScene({ dataDir: '', databaseUrl: url.toString() }, 'removed');
  });
  after(async () => {
    await s.close();
    await asSuperuser(`drop database if exists ${database} with (force)`);
    await asSuperuser(`drop role if exists ${role}`);
  });

  it('a deleted key, an archived project, a deleted anchor and a deleted admin key stay refused while the role may not log in (ALTER ROLE … NOLOGIN)', async () => {
    const removed = await removeThenWait(s);
    await asSuperuser(`alter role ${role} nologin`);
    try {
      await asSuperuser(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${database}' and pid <> pg_backend_pid()`);
      await stillRemoved(s, removed);
    } finally {
      await asSuperuser(`alter role ${role} login`);
    }
  });
});
