// GET /metrics on the admin API: any admin key reads it, and what it says
// matches what the API says (the expiry gauge is the anchor's expires_at).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UNMATCHED_ROUTE } from '../../src/metrics/admin-api.js';
import { engines } from '../support/engines.js';
import { makeCa, makeCrl, type Issued } from '../support/pki.js';
import { parsePrometheusText, samples, type Family } from '../support/prometheus.js';
import { ADMIN_KEY, startTestServer, type TestServer } from '../support/server.js';

const DAY = 24 * 60 * 60 * 1000;
const EXPIRY = 'certgate_anchor_expiry_timestamp_seconds';

for (const engine of engines) {
  describe(`admin API /metrics (${engine.name})`, () => {
    let server: TestServer;
    let drop: () => Promise<void>;
    let ca: Issued;
    let caId: string;
    let project: string;
    const org = () => server.sdk.admin.organization;

    async function scrape(): Promise<Map<string, Family>> {
      const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return parsePrometheusText(await res.text());
    }

    before(async () => {
      const place = await engine.fresh();
      drop = place.drop;
      server = await startTestServer(place);
      ca = await makeCa({ name: 'metrics CA', notAfter: new Date(Date.now() + 40 * DAY) });
      caId = (await org().certificates.create({ certificate: ca.pem, name: 'metrics CA' })).id;
      project = (await org().projects.create({ name: 'metrics' })).id;
    });
    after(async () => {
      await server.close();
      await drop();
    });

    it('refuses a scrape without a key, or with one that is not an admin key, with 401 in the envelope', async () => {
      for (const headers of [{} as Record<string, string>, { authorization: 'Bearer sk-admin-not-a-real-key-000000000' }, { authorization: 'Basic abc' }]) {
        const res = await fetch(`${server.url}/metrics`, { headers });
        assert.equal(res.status, 401);
        const body = (await res.json()) as { error: Record<string, unknown> };
        assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
        assert.equal(body.error.type, 'invalid_request_error');
        assert.ok(typeof body.error.message === 'string' && body.error.message.length > 0);
      }
    });

    it('is readable with any admin key, whatever its permissions, and not with a deleted one', async () => {
      const made = await server.request('POST', '/v1/organization/admin_api_keys', { name: 'scraper', permissions: ['api.audit_logs.read'] });
      assert.equal(made.status, 200, made.text);
      const scrapeWith = (key: string) => fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
      const ok = await scrapeWith(made.body.value);
      assert.equal(ok.status, 200);
      assert.ok(parsePrometheusText(await ok.text()).has('certgate_store_up'));
      // the same key is refused where a permission it lacks is needed
      assert.equal((await fetch(`${server.url}/v1/organization/certificates`, { headers: { authorization: `Bearer ${made.body.value}` } })).status, 401);
      assert.equal((await server.request('DELETE', `/v1/organization/admin_api_keys/${made.body.id}`)).status, 200);
      assert.equal((await scrapeWith(made.body.value)).status, 401);
    });

    it('reports the store as up and the snapshot it serves', async () => {
      const m = await scrape();
      assert.equal(m.get('certgate_store_up')?.type, 'gauge');
      assert.equal(samples(m, 'certgate_store_up')[0]?.value, 1);
      assert.equal(m.get('certgate_snapshot_reloads_total')?.type, 'counter');
      assert.ok(samples(m, 'certgate_snapshot_reloads_total')[0]!.value >= 1);
      const age = samples(m, 'certgate_snapshot_age_seconds')[0]!.value;
      assert.ok(age >= 0 && Number.isFinite(age));
      assert.ok(m.has('process_cpu_user_seconds_total'), 'Node process metrics are included');
    });

    it("gives each active anchor's expires_at per scope, and drops a scope once deactivated", async () => {
      assert.deepEqual(samples(await scrape(), EXPIRY, { certificate_id: caId }), [], 'an inactive anchor has no expiry series');
      await org().certificates.activate({ certificate_ids: [caId] });
      await org().projects.certificates.activate(project, { certificate_ids: [caId] });
      const expiresAt = (await org().certificates.retrieve(caId)).certificate_details.expires_at!;
      assert.equal(expiresAt, Math.floor(ca.cert.notAfter.getTime() / 1000));

      let series = samples(await scrape(), EXPIRY, { certificate_id: caId });
      assert.deepEqual(series.map((s) => [s.labels.scope, s.value]).sort(), [
        ['organization', expiresAt],
        [project, expiresAt],
      ].sort());

      await org().certificates.deactivate({ certificate_ids: [caId] });
      series = samples(await scrape(), EXPIRY, { certificate_id: caId });
      assert.deepEqual(series.map((s) => [s.labels.scope, s.value]), [[project, expiresAt]]);

      await org().projects.certificates.deactivate(project, { certificate_ids: [caId] });
      assert.deepEqual(samples(await scrape(), EXPIRY, { certificate_id: caId }), []);
    });

    it("gives each CRL's next_update as the API reports it", async () => {
      const name = 'certgate_crl_next_update_timestamp_seconds';
      assert.deepEqual(samples(await scrape(), name, { certificate_id: caId }), []);
      const crl = await makeCrl(ca, { nextUpdate: new Date(Date.now() + 3 * DAY) });
      const put = await server.request('PUT', `/v1/organization/certificates/${caId}/crl`, { crl });
      assert.equal(put.status, 200, put.text);
      assert.equal(typeof put.body.next_update, 'number');
      assert.deepEqual(samples(await scrape(), name, { certificate_id: caId }).map((s) => s.value), [put.body.next_update]);
      assert.equal((await server.request('DELETE', `/v1/organization/certificates/${caId}/crl`)).status, 200);
      assert.deepEqual(samples(await scrape(), name, { certificate_id: caId }), []);
    });

    it('times requests by route pattern, never by raw URL', async () => {
      await org().certificates.retrieve(caId);
      const unknown = await server.request('GET', '/no/such/place-sk-admin-secret?key=sk-admin-zzz');
      assert.equal(unknown.status, 404);
      const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      const text = await res.text();
      assert.ok(!text.includes('no/such') && !text.includes(caId + '"}') && !text.includes('sk-admin'), 'no raw URL, id or key in a label');
      const m = parsePrometheusText(text);
      const name = 'certgate_http_request_duration_seconds';
      assert.equal(m.get(name)?.type, 'histogram');
      const retrieved = samples(m, name, { method: 'GET', route: '/v1/organization/certificates/:certificate_id', status: '200' }, `${name}_count`);
      assert.equal(retrieved.length, 1);
      assert.ok(retrieved[0]!.value >= 2);
      assert.equal(samples(m, name, { route: UNMATCHED_ROUTE, status: '404' }, `${name}_count`)[0]?.value, 1);
      assert.ok(samples(m, name, { route: '/metrics', status: '401' }, `${name}_count`)[0]!.value >= 3);
    });
  });
}
