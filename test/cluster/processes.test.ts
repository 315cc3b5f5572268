// Several certgate processes on one store: the guarantees hold across processes, not just inside one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import pg from 'pg';
import { engines } from '../support/engines.js';
import { within } from '../support/wait.js';
import { call, startUpstream } from '../support/gateway.js';
import { makeCa, makeClient, type Issued } from '../support/pki.js';
import { gatewayTlsFiles, spawnCertgate, storeArgs, type CertgateProcess } from '../support/processes.js';
import { ADMIN_KEY, tempDir } from '../support/server.js';

async function post(base: string, path: string, body?: unknown) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function get(base: string, path: string) {
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  return { status: res.status, body: (await res.json()) as any };
}


for (const engine of engines) {
  describe(`two API processes and a gateway process on one ${engine.name} store`, () => {
    let place: Awaited<ReturnType<typeof engine.fresh>>;
    let a: CertgateProcess, b: CertgateProcess, gw: CertgateProcess;
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let tlsDir: ReturnType<typeof tempDir>;
    let gatewayCa: string;

    before(async () => {
      place = await engine.fresh();
      // both start at once on an empty store: migrations must apply exactly once
      [a, b] = await Promise.all([spawnCertgate('serve', storeArgs(place)), spawnCertgate('serve', storeArgs(place))]);
      upstream = await startUpstream();
      tlsDir = tempDir();
      const tls = await gatewayTlsFiles(tlsDir.path);
      gatewayCa = tls.ca;
      gw = await spawnCertgate('gateway', [...storeArgs(place), ...tls.args, '--upstream-url', upstream.url]);
    });
    after(async () => {
      const codes = await Promise.all([a.stop(), b.stop(), gw.stop()]);
      await upstream.close();
      tlsDir.remove();
      await place.drop();
      assert.deepEqual(codes, [0, 0, 0], 'each process shuts down cleanly on SIGTERM');
    });

    it('stores exactly 50 when 200 uploads race across both processes', async () => {
      const pems = await Promise.all(Array.from({ length: 200 }, () => makeCa().then((ca) => ca.pem)));
      const results = await Promise.all(pems.map((certificate, i) => post((i % 2 ? a : b).url, '/v1/organization/certificates', { certificate })));
      assert.equal(results.filter((r) => r.status === 200).length, 50);
      assert.ok(results.filter((r) => r.status !== 200).every((r) => r.status === 400 && r.body.error.code === 'certificate_limit_reached'));
      for (const p of [a, b]) {
        await within(1000, async () => (await get(p.url, '/v1/organization/certificates?limit=100')).body.data.length === 50);
      }
      // make room for the next tests
      const all = (await get(a.url, '/v1/organization/certificates?limit=100')).body.data;
      for (const c of all.slice(0, 30)) {
        const res = await fetch(`${a.url}/v1/organization/certificates/${c.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
        assert.equal(res.status, 200);
      }
    });

    it('detects a duplicate uploaded to both processes at once', async () => {
      const pem = (await makeCa()).pem;
      const results = await Promise.all([a, b, a, b].map((p) => post(p.url, '/v1/organization/certificates', { certificate: pem })));
      assert.equal(results.filter((r) => r.status === 200).length, 1);
      assert.equal(results.filter((r) => r.status === 400 && r.body.error.code === 'duplicate_certificate').length, 3);
    });

    it('never leaves a deleted certificate active: batch activation racing deletion across processes', async () => {
      const project = (await post(a.url, '/v1/organization/projects', { name: 'race' })).body.id;
      for (let round = 0; round < 8; round++) {
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) ids.push((await post(a.url, '/v1/organization/certificates', { certificate: (await makeCa()).pem })).body.id);
        const victim = ids[round % 3]!;
        const [activation, deletion] = await Promise.all([
          post(a.url, `/v1/organization/projects/${project}/certificates/activate`, { certificate_ids: ids }),
          fetch(`${b.url}/v1/organization/certificates/${victim}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then(async (r) => ({ status: r.status, body: (await r.json()) as any })),
        ]);
        const listed = (await get(a.url, `/v1/organization/projects/${project}/certificates?limit=100`)).body.data as any[];
        const active = listed.filter((c) => ids.includes(c.id) && c.active).map((c) => c.id);
        if (deletion.status === 200) {
          // deleted first: the whole batch was refused, nothing of it is active
          assert.equal(activation.status, 404, JSON.stringify(activation.body));
          assert.deepEqual(active, []);
          assert.ok(!listed.some((c) => c.id === victim));
        } else {
          // activated first: the delete was refused and all three are active
          assert.equal(deletion.body.error.code, 'certificate_in_use');
          assert.equal(activation.status, 200);
          assert.deepEqual(active.sort(), [...ids].sort());
        }
        await post(a.url, `/v1/organization/projects/${project}/certificates/deactivate`, { certificate_ids: ids.filter((id) => id !== victim || deletion.status !== 200) });
        for (const id of ids) await fetch(`${a.url}/v1/organization/certificates/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      }
    });

    it('pages through one process without skipping or repeating while the other adds certificates', async () => {
      const sdk = new OpenAI({ adminAPIKey: ADMIN_KEY, baseURL: `${b.url}/v1`, maxRetries: 0 });
      const before = new Set<string>((await get(b.url, '/v1/organization/certificates?limit=100')).body.data.map((c: any) => c.id));
      const seen: string[] = [];
      let added = 0;
      for await (const c of sdk.admin.organization.certificates.list({ limit: 3, order: 'asc' })) {
        seen.push(c.id);
        if (added < 4) {
          await post(a.url, '/v1/organization/certificates', { certificate: (await makeCa()).pem });
          added++;
        }
      }
      assert.equal(new Set(seen).size, seen.length, 'no item repeated');
      for (const id of before) assert.ok(seen.includes(id), `an item present throughout was skipped: ${id}`);
    });

    it('enforces an activation made through an API process within one second', async () => {
      const project = (await post(a.url, '/v1/organization/projects', { name: 'gated' })).body.id;
      const key = (await post(a.url, `/v1/organization/projects/${project}/service_accounts`, { name: 'svc' })).body.api_key.value;
      const ca: Issued = await makeCa();
      const caId = (await post(b.url, '/v1/organization/certificates', { certificate: ca.pem })).body.id;
      const gateway = { url: gw.url, ca: gatewayCa };
      await within(1000, async () => (await call(gateway, { key })).status === 200);

      await post(b.url, `/v1/organization/projects/${project}/certificates/activate`, { certificate_ids: [caId] });
      const on = await within(1000, async () => (await call(gateway, { key })).status === 403);
      assert.equal((await call(gateway, { key, client: await makeClient(ca) })).status, 200);
      await post(a.url, `/v1/organization/projects/${project}/certificates/deactivate`, { certificate_ids: [caId] });
      const off = await within(1000, async () => (await call(gateway, { key })).status === 200);
      assert.ok(on < 1000 && off < 1000, `seen after ${on.toFixed(0)} ms and ${off.toFixed(0)} ms`);
    });

    if (engine.name === 'postgres') {
      it('keeps enforcing the last anchors it knew while the database is unreachable, and recovers', async () => {
        const project = (await post(a.url, '/v1/organization/projects', { name: 'outage' })).body.id;
        const key = (await post(a.url, `/v1/organization/projects/${project}/service_accounts`, { name: 'svc' })).body.api_key.value;
        const ca = await makeCa();
        const caId = (await post(a.url, '/v1/organization/certificates', { certificate: ca.pem })).body.id;
        await post(a.url, `/v1/organization/projects/${project}/certificates/activate`, { certificate_ids: [caId] });
        const gateway = { url: gw.url, ca: gatewayCa };
        const client = await makeClient(ca);
        await within(1000, async () => (await call(gateway, { key })).status === 403);
        assert.equal((await call(gateway, { key, client })).status, 200);

        const dbName = new URL(place.databaseUrl!).pathname.slice(1);
        const admin = new pg.Client({ connectionString: process.env.CERTGATE_TEST_DATABASE_URL });
        await admin.connect();
        try {
          await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
          await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]);
          await within(3000, async () => (await call(gateway, { path: '/readyz' })).status === 503);
          // several full-refresh periods' worth of requests: neither open nor closed
          for (let i = 0; i < 5; i++) {
            assert.equal((await call(gateway, { key })).status, 403, 'still refuses a request without a certificate');
            assert.equal((await call(gateway, { key, client })).status, 200, 'still accepts the certificate it accepted');
            await new Promise((r) => setTimeout(r, 200));
          }
          const refusedWrite = await post(a.url, '/v1/organization/projects', { name: 'during outage' });
          assert.equal(refusedWrite.status, 503);
          assert.equal(refusedWrite.body.error.code, 'database_unavailable');
        } finally {
          await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
          await admin.end();
        }
        await within(5000, async () => (await call(gateway, { path: '/readyz' })).status === 200);
        await post(a.url, `/v1/organization/projects/${project}/certificates/deactivate`, { certificate_ids: [caId] });
        await within(1000, async () => (await call(gateway, { key })).status === 200);
      });
    }
  });
}
