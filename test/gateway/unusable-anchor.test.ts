// Upgrades that never break the gate: an active anchor stored by an earlier, more lenient version, which this
// version's reader refuses (here a BOOLEAN with a non-minimal length, which OpenSSL reads), is never a 500. Its
// clients are refused 403 certificate_verification_failed (reason anchor_unusable) naming it; every other anchor goes on admitting; the verify endpoint, the
// certgate extension GET /v1/organization/certificates/unusable, both metrics listeners and the log say so (at start
// and on each change); it can be deactivated and deleted like any anchor.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_ORGANIZATION_ID } from '../../src/domain/model.js';
import { watchUnusableAnchors } from '../../src/services/unusable-anchors.js';
import { engines } from '../support/engines.js';
import { call, startScene, type Scene } from '../support/gateway.js';
import { makeCa, makeClient, type Issued } from '../support/pki.js';
import { parsePrometheusText, samples } from '../support/prometheus.js';
import { ADMIN_KEY } from '../support/server.js';
import { assertRefusedByApi, lenientCa, storeAsOlderVersion } from '../support/unusable-anchor.js';
import { within } from '../support/wait.js';

const GAUGE = 'certgate_trust_anchors_unusable';

/** A log that keeps its lines. */
function memoryLog() {
  const lines: { level: string; entry: any; msg: string }[] = [];
  const at = (level: string) => (entry: object, msg: string) => void lines.push({ level, entry, msg });
  return { lines, log: { error: at('error'), warn: at('warn'), info: at('info') } };
}

