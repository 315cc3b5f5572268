// Admin API keys and permissions, driven by the official openai package, on every engine.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { hashKey } from '../../src/state/keys.js';
import { engines } from '../support/engines.js';
import { makeCa } from '../support/pki.js';
import { ADMIN_KEY, serverOnEngine, startTestServer, tempDir, type TestServer } from '../support/server.js';

function clientFor(server: TestServer, key: string): OpenAI['admin']['organization'] {
  return new OpenAI({ adminAPIKey: key, baseURL: server.baseURL, maxRetries: 0 }).admin.organization;
}

async function call(server: TestServer, key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** Everything a key could change, read back: equal before and after means nothing changed. */
async function state(server: TestServer) {
  const paths = ['/v1/organization/certificates?limit=100', '/v1/organization/projects?limit=100&include_archived=true', '/v1/organization/admin_api_keys?limit=100', '/v1/organization/audit_logs?limit=100', '/v1/organization/mtls_settings'];
  const out: unknown[] = [];
  for (const p of paths) out.push((await server.request('GET', p)).body);
  return JSON.stringify(out).replace(/"last_used_at":(null|\d+)/g, '"last_used_at":0');
}

for (const engine of engines) {
  describe(`admin API keys (${engine.name})`, () => {
    const on = serverOnEngine(engine);
    let server: TestServer;
    let admin: OpenAI['admin']['organization'];
    before(() => {
      server = on.server;
      admin = server.sdk.admin.organization;
    });

    it('lists the configured key as an ordinary owner key, and creates one whose value is shown once and stored only as a hash', async () => {
      const listed = await admin.adminAPIKeys.list();
      assert.equal(listed.data.length, 1);
      const seeded = listed.data[0]!;
      assert.equal(seeded.object, 'organization.admin_api_key');
      assert.match(seeded.id, /^key_[0-9a-z]{26}$/);
      assert.equal(seeded.redacted_value, `sk-admin-...${ADMIN_KEY.slice(-4)}`);
      assert.equal(seeded.expires_at, null);
      assert.deepEqual((seeded as any).permissions, ['api.mtls.read', 'api.mtls.write', 'api.management.read', 'api.management.write', 'api.audit_logs.read']);

      const created = await admin.adminAPIKeys.create({ name: 'rotation bot' });
      assert.match(created.value, /^sk-admin-[A-Za-z0-9_-]{43}$/);
      assert.equal(created.name, 'rotation bot');
      assert.equal(created.redacted_value, `sk-admin-...${created.value.slice(-4)}`);
      assert.equal(created.owner.role, 'owner');
      assert.ok(Math.abs(created.created_at - Date.now() / 1000) < 5);
      const fetched = await admin.adminAPIKeys.retrieve(created.id);
      assert.equal((fetched as any).value, undefined, 'the value is shown only on create');
      const { value: _shown, ...withoutValue } = created;
      assert.deepEqual({ ...fetched, last_used_at: null }, { ...withoutValue, last_used_at: null });

      // stored only as a hash: the database holds the hash and nowhere the value
      assert.equal((await server.store.adminKeyByHash(hashKey(created.value)))?.key.id, created.id);
      const keys = await server.store.adminKeys('org-default');
      assert.ok(!JSON.stringify(keys).includes(created.value));

      // the new key works, and its use is noted (in batches, within about a second)
      assert.ok(Array.isArray((await clientFor(server, created.value).certificates.list()).data));
      let used: number | null = null;
      for (let i = 0; i < 40 && used === null; i++) {
        await new Promise((r) => setTimeout(r, 100));
        used = (await admin.adminAPIKeys.retrieve(created.id)).last_used_at ?? null;
      }
      assert.ok(used !== null && Math.abs(used - Date.now() / 1000) < 5, 'last_used_at is set after a use');
    });

    it('pages keys in creation order and deletes one, which stops working at once', async () => {
      const made = [];
      for (let i = 0; i < 3; i++) made.push(await admin.adminAPIKeys.create({ name: `pager ${i}` }));
      const all = [];
      for await (const k of admin.adminAPIKeys.list({ limit: 2 })) all.push(k.id);
      const ids = made.map((k) => k.id);
      assert.deepEqual(all.filter((id) => ids.includes(id)), ids, 'oldest first, every key once');
      assert.deepEqual([...all].sort(), all);

      const victim = made[1]!;
      const client = clientFor(server, victim.value);
      await client.certificates.list();
      const deleted = await admin.adminAPIKeys.delete(victim.id);
      assert.deepEqual(deleted, { id: victim.id, object: 'organization.admin_api_key.deleted', deleted: true });
      await assert.rejects(client.certificates.list(), (err: any) => err.status === 401 && err.error?.code === 'invalid_api_key');
      await assert.rejects(admin.adminAPIKeys.retrieve(victim.id), (err: any) => err.status === 404 && err.error?.code === 'admin_api_key_not_found');
      await assert.rejects(admin.adminAPIKeys.delete(victim.id), (err: any) => err.status === 404);
    });

    it('stops a key at its expiry', async () => {
      const key = await admin.adminAPIKeys.create({ name: 'short lived', expires_in_seconds: 3600 });
      assert.ok(key.expires_at !== null && Math.abs(key.expires_at - (Date.now() / 1000 + 3600)) < 5);
      const client = clientFor(server, key.value);
      await client.certificates.list();
      server.clock.offsetMs = 3601 * 1000;
      try {
        await assert.rejects(client.certificates.list(), (err: any) => err.status === 401 && err.error?.code === 'invalid_api_key' && /expired/.test(err.error.message));
        await admin.certificates.list(); // the owner key does not expire
      } finally {
        server.clock.offsetMs = 0;
      }
    });

    it('refuses a read-only key every write, with OpenAI\'s missing-scope answer, and changes nothing', async () => {
      const ca = await makeCa({ name: 'scoped anchor' });
      const cert = await admin.certificates.create({ certificate: ca.pem, name: 'scoped' });
      const project = await admin.projects.create({ name: 'scoped project' });
      const reader = await admin.adminAPIKeys.create({ name: 'reader', permissions: ['api.mtls.read'] } as any);
      assert.deepEqual((reader as any).permissions, ['api.mtls.read']);
      assert.equal(reader.owner.role, 'reader');
      const before = await state(server);
      const other = await makeCa({ name: 'other' });
      const writes: [string, string, unknown?][] = [
        ['POST', '/v1/organization/certificates', { certificate: other.pem }],
        ['POST', `/v1/organization/certificates/${cert.id}`, { name: 'renamed' }],
        ['DELETE', `/v1/organization/certificates/${cert.id}`],
        ['POST', '/v1/organization/certificates/activate', { certificate_ids: [cert.id] }],
        ['POST', '/v1/organization/certificates/deactivate', { certificate_ids: [cert.id] }],
        ['POST', `/v1/organization/projects/${project.id}/certificates/activate`, { certificate_ids: [cert.id] }],
        ['POST', `/v1/organization/projects/${project.id}/certificates/deactivate`, { certificate_ids: [cert.id] }],
        ['PUT', `/v1/organization/certificates/${cert.id}/filter`, { expression: 'true' }],
        ['DELETE', `/v1/organization/certificates/${cert.id}/filter`],
        ['PUT', `/v1/organization/certificates/${cert.id}/crl`, { crl: 'x' }],
        ['DELETE', `/v1/organization/certificates/${cert.id}/crl`],
        ['POST', '/v1/organization/mtls_settings', { mode: 'observe' }],
        ['POST', `/v1/organization/projects/${project.id}/mtls_settings`, { mode: 'observe' }],
        ['POST', '/v1/organization/projects', { name: 'nope' }],
        ['POST', `/v1/organization/projects/${project.id}`, { name: 'nope' }],
        ['POST', `/v1/organization/projects/${project.id}/archive`],
        ['POST', `/v1/organization/projects/${project.id}/service_accounts`, { name: 'nope' }],
        ['POST', '/v1/organization/admin_api_keys', { name: 'escalate' }],
        ['DELETE', `/v1/organization/admin_api_keys/${reader.id}`],
      ];
      for (const [method, path, body] of writes) {
        const res = await call(server, reader.value, method, path, body);
        assert.equal(res.status, 401, `${method} ${path}`);
        assert.equal(res.body.error.code, null);
        assert.equal(res.body.error.type, 'invalid_request_error');
        assert.match(res.body.error.message, /^You have insufficient permissions for this operation\. Missing scopes: api\.(mtls|management)\.write\./, `${method} ${path}`);
      }
      // reads within its scope work, and reads outside it are refused too
      const client = clientFor(server, reader.value);
      assert.ok((await client.certificates.list()).data.some((c) => c.id === cert.id));
      assert.equal((await call(server, reader.value, 'POST', '/v1/organization/certificates/verify', { certificate: ca.pem })).status, 200);
      for (const [path, scope] of [['/v1/organization/projects', 'api.management.read'], ['/v1/organization/audit_logs', 'api.audit_logs.read'], ['/v1/organization/admin_api_keys', 'api.management.read']] as const) {
        const res = await call(server, reader.value, 'GET', path);
        assert.equal(res.status, 401);
        assert.ok(res.body.error.message.includes(`Missing scopes: ${scope}.`), path);
      }
      assert.equal(await state(server), before, 'a refused write changed something');

      // write grants read of the same thing
      const writer = await admin.adminAPIKeys.create({ name: 'writer', permissions: ['api.mtls.write'] } as any);
      const w = clientFor(server, writer.value);
      await w.certificates.update(cert.id, { name: 'renamed by writer' });
      assert.equal((await w.certificates.retrieve(cert.id)).name, 'renamed by writer');
      await assert.rejects(w.projects.list(), (err: any) => err.status === 401);
    });

    it('refuses bad input to the key endpoints in the envelope, changing nothing', async () => {
      const before = await state(server);
      const bad: [string, string, unknown?][] = [
        ['POST', '/v1/organization/admin_api_keys', {}],
        ['POST', '/v1/organization/admin_api_keys', { name: 7 }],
        ['POST', '/v1/organization/admin_api_keys', { name: '' }],
        ['POST', '/v1/organization/admin_api_keys', { name: 'x'.repeat(10_000) }],
        ['POST', '/v1/organization/admin_api_keys', { name: 'ctl\u0007' }],
        ['POST', '/v1/organization/admin_api_keys', { name: 'x', expires_in_seconds: 0 }],
        ['POST', '/v1/organization/admin_api_keys', { name: 'x', expires_in_seconds: -5 }],
        ['POST', '/v1/organization/admin_api_keys', { name: 'x', expires_in_seconds: 1.5 }],
        ['POST', '/v1/organization/admin_api_keys', { name: 'x', expires_in_seconds: 1e12 }],
        ['POST', '/v1/organization/admin_api_keys', { name: 'x', expires_in_seconds: '60' }],
        ['POST', '/v1/organization/admin_api_keys', { name: 'x', permissions: [] }],
        ['POST', '/v1/organization/admin_api_keys', { name: 'x', permissions: ['api.everything'] }],
        ['POST', '/v1/organization/admin_api_keys', { name: 'x', permissions: ['api.mtls.read', 'api.mtls.read'] }],
        ['POST', '/v1/organization/admin_api_keys', { name: 'x', permissions: 'api.mtls.read' }],
        ['POST', '/v1/organization/admin_api_keys', { name: 'x', scopes: ['api.mtls.read'] }],
        ['GET', '/v1/organization/admin_api_keys/key_nope'],
        ['GET', '/v1/organization/admin_api_keys/key%00x'],
        ['DELETE', '/v1/organization/admin_api_keys/key_0000000000000000000000000z'],
        ['DELETE', `/v1/organization/admin_api_keys/${'k'.repeat(900)}`],
        ['GET', '/v1/organization/admin_api_keys?limit=0'],
        ['GET', '/v1/organization/admin_api_keys?limit=abc'],
      ];
      for (const [method, path, body] of bad) {
        const res = await server.request(method, path, body);
        assert.ok(res.status >= 400 && res.status < 500, `${method} ${path} ${JSON.stringify(body)} → ${res.status}`);
        assert.deepEqual(Object.keys(res.body.error).sort(), ['code', 'message', 'param', 'type']);
      }
      assert.equal(await state(server), before);
    });

    it('never deletes the last owner key', async () => {
      // delete every other owner key, then try the last one
      const keys = (await admin.adminAPIKeys.list({ limit: 100 })).data;
      const mine = keys.find((k) => k.redacted_value.endsWith(ADMIN_KEY.slice(-4)))!;
      for (const k of keys) if (k.id !== mine.id && (k as any).permissions.length === 5) await admin.adminAPIKeys.delete(k.id);
      await assert.rejects(admin.adminAPIKeys.delete(mine.id), (err: any) => err.status === 400 && err.error?.code === 'last_owner_key' && err.error.param === 'key_id');
      // once another owner exists, it may go: the caller may delete its own key
      const next = await admin.adminAPIKeys.create({ name: 'successor' });
      await admin.adminAPIKeys.delete(mine.id);
      await assert.rejects(admin.certificates.list(), (err: any) => err.status === 401);
      const successor = clientFor(server, next.value);
      assert.ok((await successor.adminAPIKeys.list()).data.every((k) => k.id !== mine.id));
    });
  });
}

describe('the configured key (SQLite, across a restart)', () => {
  it('stays deleted once deleted through the API, and a restart says so', async () => {
    const dir = tempDir();
    const dataDir = dir.path;
    const first = await startTestServer({ dataDir });
    const keys = first.sdk.admin.organization.adminAPIKeys;
    const spare = await keys.create({ name: 'spare owner' });
    const configured = (await keys.list()).data.find((k) => k.name === 'configured owner key')!;
    await keys.delete(configured.id);
    await first.close();
    const warnings: string[] = [];
    const { openRuntime } = await import('../../src/runtime.js');
    const { seedAdminKey } = await import('../../src/commands/serve.js');
    const rt = await openRuntime({ dataDir, databaseUrl: undefined });
    try {
      await seedAdminKey(rt, ADMIN_KEY, () => undefined, (w) => warnings.push(w));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /deleted/);
      const ids = (await rt.store.adminKeys('org-default')).map((k) => k.id);
      assert.deepEqual(ids, [spare.id]);
    } finally {
      await rt.close();
      dir.remove();
    }
  });
});
