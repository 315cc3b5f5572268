// OpenAI's per-anchor CEL filter, set through certgate's extension endpoint and enforced by a gateway on its
// own store connection (as another process would be), over real TLS, with certificates made here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { call, startScene, type Scene, type TestGateway } from '../support/gateway.js';
import { makeCa, makeClient, type Issued } from '../support/pki.js';
import type { TestServer } from '../support/server.js';
import { within } from '../support/wait.js';

const EXAMPLE = 'subject.organizational_unit == "Production" && subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".example.com"))';

for (const engine of engines) {
  describe(`anchor filters (${engine.name})`, () => {
    let scene: Scene;
    let admin: TestServer;
    let gateway: TestGateway;
    let key: string;
    let project: string;
    let ca: Issued;
    let caId: string;
    let production: Issued, staging: Issued;

    const filterPath = () => `/v1/organization/certificates/${caId}/filter`;
    const verify = async (client: Issued) =>
      (await admin.request('POST', '/v1/organization/certificates/verify', { certificate: client.pem, project_id: project })).body;

    before(async () => {
      scene = await startScene(await engine.fresh(), 'filtered');
      ({ admin, gateway, key, project } = scene);
      ca = await makeCa({ name: 'filter CA' });
      caId = await scene.enforce(ca.pem);
      production = await makeClient(ca, { subject: 'CN=w1, OU=Production, O=Example', dnsNames: ['api.example.com'] });
      staging = await makeClient(ca, { subject: 'CN=w2, OU=Staging, O=Example', dnsNames: ['api.example.com'] });
    });
    after(() => scene.close());

    it('has no filter until one is set', async () => {
      const res = await admin.request('GET', filterPath());
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { object: 'certificate.filter', certificate_id: caId, expression: null, updated_at: null });
      assert.equal((await call(gateway, { key, client: staging })).status, 200);
    });

    it("enforces OpenAI's example through the gateway within one second, and the verify endpoint agrees", async () => {
      const put = await admin.request('PUT', filterPath(), { expression: EXAMPLE });
      assert.equal(put.status, 200);
      assert.equal(put.body.object, 'certificate.filter');
      assert.equal(put.body.expression, EXAMPLE);
      assert.equal(typeof put.body.updated_at, 'number');
      assert.deepEqual((await admin.request('GET', filterPath())).body, put.body);

      await within(1000, async () => (await call(gateway, { key, client: staging })).status === 403);
      const refused = await call(gateway, { key, client: staging });
      assert.equal(refused.body.error.code, 'certificate_attribute_verification_failed');
      assert.match(refused.body.error.message, /\(reason: filter_rejected\)$/);
      assert.equal((await call(gateway, { key, client: production })).status, 200);

      const no = await verify(staging);
      assert.equal(no.accepted, false);
      assert.deepEqual(no.refusal.code, 'certificate_attribute_verification_failed');
      assert.deepEqual(no.checks.at(-1), { name: 'filter', passed: false, message: no.refusal.message });
      const yes = await verify(production);
      assert.equal(yes.accepted, true);
      assert.equal(yes.checks.at(-1).name, 'filter');
      assert.equal(yes.checks.at(-1).passed, true);
    });

    it('leaves the OpenAI-shaped certificate objects exactly as the SDK types them', async () => {
      const got = await admin.sdk.admin.organization.certificates.retrieve(caId);
      assert.deepEqual(Object.keys(got).sort(), ['certificate_details', 'created_at', 'id', 'name', 'object']);
      const listed = await admin.request('GET', `/v1/organization/projects/${project}/certificates`);
      assert.deepEqual(Object.keys(listed.body.data[0]).sort(), ['active', 'certificate_details', 'created_at', 'id', 'name', 'object']);
    });

    it('answers 503 authentication_temporarily_unavailable when the filter fails at run time, never admitting', async () => {
      assert.equal((await admin.request('PUT', filterPath(), { expression: 'subject_alt_names[3].value == "x"' })).status, 200);
      await within(1000, async () => (await call(gateway, { key, client: production })).status === 503);
      const res = await call(gateway, { key, client: production });
      assert.equal(res.body.error.code, 'authentication_temporarily_unavailable');
      assert.equal(res.body.error.type, 'server_error');
      assert.match(res.body.error.message, /\(reason: filter_error\)$/);
      assert.equal((await verify(production)).refusal.code, 'authentication_temporarily_unavailable');
    });

    it('refuses bad filters with a 4xx in the envelope and changes nothing', async () => {
      assert.equal((await admin.request('PUT', filterPath(), { expression: EXAMPLE })).status, 200);
      const before = (await admin.request('GET', filterPath())).body;
      const state = JSON.stringify(await admin.store.loadOrganization('org-default'));
      const bad: [unknown, number, string][] = [
        [{ expression: 12 }, 400, 'invalid_type'],
        [{ expression: null }, 400, 'invalid_type'],
        [{ expression: ['true'] }, 400, 'invalid_type'],
        [{}, 400, 'missing_required_parameter'],
        [{ expression: 'true', extra: 1 }, 400, 'unknown_parameter'],
        [{ expression: '' }, 400, 'mtls_cel_policy_invalid'],
        [{ expression: `subject.common_name == "${'x'.repeat(5000)}"` }, 400, 'mtls_cel_policy_invalid'],
        [{ expression: 'x'.repeat(70_000) }, 413, 'request_too_large'],
        [{ expression: 'subject.common_name' }, 400, 'mtls_cel_policy_invalid'],
        [{ expression: 'subject.nickname == "x"' }, 400, 'mtls_cel_policy_invalid'],
        [{ expression: 'whoami == "x"' }, 400, 'mtls_cel_policy_invalid'],
        [{ expression: `${'!'.repeat(2000)}true` }, 400, 'mtls_cel_policy_invalid'],
        [{ expression: `${'['.repeat(1000)}${']'.repeat(1000)} == []` }, 400, 'mtls_cel_policy_invalid'],
        ['{"expression": "tr', 400, 'invalid_json'],
      ];
      for (const [body, status, code] of bad) {
        const res = await admin.request('PUT', filterPath(), body);
        assert.equal(res.status, status, `${JSON.stringify(body).slice(0, 60)}: ${res.text.slice(0, 200)}`);
        assert.deepEqual(Object.keys(res.body.error).sort(), ['code', 'message', 'param', 'type']);
        assert.equal(res.body.error.code, code, JSON.stringify(body).slice(0, 60));
      }
      const missing = await admin.request('PUT', '/v1/organization/certificates/cert_01m88fth85m0t9f9e6k3ng14tt/filter', { expression: 'true' });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'certificate_not_found');
      assert.deepEqual((await admin.request('GET', filterPath())).body, before);
      assert.equal(JSON.stringify(await admin.store.loadOrganization('org-default')), state);
    });

    it('removes a filter with DELETE, and the gateway admits what it refused within one second', async () => {
      const res = await admin.request('DELETE', filterPath());
      assert.equal(res.status, 200);
      assert.equal(res.body.expression, null);
      assert.equal(typeof res.body.updated_at, 'number');
      await within(1000, async () => (await call(gateway, { key, client: staging })).status === 200);
      assert.equal((await verify(staging)).accepted, true);
    });
  });
}