for (const engine of engines) {
  describe(`an active anchor this version cannot read (${engine.name})`, () => {
    let scene: Scene;
    let good: Issued, lenient: Issued, goodClient: Issued, lenientClient: Issued;
    let unusableId: string;
    /** every status any server answered in this block: none may be 500 or more */
    const statuses: { what: string; status: number }[] = [];
    const admin = async (method: string, path: string, body?: unknown) => {
      const res = await scene.admin.request(method, path, body);
      statuses.push({ what: `${method} ${path}`, status: res.status });
      return res;
    };
    const gate = async (options: Parameters<typeof call>[1]) => {
      const res = await call(scene.gateway, options);
      const named = res.status === 403 && /\(reason: anchor_unusable\)$/.test(res.body?.error?.message ?? '');
      statuses.push({ what: named ? 'gateway refusal naming the anchor' : 'gateway', status: res.status });
      return res;
    };
    const gauges = async () => {
      const adminText = await fetch(`${scene.admin.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      const gatewayText = await fetch(scene.gateway.metricsUrl!);
      statuses.push({ what: 'admin /metrics', status: adminText.status }, { what: 'gateway /metrics', status: gatewayText.status });
      const value = (text: string) => samples(parsePrometheusText(text), GAUGE, { organization_id: DEFAULT_ORGANIZATION_ID })[0]?.value;
      return { admin: value(await adminText.text()), gateway: value(await gatewayText.text()) };
    };

    before(async () => {
      scene = await startScene(await engine.fresh(), 'unusable anchor', ['--metrics-port', '0']);
      good = await makeCa({ name: 'readable anchor' });
      lenient = await lenientCa();
      goodClient = await makeClient(good);
      lenientClient = await makeClient(lenient);
      await scene.enforce(good.pem);
      await assertRefusedByApi(admin, lenient);
      statuses.length = 0; // that 400 was asked for
      unusableId = await storeAsOlderVersion(scene.admin.rt, lenient, scene.project);
    });
    after(async () => {
      await scene.close();
    });

    it("refuses its clients with 403 anchor_unusable naming it, and admits the other anchor's", async () => {
      const unusable = (res: Awaited<ReturnType<typeof gate>>) => /\(reason: anchor_unusable\)$/.test(res.body?.error?.message ?? '');
      await within(1000, async () => unusable(await gate({ key: scene.key, client: lenientClient })));
      const refused = await gate({ key: scene.key, client: lenientClient });
      assert.equal(refused.status, 403, 'not a 5xx: retrying does not help, and the server is not failing');
      assert.equal(refused.body.error.code, 'certificate_verification_failed');
      assert.match(refused.body.error.message, new RegExp(`Trust anchor ${unusableId} is in force here but cannot be read.*\\(reason: anchor_unusable\\)$`));
      assert.equal((await gate({ key: scene.key, client: goodClient })).status, 200);
      assert.equal((await gate({ key: scene.key })).status, 403, 'still no admission without a certificate');
    });

    it('answers every admin read and the verify endpoint without a 500, and says which anchor is unusable', async () => {
      for (const path of ['/v1/organization/certificates', `/v1/organization/certificates/${unusableId}`, `/v1/organization/projects/${scene.project}/certificates`]) {
        assert.equal((await admin('GET', path)).status, 200, path);
      }
      const verifyLenient = await admin('POST', '/v1/organization/certificates/verify', { certificate: lenientClient.pem, project_id: scene.project });
      assert.equal(verifyLenient.status, 200);
      assert.equal(verifyLenient.body.accepted, false);
      assert.match(JSON.stringify(verifyLenient.body), /anchor_unusable/);
      const verifyGood = await admin('POST', '/v1/organization/certificates/verify', { certificate: goodClient.pem, project_id: scene.project });
      assert.equal(verifyGood.body.accepted, true);
      assert.match(verifyGood.body.checks.find((c: any) => c.name === 'trusted_issuer').message, new RegExp(`${unusableId} in force here cannot be read`));
      const crl = await admin('PUT', `/v1/organization/certificates/${unusableId}/crl`, { crl: 'MAMCAQE=' });
      assert.equal(crl.status, 400);
      statuses.pop(); // asked for
    });

    it('lists it, with why and where it is active, in GET /v1/organization/certificates/unusable; OpenAI\'s certificate object gains no field', async () => {
      const listed = await admin('GET', '/v1/organization/certificates/unusable');
      assert.equal(listed.status, 200);
      assert.equal(listed.body.object, 'list');
      assert.equal(listed.body.data.length, 1, 'the readable anchor is not listed');
      const [entry] = listed.body.data;
      assert.deepEqual({ ...entry, problem: typeof entry.problem }, { object: 'certificate.unusable', id: unusableId, name: 'from an older version', problem: 'string', active_in: [scene.project] });
      assert.ok(entry.problem.length > 0);
      assert.ok(!entry.problem.includes('BEGIN'), 'no PEM in the problem');
      const object = (await admin('GET', `/v1/organization/certificates/${unusableId}`)).body;
      assert.deepEqual(Object.keys(object).sort(), ['certificate_details', 'created_at', 'id', 'name', 'object']);
      const reader = await admin('POST', '/v1/organization/admin_api_keys', { name: 'no mtls', permissions: ['api.audit_logs.read'] });
      const denied = await fetch(`${scene.admin.url}/v1/organization/certificates/unusable`, { headers: { authorization: `Bearer ${reader.body.value}` } });
      assert.equal(denied.status, 401, 'the extension asks for api.mtls.read, as the list does');
    });

    it('is counted by certgate_trust_anchors_unusable on both metrics listeners', async () => {
      assert.deepEqual(await gauges(), { admin: 1, gateway: 1 });
    });

    it('is logged at start and on every change: activated elsewhere, deactivated, activated again', async () => {
      const { lines, log } = memoryLog();
      const stop = await watchUnusableAnchors(scene.gateway.rt, log);
      try {
        assert.deepEqual(lines.map((l) => [l.level, l.entry.certificate_id]), [['error', unusableId]]);
        assert.match(lines[0]!.msg, /anchor_unusable/);
        assert.ok(typeof lines[0]!.entry.problem === 'string');
        // changed through the admin API, another store connection: the gateway's runtime hears of it
        assert.equal((await admin('POST', '/v1/organization/certificates/activate', { certificate_ids: [unusableId] })).status, 200);
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(lines.length, 1, 'active in one more scope is no change of what cannot be read');
        assert.equal((await admin('POST', '/v1/organization/certificates/deactivate', { certificate_ids: [unusableId] })).status, 200);
        assert.equal((await admin('POST', `/v1/organization/projects/${scene.project}/certificates/deactivate`, { certificate_ids: [unusableId] })).status, 200);
        await within(2000, async () => lines.length === 2);
        assert.deepEqual([lines[1]!.level, lines[1]!.entry.certificate_id], ['info', unusableId]);
        assert.match(lines[1]!.msg, /no longer in force/);
        assert.deepEqual(await gauges(), { admin: 0, gateway: 0 });
        assert.equal((await admin('POST', `/v1/organization/projects/${scene.project}/certificates/activate`, { certificate_ids: [unusableId] })).status, 200);
        await within(2000, async () => lines.length === 3);
        assert.deepEqual([lines[2]!.level, lines[2]!.entry.certificate_id], ['error', unusableId]);
        assert.deepEqual(await gauges(), { admin: 1, gateway: 1 });
      } finally {
        stop();
      }
      // the admin's own runtime, which made the change itself, hears of it too
      const own = memoryLog();
      const stopOwn = await watchUnusableAnchors(scene.admin.rt, own.log);
      try {
        assert.equal(own.lines.length, 1);
        await scene.admin.rt.write({ organizationId: DEFAULT_ORGANIZATION_ID, key: null, local: 'test' }, (tx) => tx.deactivate(scene.project, [unusableId]));
        await within(2000, async () => own.lines.length === 2);
        assert.equal(own.lines[1]!.level, 'info');
        await scene.admin.rt.write({ organizationId: DEFAULT_ORGANIZATION_ID, key: null, local: 'test' }, (tx) => tx.activate(scene.project, [unusableId], Math.floor(Date.now() / 1000)));
        await within(2000, async () => own.lines.length === 3);
      } finally {
        stopOwn();
      }
    });

    it('is deactivated and deleted like any anchor', async () => {
      assert.equal((await admin('POST', `/v1/organization/projects/${scene.project}/certificates/deactivate`, { certificate_ids: [unusableId] })).status, 200);
      assert.equal((await admin('DELETE', `/v1/organization/certificates/${unusableId}`)).status, 200);
      await within(1000, async () => {
        const res = await gate({ key: scene.key, client: lenientClient });
        return res.status === 403 && /\(reason: untrusted_issuer\)$/.test(res.body?.error?.message ?? '');
      });
      assert.deepEqual((await admin('GET', '/v1/organization/certificates/unusable')).body.data, []);
    });

    it('answered nothing of 500 or more, anywhere', () => {
      assert.ok(statuses.length > 20);
      assert.deepEqual(statuses.filter((s) => s.status >= 500), []);
      assert.ok(statuses.some((s) => s.what === 'gateway refusal naming the anchor'), 'the anchor_unusable refusal was seen');
    });
  });
}
