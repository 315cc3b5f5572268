// Read-after-write across processes, at the smallest scale: two admin servers, each with its own runtime (its own
// snapshots and change feed, as two workers or replicas have) over one store. A read sent to one right after the
// other acknowledged a write reflects it: no waiting for a change notice. The whole-system version, with workers,
// replicas and kills, is test/cluster/consistency.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { makeCa } from '../support/pki.js';
import { startTestServer, type TestServer } from '../support/server.js';

for (const engine of engines) {
  describe(`read-after-write between two processes (${engine.name})`, () => {
    let a: TestServer;
    let b: TestServer;
    let drop: () => Promise<void>;
    before(async () => {
      const place = await engine.fresh();
      drop = place.drop;
      a = await startTestServer(place);
      b = await startTestServer(place);
    });
    after(async () => {
      await a.close();
      await b.close();
      await drop();
    });

    it('a project created, a certificate activated and deactivated on one are seen at once on the other', async () => {
      const ca = await makeCa({ name: 'read after write' });
      const certificate = (await a.sdk.admin.organization.certificates.create({ certificate: ca.pem })).id;
      await b.sdk.admin.organization.certificates.retrieve(certificate);
      for (let i = 0; i < 30; i++) {
        const [writer, reader] = i % 2 ? [a, b] : [b, a];
        const project = (await writer.sdk.admin.organization.projects.create({ name: `raw ${i}` })).id;
        assert.equal((await reader.sdk.admin.organization.projects.retrieve(project)).id, project, `create then read, round ${i}`);
        await writer.sdk.admin.organization.projects.certificates.activate(project, { certificate_ids: [certificate] });
        const on = await reader.sdk.admin.organization.projects.certificates.list(project);
        assert.equal(on.data.find((c) => c.id === certificate)?.active, true, `activate then list, round ${i}`);
        await writer.sdk.admin.organization.projects.certificates.deactivate(project, { certificate_ids: [certificate] });
        const off = await reader.sdk.admin.organization.projects.certificates.list(project);
        assert.equal(off.data.find((c) => c.id === certificate)?.active, false, `deactivate then list, round ${i}`);
      }
    });

    it('an admin key deleted through one is refused by the other at once, even on a kept-alive connection it used', async () => {
      const made = await a.request('POST', '/v1/organization/admin_api_keys', { name: 'short-lived' });
      assert.equal(made.status, 200, made.text);
      const use = () => fetch(`${b.url}/v1/organization/projects`, { headers: { authorization: `Bearer ${made.body.value}` } });
      assert.equal((await use()).status, 200);
      assert.equal((await a.request('DELETE', `/v1/organization/admin_api_keys/${made.body.id}`)).status, 200);
      const res = await use();
      assert.equal(res.status, 401, await res.text());
    });
  });
}
