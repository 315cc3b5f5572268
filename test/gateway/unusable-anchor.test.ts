// Upgrades that never break the gate: an active anchor stored by an earlier, more lenient version, which this
// version's reader refuses (here a BOOLEAN with a non-minimal length, which OpenSSL reads), is never a 500. Its
// clients are refused 503 anchor_unusable naming it; every other anchor goes on admitting; the verify endpoint says
// so; it can be deactivated and deleted like any anchor.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_ORGANIZATION_ID } from '../../src/domain/model.js';
import { newId } from '../../src/domain/ids.js';
import { hex } from '../support/der.js';
import { engines } from '../support/engines.js';
import { call, startScene, type Scene } from '../support/gateway.js';
import { Extension, KeyUsageFlags, makeCa, makeClient, type Issued } from '../support/pki.js';
import { within } from '../support/wait.js';

const BY = { organizationId: DEFAULT_ORGANIZATION_ID, key: null, local: 'test' };

for (const engine of engines) {
  describe(`an active anchor this version cannot read (${engine.name})`, () => {
    let scene: Scene;
    let good: Issued, lenient: Issued, goodClient: Issued, lenientClient: Issued;
    const unusableId = newId('cert');

    before(async () => {
      scene = await startScene(await engine.fresh(), 'unusable anchor');
      good = await makeCa({ name: 'readable anchor' });
      lenient = await makeCa({
        name: 'anchor of an older reader',
        ca: null,
        keyUsage: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
        extra: [new Extension('2.5.29.19', true, new Uint8Array(hex('30 04 01 81 01 ff')))],
      });
      goodClient = await makeClient(good);
      lenientClient = await makeClient(lenient);
      await scene.enforce(good.pem);
      // stored as an earlier version would have stored it: the API of this one refuses it
      const refused = await scene.admin.request('POST', '/v1/organization/certificates', { certificate: lenient.pem });
      assert.equal(refused.status, 400);
      const now = Math.floor(Date.now() / 1000);
      await scene.admin.rt.write(BY, async (tx) => {
        await tx.insertCertificate({
          id: unusableId,
          name: 'from an older version',
          fingerprint: createHash('sha256').update(Buffer.from(lenient.cert.rawData)).digest('hex'),
          content: lenient.pem,
          validAt: Math.floor(lenient.cert.notBefore.getTime() / 1000),
          expiresAt: Math.floor(lenient.cert.notAfter.getTime() / 1000),
          createdAt: now,
          filterExpression: null,
          filterUpdatedAt: null,
          crl: null,
        });
        await tx.activate(scene.project, [unusableId], now);
      });
    });
    after(() => scene.close());

    it('refuses its clients with 503 anchor_unusable naming it, and admits the other anchor\'s', async () => {
      await within(1000, async () => (await call(scene.gateway, { key: scene.key, client: lenientClient })).status === 503);
      const refused = await call(scene.gateway, { key: scene.key, client: lenientClient });
      assert.equal(refused.body.error.code, 'authentication_temporarily_unavailable');
      assert.match(refused.body.error.message, new RegExp(`Trust anchor ${unusableId} is in force here but cannot be read.*\\(reason: anchor_unusable\\)$`));
      assert.equal((await call(scene.gateway, { key: scene.key, client: goodClient })).status, 200);
      assert.equal((await call(scene.gateway, { key: scene.key })).status, 403, 'still no admission without a certificate');
    });

    it('answers every admin read and the verify endpoint without a 500, and says which anchor is unusable', async () => {
      for (const path of ['/v1/organization/certificates', `/v1/organization/certificates/${unusableId}`, `/v1/organization/projects/${scene.project}/certificates`]) {
        assert.equal((await scene.admin.request('GET', path)).status, 200, path);
      }
      const verifyLenient = await scene.admin.request('POST', '/v1/organization/certificates/verify', { certificate: lenientClient.pem, project_id: scene.project });
      assert.equal(verifyLenient.status, 200);
      assert.equal(verifyLenient.body.accepted, false);
      assert.match(JSON.stringify(verifyLenient.body), /anchor_unusable/);
      const verifyGood = await scene.admin.request('POST', '/v1/organization/certificates/verify', { certificate: goodClient.pem, project_id: scene.project });
      assert.equal(verifyGood.body.accepted, true);
      assert.match(verifyGood.body.checks.find((c: any) => c.name === 'trusted_issuer').message, new RegExp(`${unusableId} in force here cannot be read`));
      const crl = await scene.admin.request('PUT', `/v1/organization/certificates/${unusableId}/crl`, { crl: 'MAMCAQE=' });
      assert.equal(crl.status, 400);
    });

    it('is deactivated and deleted like any anchor', async () => {
      assert.equal((await scene.admin.request('POST', `/v1/organization/projects/${scene.project}/certificates/deactivate`, { certificate_ids: [unusableId] })).status, 200);
      assert.equal((await scene.admin.request('DELETE', `/v1/organization/certificates/${unusableId}`)).status, 200);
      await within(1000, async () => (await call(scene.gateway, { key: scene.key, client: lenientClient })).status === 403);
    });
  });
}
