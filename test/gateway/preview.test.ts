// The lockout preview: two gateway processes' worth of traffic (two gateways on their own store connections)
// recorded in the shared store, a preview of a change, then the change itself: the preview named exactly the
// clients the change refuses.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { call, startScene, startTestGateway, type Scene, type TestGateway } from '../support/gateway.js';
import { makeCa, makeClient, type Issued } from '../support/pki.js';
import { within } from '../support/wait.js';

const fingerprint = (c: Issued) => createHash('sha256').update(Buffer.from(c.cert.rawData)).digest('hex');

for (const engine of engines) {
  describe(`lockout preview (${engine.name})`, () => {
    let scene: Scene;
    let second: TestGateway;
    let ca1: Issued, ca2: Issued, a: Issued, b: Issued;
    let ca1Id: string, ca2Id: string;
    const preview = (body: unknown) => scene.admin.request('POST', '/v1/organization/certificates/preview', body);

    before(async () => {
      const place = await engine.fresh();
      scene = await startScene(place, 'preview');
      second = await startTestGateway(place, scene.upstream.url);
      [ca1, ca2] = await Promise.all([makeCa({ name: 'ca one' }), makeCa({ name: 'ca two' })]);
      [a, b] = await Promise.all([makeClient(ca1, { subject: 'CN=client a' }), makeClient(ca2, { subject: 'CN=client b' })]);
      const org = scene.admin.sdk.admin.organization;
      ca1Id = (await org.certificates.create({ certificate: ca1.pem })).id;
      ca2Id = (await org.certificates.create({ certificate: ca2.pem })).id;
    });
    after(async () => {
      await second.close();
      await scene.close();
    });

    it('names exactly the clients that the change then refuses', async () => {
      // no anchor in force: every client passes; a through one gateway, b and a certificate-less client through the other
      assert.equal((await call(scene.gateway, { key: scene.key, client: a })).status, 200);
      assert.equal((await call(second, { key: scene.key, client: b })).status, 200);
      assert.equal((await call(second, { key: scene.key })).status, 200);
      const change = { action: 'activate', certificate_ids: [ca1Id], project_id: scene.project };
      let seen: any;
      await within(5000, async () => {
        seen = (await preview(change)).body;
        return seen.would_refuse?.length === 2 && seen.would_admit === 1;
      });
      assert.equal(seen.object, 'certificate.preview');
      const named = seen.would_refuse.map((c: any) => c.fingerprint).sort();
      assert.deepEqual(named, [fingerprint(b), null].sort());
      const byB = seen.would_refuse.find((c: any) => c.fingerprint === fingerprint(b));
      assert.equal(byB.subject, 'CN=client b');
      assert.equal(byB.project_id, scene.project);
      assert.match(byB.service_account_id, /^svc_acct_/);
      assert.ok(byB.requests >= 1 && byB.last_seen_at > 0);

      // now the change itself
      await scene.admin.sdk.admin.organization.projects.certificates.activate(scene.project, { certificate_ids: [ca1Id] });
      await within(1000, async () => (await call(scene.gateway, { key: scene.key })).status === 403);
      assert.equal((await call(scene.gateway, { key: scene.key, client: a })).status, 200);
      assert.equal((await call(second, { key: scene.key, client: b })).status, 403);
      assert.equal((await call(second, { key: scene.key })).status, 403);
    });

    it('locks nobody out by deactivating the only anchor, and names a client that only another anchor admits', async () => {
      const off = (await preview({ action: 'deactivate', certificate_ids: [ca1Id], project_id: scene.project })).body;
      assert.deepEqual(off.would_refuse, []);
      assert.equal(off.would_admit, 3);
      await scene.admin.sdk.admin.organization.projects.certificates.activate(scene.project, { certificate_ids: [ca2Id] });
      await within(1000, async () => (await call(second, { key: scene.key, client: b })).status === 200);
      const dropTwo = (await preview({ action: 'deactivate', certificate_ids: [ca2Id], project_id: scene.project })).body;
      assert.deepEqual(
        dropTwo.would_refuse.map((c: any) => c.fingerprint),
        [fingerprint(b)],
      );
    });

    it('refuses bad previews with a 4xx and changes nothing', async () => {
      for (const [body, status, code] of [
        [{ action: 'explode', certificate_ids: [ca1Id] }, 400, 'invalid_value'],
        [{ action: 'activate', certificate_ids: [] }, 400, 'invalid_value'],
        [{ action: 'activate', certificate_ids: Array(11).fill(ca1Id) }, 400, 'invalid_value'],
        [{ action: 'activate', certificate_ids: ['cert_nope'] }, 404, 'certificate_not_found'],
        [{ action: 'activate', certificate_ids: [ca1Id], project_id: 'proj_nope' }, 404, 'project_not_found'],
        [{ certificate_ids: [ca1Id] }, 400, 'missing_required_parameter'],
      ] as const) {
        const res = await preview(body);
        assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
        assert.equal(res.body.error.code, code);
      }
      const list = await scene.admin.request('GET', `/v1/organization/projects/${scene.project}/certificates`);
      assert.deepEqual(
        list.body.data.filter((c: any) => c.active).map((c: any) => c.id).sort(),
        [ca1Id, ca2Id].sort(),
      );
    });
  });
}
