// The gateway's metrics port: off by default, on loopback when asked for, and
// its decision counters move with each request admitted, refused or let through in observe mode.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gatewayConfig } from '../../src/config.js';
import { engines } from '../support/engines.js';
import { call, startScene, startTestGateway, type Scene } from '../support/gateway.js';
import { makeCa, makeClient, type Issued } from '../support/pki.js';
import { parsePrometheusText, samples, type Family } from '../support/prometheus.js';
import { within } from '../support/wait.js';

const DECISIONS = 'certgate_gateway_decisions_total';
const DURATION = 'certgate_gateway_request_duration_seconds';

describe('gateway metrics flags', () => {
  it('are off by default, loopback when only a port is given, and a bad port names its flag', () => {
    const base = ['--upstream-url', 'http://127.0.0.1:9'];
    assert.equal(gatewayConfig(base, {}).metrics, undefined);
    assert.deepEqual(gatewayConfig([...base, '--metrics-port', '9100'], {}).metrics, { host: '127.0.0.1', port: 9100 });
    assert.deepEqual(gatewayConfig(base, { CERTGATE_METRICS_PORT: '9101', CERTGATE_METRICS_HOST: '0.0.0.0' }).metrics, { host: '0.0.0.0', port: 9101 });
    assert.throws(() => gatewayConfig([...base, '--metrics-port', 'x'], {}), /--metrics-port/);
    assert.equal(gatewayConfig(base, {}).expiryWarningDays, 30);
    assert.equal(gatewayConfig([...base, '--expiry-warning-days', '7'], {}).expiryWarningDays, 7);
    assert.throws(() => gatewayConfig([...base, '--expiry-warning-days', '-1'], {}), /--expiry-warning-days/);
  });
});

for (const engine of engines) {
  describe(`gateway metrics (${engine.name})`, () => {
    let scene: Scene;
    let ca: Issued;
    let caId: string;
    let good: Issued;

    async function scrape(): Promise<Map<string, Family>> {
      const res = await fetch(scene.gateway.metricsUrl!);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return parsePrometheusText(await res.text());
    }
    const count = (m: Map<string, Family>, labels: Record<string, string>) => samples(m, DECISIONS, labels).reduce((n, s) => n + s.value, 0);
    const timed = (m: Map<string, Family>, decision: string) => samples(m, DURATION, { decision }, `${DURATION}_count`)[0]?.value ?? 0;

    before(async () => {
      scene = await startScene(await engine.fresh(), 'metered', ['--metrics-port', '0']);
      ca = await makeCa();
      caId = await scene.enforce(ca.pem);
      good = await makeClient(ca);
    });
    after(() => scene.close());

    it('serves /metrics on loopback, and nothing else on that port', async () => {
      assert.match(scene.gateway.metricsUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const m = await scrape();
      assert.equal(m.get(DECISIONS)?.type, 'counter');
      assert.equal(m.get(DURATION)?.type, 'histogram');
      assert.equal(samples(m, 'certgate_store_up')[0]?.value, 1);
      const other = await fetch(scene.gateway.metricsUrl!.replace(/\/metrics$/, '/v1/models'));
      assert.equal(other.status, 404);
      const body = (await other.json()) as { error: Record<string, unknown> };
      assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
      assert.equal((await fetch(scene.gateway.metricsUrl!, { method: 'POST' })).status, 404);
      // the data plane's own port does not serve metrics
      assert.notEqual((await call(scene.gateway, { path: '/metrics' })).status, 200);
    });

    it("reports the project's anchor with its expires_at, as the API does", async () => {
      const expiresAt = (await scene.admin.sdk.admin.organization.certificates.retrieve(caId)).certificate_details.expires_at;
      const series = samples(await scrape(), 'certgate_anchor_expiry_timestamp_seconds', { certificate_id: caId });
      assert.deepEqual(series.map((s) => [s.labels.scope, s.value]), [[scene.project, expiresAt]]);
    });

    it('counts an admitted and a refused request, by code, reason and scope', async () => {
      const admitted = { decision: 'admitted', code: 'none', reason: 'none', scope: scene.project };
      const refused = { decision: 'refused', code: 'certificate_required', reason: 'no_certificate', scope: scene.project };
      const noKey = { decision: 'refused', code: 'missing_api_key', reason: 'no_key', scope: 'organization' };
      const before = await scrape();

      assert.equal((await call(scene.gateway, { key: scene.key, client: good })).status, 200);
      let m = await scrape();
      assert.equal(count(m, admitted), count(before, admitted) + 1);
      assert.equal(count(m, refused), count(before, refused));
      assert.equal(timed(m, 'admitted'), timed(before, 'admitted') + 1);

      assert.equal((await call(scene.gateway, { key: scene.key })).status, 403);
      assert.equal((await call(scene.gateway, {})).status, 401);
      m = await scrape();
      assert.equal(count(m, refused), count(before, refused) + 1);
      assert.equal(count(m, noKey), count(before, noKey) + 1);
      assert.equal(count(m, admitted), count(before, admitted) + 1);
      assert.equal(timed(m, 'refused'), timed(before, 'refused') + 2);
    });

    it('counts what observe mode lets through as would_refuse', async () => {
      const settings = `/v1/organization/projects/${scene.project}/mtls_settings`;
      assert.equal((await scene.admin.request('POST', settings, { mode: 'observe' })).status, 200);
      await within(1000, async () => (await call(scene.gateway, { key: scene.key })).status === 200);
      const labels = { decision: 'would_refuse', code: 'certificate_required', reason: 'no_certificate', scope: scene.project };
      const before = count(await scrape(), labels);
      assert.ok(before >= 1);
      assert.equal((await call(scene.gateway, { key: scene.key })).status, 200);
      assert.equal(count(await scrape(), labels), before + 1);
      assert.equal((await scene.admin.request('POST', settings, { mode: 'enforce' })).status, 200);
    });
  });
}

describe('gateway with a metrics port already taken', () => {
  it('refuses to start with one line naming --metrics-port', async () => {
    const place = await engines[0]!.fresh();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((taken.address() as AddressInfo).port);
      await assert.rejects(startTestGateway(place, 'http://127.0.0.1:9', undefined, ['--metrics-port', port]), (err: Error) => {
        assert.match(err.message, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use .*--metrics-port`));
        return true;
      });
    } finally {
      taken.close();
      await place.drop();
    }
  });
});

describe('gateway without --metrics-port', () => {
  it('has no metrics listener', async () => {
    const place = await engines[0]!.fresh();
    const gateway = await startTestGateway(place, 'http://127.0.0.1:9');
    try {
      assert.equal(gateway.metricsUrl, undefined);
    } finally {
      await gateway.close();
      await place.drop();
    }
  });
});
