// Observe mode per scope: the gateway runs the whole admission, lets through what it would refuse, marks it for
// the upstream and counts it; a mode change is enforced within the propagation bound.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { call, startScene, type Scene } from '../support/gateway.js';
import { makeCa, makeClient, type Issued } from '../support/pki.js';
import { within } from '../support/wait.js';

for (const engine of engines) {
  describe(`observe mode (${engine.name})`, () => {
    let scene: Scene;
    let good: Issued;
    const settings = () => `/v1/organization/projects/${scene.project}/mtls_settings`;

    before(async () => {
      scene = await startScene(await engine.fresh(), 'observed');
      const ca = await makeCa();
      await scene.enforce(ca.pem);
      good = await makeClient(ca);
    });
    after(() => scene.close());

    it('enforces by default, and says so', async () => {
      const res = await scene.admin.request('GET', settings());
      assert.deepEqual(res.body, { object: 'mtls_settings', mode: 'enforce', inherited: true, would_refuse: 0, admitted: 0, since: null });
      assert.equal((await call(scene.gateway, { key: scene.key })).status, 403);
    });

    it('in observe, lets a request without a certificate through, marked, and counts it', async () => {
      const set = await scene.admin.request('POST', settings(), { mode: 'observe' });
      assert.equal(set.status, 200, set.text);
      assert.deepEqual([set.body.mode, set.body.inherited], ['observe', false]);
      await within(1000, async () => (await call(scene.gateway, { key: scene.key })).status === 200);
      const marked = await call(scene.gateway, { key: scene.key });
      assert.equal(marked.body.echo.headers['x-certgate-would-refuse'], 'certificate_required');
      const fine = await call(scene.gateway, { key: scene.key, client: good, headers: { 'x-certgate-would-refuse': 'forged' } });
      assert.equal(fine.status, 200);
      assert.equal(fine.body.echo.headers['x-certgate-would-refuse'], undefined);
      assert.ok(fine.body.echo.headers['x-forwarded-client-cert']);
      // the gateway adds its counts to the store about once a second
      await within(5000, async () => {
        const { body } = await scene.admin.request('GET', settings());
        return body.would_refuse >= 2 && body.admitted >= 1 && typeof body.since === 'number';
      });
    });

    it('follows the organization when a project has no setting of its own', async () => {
      const other = (await scene.admin.sdk.admin.organization.projects.create({ name: 'inherits' })).id;
      assert.equal((await scene.admin.request('POST', '/v1/organization/mtls_settings', { mode: 'observe' })).body.mode, 'observe');
      const inherited = await scene.admin.request('GET', `/v1/organization/projects/${other}/mtls_settings`);
      assert.deepEqual([inherited.body.mode, inherited.body.inherited], ['observe', true]);
      assert.equal((await scene.admin.request('POST', '/v1/organization/mtls_settings', { mode: 'enforce' })).body.mode, 'enforce');
    });

    it('enforces again within one second of switching back', async () => {
      assert.equal((await scene.admin.request('POST', settings(), { mode: null })).body.inherited, true);
      await within(1000, async () => (await call(scene.gateway, { key: scene.key })).status === 403);
      assert.equal((await call(scene.gateway, { key: scene.key, client: good })).status, 200);
    });

    it('refuses bad settings with a 4xx and changes nothing', async () => {
      const before = (await scene.admin.request('GET', settings())).body;
      for (const [path, body, status, code] of [
        [settings(), { mode: 'loud' }, 400, 'invalid_value'],
        [settings(), { mode: 1 }, 400, 'invalid_type'],
        [settings(), {}, 400, 'missing_required_parameter'],
        ['/v1/organization/mtls_settings', { mode: null }, 400, 'invalid_value'],
        ['/v1/organization/projects/proj_unknown/mtls_settings', { mode: 'observe' }, 404, 'project_not_found'],
      ] as const) {
        const res = await scene.admin.request('POST', path, body);
        assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
        assert.equal(res.body.error.code, code);
      }
      assert.deepEqual((await scene.admin.request('GET', settings())).body, before);
    });
  });
}
