// Revocation with an anchor's CRL (a certgate extension), set through the admin API and enforced by a gateway on
// its own store connection within the propagation bound, over real TLS.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_ORGANIZATION_ID } from '../../src/domain/model.js';
import { engines } from '../support/engines.js';
import { call, startScene, type Scene } from '../support/gateway.js';
import { makeCa, makeClient, makeCrl, type Issued } from '../support/pki.js';
import { within } from '../support/wait.js';

for (const engine of engines) {
  describe(`CRLs (${engine.name})`, () => {
    let scene: Scene;
    let ca: Issued, mid: Issued, direct: Issued, below: Issued;
    let caId: string;
    const crlPath = () => `/v1/organization/certificates/${caId}/crl`;
    const status = async (client: Issued, chain: Issued[] = []) => (await call(scene.gateway, { key: scene.key, client, chain })).status;
    const put = (crl: string) => scene.admin.request('PUT', crlPath(), { crl });

    before(async () => {
      scene = await startScene(await engine.fresh(), 'revocation');
      ca = await makeCa({ name: 'crl anchor' });
      mid = await makeCa({ name: 'crl intermediate', issuer: ca });
      direct = await makeClient(ca);
      below = await makeClient(mid);
      caId = await scene.enforce(ca.pem);
    });
    after(() => scene.close());

    it('has no CRL until one is set, and admits both clients', async () => {
      const res = await scene.admin.request('GET', crlPath());
      assert.deepEqual(res.body, { object: 'certificate.crl', certificate_id: caId, this_update: null, next_update: null, revoked_count: 0, updated_at: null });
      assert.equal(await status(direct), 200);
      assert.equal(await status(below, [mid]), 200);
    });

    it('refuses a revoked leaf through the gateway within one second of the PUT, and the verify endpoint shows why', async () => {
      const thisUpdate = new Date(Date.now() - 60_000);
      const res = await put(await makeCrl(ca, { revoked: [direct], thisUpdate }));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.object, 'certificate.crl');
      assert.equal(res.body.revoked_count, 1);
      assert.equal(res.body.this_update, Math.floor(thisUpdate.getTime() / 1000));
      assert.equal(typeof res.body.next_update, 'number');
      await within(1000, async () => (await status(direct)) === 403);
      const refused = await call(scene.gateway, { key: scene.key, client: direct });
      assert.equal(refused.body.error.code, 'certificate_verification_failed');
      assert.match(refused.body.error.message, /\(reason: revoked\)$/);
      assert.equal(await status(below, [mid]), 200);
      const verdict = (await scene.admin.request('POST', '/v1/organization/certificates/verify', { certificate: direct.pem, project_id: scene.project })).body;
      assert.equal(verdict.accepted, false);
      assert.deepEqual(verdict.checks.find((c: any) => !c.passed).name, 'not_revoked');
    });

    it('refuses a chain through a revoked intermediate once a newer CRL lists it, and lifts what it no longer lists', async () => {
      assert.equal((await put(await makeCrl(ca, { revoked: [mid] }))).status, 200);
      await within(1000, async () => (await status(below, [mid])) === 403);
      assert.equal(await status(direct), 200);
    });

    it('refuses bad CRLs with a 400 and changes nothing', async () => {
      const before = (await scene.admin.request('GET', crlPath())).body;
      const impostor = await makeCa({ name: 'crl anchor' }); // the same name, another key
      const stranger = await makeCa({ name: 'someone else' });
      const cases: [string, unknown, RegExp][] = [
        ['signed by another key under the same name', { crl: await makeCrl(ca, { revoked: [direct], signedBy: impostor }) }, /signed by/],
        ['issued by another CA', { crl: await makeCrl(stranger, { revoked: [direct] }) }, /signed by/],
        ['malformed', { crl: '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n' }, /could not be read/],
        ['not a CRL at all', { crl: 'hello, world' }, /PEM|base64/],
        // the limit is on the DER: 1,400,000 base64 characters are 1,050,000 bytes, just past 1 MiB
        ['over 1 MiB of DER', { crl: `${'A'.repeat(1_400_000)}\n` }, /at most 1 MiB of DER; this one is 1,050,000 bytes/],
        ['older than the one stored', { crl: await makeCrl(ca, { revoked: [], thisUpdate: new Date(Date.now() - 3600_000) }) }, /before the one already stored/],
      ];
      for (const [label, body, message] of cases) {
        const res = await scene.admin.request('PUT', crlPath(), body);
        assert.equal(res.status, 400, `${label}: ${res.text.slice(0, 200)}`);
        assert.equal(res.body.error.code, 'crl_invalid', label);
        assert.match(res.body.error.message, message, label);
      }
      const huge = await scene.admin.request('PUT', crlPath(), { crl: 'A'.repeat(3 * 1024 * 1024) });
      assert.equal(huge.status, 413);
      assert.deepEqual((await scene.admin.request('GET', crlPath())).body, before);
      assert.equal(await status(below, [mid]), 403);
    });

    it('keeps enforcing a CRL past its next update (revoked stays revoked, others pass), and accepts base64 DER', async () => {
      assert.equal((await scene.admin.request('DELETE', crlPath())).status, 200);
      await within(1000, async () => (await status(below, [mid])) === 200);
      const stale = await makeCrl(ca, { revoked: [direct], thisUpdate: new Date(Date.now() - 2 * 86400_000), nextUpdate: new Date(Date.now() - 86400_000) });
      const der = stale.replace(/-----[A-Z0-9 ]+-----/g, '').replace(/\s+/g, '');
      const res = await put(der);
      assert.equal(res.status, 200, res.text);
      assert.ok(res.body.next_update < Date.now() / 1000);
      await within(1000, async () => (await status(direct)) === 403);
      assert.equal(await status(below, [mid]), 200);
    });

    it('removes the CRL with DELETE', async () => {
      const res = await scene.admin.request('DELETE', crlPath());
      assert.equal(res.status, 200);
      assert.equal(res.body.this_update, null);
      assert.equal(typeof res.body.updated_at, 'number');
      await within(1000, async () => (await status(direct)) === 200);
    });

    it('a stored CRL this version cannot read fails closed with its own reason (403 crl_unusable, never "revoked"), and other anchors keep working', async () => {
      const other = await makeCa({ name: 'crl bystander anchor' });
      const otherClient = await makeClient(other);
      await scene.enforce(other.pem);
      // as a store written by another version might hold it: no API would take it
      const now = Math.floor(Date.now() / 1000);
      const unreadable = '-----BEGIN X509 CRL-----\nMAMCAQE=\n-----END X509 CRL-----\n';
      await scene.admin.rt.write({ organizationId: DEFAULT_ORGANIZATION_ID, key: null, local: 'test' }, (tx) =>
        tx.setCrl(caId, { content: unreadable, thisUpdate: now, nextUpdate: null, revokedCount: 0, updatedAt: now }),
      );
      await within(1000, async () => /\(reason: crl_unusable\)$/.test((await call(scene.gateway, { key: scene.key, client: direct })).body?.error?.message ?? ''));
      const refused = await call(scene.gateway, { key: scene.key, client: direct });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error.code, 'certificate_verification_failed');
      assert.match(refused.body.error.message, new RegExp(`CRL of trust anchor ${caId} cannot be read.*\\(reason: crl_unusable\\)$`));
      assert.equal(await status(otherClient), 200, "another anchor's client is admitted");
      const verdict = await scene.admin.request('POST', '/v1/organization/certificates/verify', { certificate: direct.pem, project_id: scene.project });
      assert.equal(verdict.status, 200, 'the verify endpoint answers, no 500');
      assert.equal(verdict.body.checks.find((c: any) => !c.passed).name, 'not_revoked');
      assert.equal((await scene.admin.request('DELETE', crlPath())).status, 200);
      await within(1000, async () => (await status(direct)) === 200);
    });
  });
}
