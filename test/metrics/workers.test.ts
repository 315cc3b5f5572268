// Metrics with any number of workers mean what one process would report: the same store scraped through
// `certgate serve --workers 2` and `--workers 1`, and through the gateway's --metrics-port with 2 workers and 1.
// Every gauge of certgate's reads the same value (a timestamp, a state, an age is never a sum of workers); the
// counters and histograms count every worker's requests.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { call, startUpstream } from '../support/gateway.js';
import { makeCa, makeClient, makeCrl } from '../support/pki.js';
import { gatewayTlsFiles, spawnCertgate, storeArgs, type CertgateProcess } from '../support/processes.js';
import { parsePrometheusText, samples, type Family, type Sample } from '../support/prometheus.js';
import { ADMIN_KEY, tempDir } from '../support/server.js';
import { within } from '../support/wait.js';

const DAY = 86_400_000;
const AGE = 'certgate_snapshot_age_seconds';

async function admin(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, connection: 'close', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as any;
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const scrapeServe = async (p: CertgateProcess) =>
  parsePrometheusText(await (await fetch(`${p.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, connection: 'close' } })).text());
const scrapeUrl = async (url: string) => parsePrometheusText(await (await fetch(url, { headers: { connection: 'close' } })).text());
const metricsUrlOf = (p: CertgateProcess) => /"metrics":"(http:\/\/[^"]+)"/.exec(p.output())?.[1];
const key = (s: Sample) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;

/** The gauges certgate defines, every sample keyed by name and labels. */
function certgateGauges(families: Map<string, Family>): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of families.values()) if (f.type === 'gauge' && f.name.startsWith('certgate_')) for (const s of f.samples) out.set(key(s), s.value);
  return out;
}

/**
 * Gauge by gauge: equal, but for the snapshot's age, which each process counts from its own last load: at most the
 * time since the last write (a sum of two workers' ages would be about twice that).
 */
function assertSameGauges(workers: Map<string, Family>, one: Map<string, Family>, where: string, lastWriteMs: number): void {
  const w = certgateGauges(workers);
  const o = certgateGauges(one);
  assert.deepEqual([...w.keys()].sort(), [...o.keys()].sort(), `${where}: the same gauges and label sets`);
  // the workers' snapshots have aged since the last write (so that a sum of their ages would show)
  assert.ok((samples(workers, AGE)[0]?.value ?? 0) >= 2, `${where}: ${JSON.stringify(samples(workers, AGE))}`);
  for (const [k, value] of o) {
    if (k.startsWith(AGE)) {
      const bound = (Date.now() - lastWriteMs) / 1000 + 0.5;
      assert.ok(w.get(k)! <= bound && value <= bound, `${where}: ${k} is ${w.get(k)} with workers, ${value} in one process; the last write was ${bound - 0.5} s ago`);
    } else assert.equal(w.get(k), value, `${where}: ${k}`);
  }
  // prom-client's process metrics that are not amounts
  for (const name of ['process_max_fds', 'nodejs_version_info']) {
    assert.deepEqual(samples(workers, name).map((s) => s.value), samples(one, name).map((s) => s.value), `${where}: ${name}`);
  }
  const started = samples(workers, 'process_start_time_seconds');
  assert.equal(started.length, 1, `${where}: the start time is reported once`);
  assert.ok(started[0]!.value > Date.now() / 1000 - 600 && started[0]!.value <= Date.now() / 1000, `${where}: a start time, not a sum: ${started[0]!.value}`);
}

for (const engine of engines) {
  describe(`metrics with --workers 2 against --workers 1 (${engine.name})`, () => {
    let place: Awaited<ReturnType<typeof engine.fresh>>;
    let serve2: CertgateProcess, serve1: CertgateProcess, gateway2: CertgateProcess, gateway1: CertgateProcess;
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let tlsDir: ReturnType<typeof tempDir>;
    let gatewayCa: string;
    let projectKey: string;
    let caId: string;
    let client: Awaited<ReturnType<typeof makeClient>>;
    let lastWrite: number;

    before(async () => {
      place = await engine.fresh();
      serve1 = await spawnCertgate('serve', [...storeArgs(place), '--workers', '1']);
      serve2 = await spawnCertgate('serve', [...storeArgs(place), '--workers', '2']);
      upstream = await startUpstream();
      tlsDir = tempDir();
      const tls = await gatewayTlsFiles(tlsDir.path);
      gatewayCa = tls.ca;
      const gatewayArgs = [...storeArgs(place), ...tls.args, '--upstream-url', upstream.url, '--metrics-port', '0'];
      gateway1 = await spawnCertgate('gateway', [...gatewayArgs, '--workers', '1']);
      gateway2 = await spawnCertgate('gateway', [...gatewayArgs, '--workers', '2']);
      await within(10_000, async () => (serve2.output().match(/Server listening at/g) ?? []).length >= 2 && (gateway2.output().match(/gateway listening/g) ?? []).length >= 2);
      await within(5000, async () => metricsUrlOf(gateway1) !== undefined && metricsUrlOf(gateway2) !== undefined);

      // state for every gauge: an anchor active in the organization and in a project, with a CRL due in 3 days
      const ca = await makeCa();
      client = await makeClient(ca);
      caId = (await admin(serve1.url, 'POST', '/v1/organization/certificates', { certificate: ca.pem })).id;
      await admin(serve1.url, 'PUT', `/v1/organization/certificates/${caId}/crl`, { crl: await makeCrl(ca, { nextUpdate: new Date(Date.now() + 3 * DAY) }) });
      const project = (await admin(serve1.url, 'POST', '/v1/organization/projects', { name: 'metered' })).id;
      projectKey = (await admin(serve1.url, 'POST', `/v1/organization/projects/${project}/service_accounts`, { name: 'svc' })).api_key.value;
      await admin(serve1.url, 'POST', '/v1/organization/certificates/activate', { certificate_ids: [caId] });
      await admin(serve1.url, 'POST', `/v1/organization/projects/${project}/certificates/activate`, { certificate_ids: [caId] });
      lastWrite = Date.now();
    });
    after(async () => {
      const codes = await Promise.all([serve1, serve2, gateway1, gateway2].map((p) => p?.stop()));
      await upstream?.close();
      tlsDir?.remove();
      await place.drop();
      assert.deepEqual(codes, [0, 0, 0, 0]);
    });

    it('admin port: every gauge reads what one process reads, and counters count every worker', async () => {
      // every worker has caught up with the writes (the gauges name both scopes of the anchor)
      await within(5000, async () => {
        for (const p of [serve1, serve2, serve2, serve2]) {
          if (samples(await scrapeServe(p), 'certgate_anchor_expiry_timestamp_seconds', { certificate_id: caId }).length !== 2) return false;
        }
        return true;
      });
      const healthz = async (p: CertgateProcess) => {
        for (let i = 0; i < 20; i++) assert.equal((await fetch(`${p.url}/healthz`, { headers: { connection: 'close' } })).status, 200);
      };
      await healthz(serve1);
      await healthz(serve2);
      // let the snapshots age, so that a sum of two ages would be seen
      await new Promise((r) => setTimeout(r, 3000));
      const [workers, one] = await Promise.all([scrapeServe(serve2), scrapeServe(serve1)]);
      assertSameGauges(workers, one, 'serve', lastWrite);
      assert.equal(samples(workers, 'certgate_store_up')[0]?.value, 1);
      const expiry = samples(workers, 'certgate_anchor_expiry_timestamp_seconds', { certificate_id: caId });
      const expiresAt = (await admin(serve1.url, 'GET', `/v1/organization/certificates/${caId}`)).certificate_details.expires_at;
      assert.deepEqual(expiry.map((s) => s.value), [expiresAt, expiresAt], 'the expiry is the certificate\'s, not a multiple of it');
      const counted = (m: Map<string, Family>) =>
        samples(m, 'certgate_http_request_duration_seconds', { route: '/healthz' }, 'certgate_http_request_duration_seconds_count').reduce((n, s) => n + s.value, 0);
      assert.equal(counted(one), 20);
      assert.equal(counted(workers), 20, 'the 20 requests, whichever worker answered them, each counted once');
    });

    it("gateway's --metrics-port: every gauge reads what one process reads, and decisions count every worker", async () => {
      const gateway = (p: CertgateProcess) => ({ url: p.url, ca: gatewayCa });
      // both gateways enforce the anchor
      for (const p of [gateway1, gateway2]) await within(5000, async () => (await call(gateway(p), { key: projectKey })).status === 403);
      const decisions = (m: Map<string, Family>) => samples(m, 'certgate_gateway_decisions_total', { decision: 'admitted' }).reduce((n, s) => n + s.value, 0);
      const before = [decisions(await scrapeUrl(metricsUrlOf(gateway2)!)), decisions(await scrapeUrl(metricsUrlOf(gateway1)!))];
      for (const p of [gateway1, gateway2]) for (let i = 0; i < 10; i++) assert.equal((await call(gateway(p), { key: projectKey, client })).status, 200);
      await new Promise((r) => setTimeout(r, 3000));
      const [workers, one] = await Promise.all([scrapeUrl(metricsUrlOf(gateway2)!), scrapeUrl(metricsUrlOf(gateway1)!)]);
      assertSameGauges(workers, one, 'gateway', lastWrite);
      assert.equal(samples(workers, 'certgate_store_up')[0]?.value, 1);
      assert.equal(decisions(one) - before[1]!, 10);
      assert.equal(decisions(workers) - before[0]!, 10, 'ten admissions across two workers, each counted once');
      const timed = (m: Map<string, Family>) => samples(m, 'certgate_gateway_request_duration_seconds', { decision: 'admitted' }, 'certgate_gateway_request_duration_seconds_count')[0]?.value;
      assert.equal(timed(workers), decisions(workers), 'the histogram counts what the counter counts');
    });
  });
}
