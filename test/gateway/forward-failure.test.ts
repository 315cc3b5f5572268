// A request admitted but not forwarded (the upstream refuses the connection) is answered 502 upstream_unavailable,
// logged with its cause (never its headers) and counted as forward_failed, apart from admissions. The gateway runs as
// its own process, as operators run it, so the log is the one they would read.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { call } from '../support/gateway.js';
import { gatewayTlsFiles, spawnCertgate, storeArgs, type CertgateProcess } from '../support/processes.js';
import { parsePrometheusText, samples } from '../support/prometheus.js';
import { startTestServer, tempDir, type TestServer } from '../support/server.js';
import { within } from '../support/wait.js';

for (const engine of engines) {
  describe(`a request the gateway cannot forward (${engine.name})`, () => {
    let place: Awaited<ReturnType<typeof engine.fresh>>;
    let admin: TestServer;
    let gateway: CertgateProcess;
    let ca = '';
    let key = '';
    let project = '';
    const dir = tempDir();

    before(async () => {
      place = await engine.fresh();
      admin = await startTestServer(place);
      // a port nothing listens on any more
      const dead = createServer().listen(0, '127.0.0.1');
      await once(dead, 'listening');
      const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
      await new Promise((resolve) => dead.close(resolve));
      const tls = await gatewayTlsFiles(dir.path);
      ca = tls.ca;
      gateway = await spawnCertgate('gateway', [...storeArgs(place), ...tls.args, '--upstream-url', deadUrl, '--metrics-port', '0']);
      const org = admin.sdk.admin.organization;
      project = (await org.projects.create({ name: 'unforwarded' })).id;
      key = (await org.projects.serviceAccounts.create(project, { name: 'svc' })).api_key!.value;
    });
    after(async () => {
      await gateway?.stop();
      await admin?.close().catch(() => undefined);
      await place?.drop();
      dir.remove();
    });

    it('answers 502 in the envelope, logs the cause without the headers, and counts forward_failed, not admitted', async () => {
      const target = { url: gateway.url, ca };
      let res: Awaited<ReturnType<typeof call>> | undefined;
      // the project key reaches the gateway process within a moment; until then it is an unknown key (401)
      await within(3000, async () => (res = await call(target, { key, path: '/v1/models?secret_param=sk-in-a-query', headers: { 'x-custom-secret': 'header-value-not-to-log' } })).status === 502);
      assert.equal(res!.status, 502);
      assert.equal(res!.body.error.code, 'upstream_unavailable');
      assert.equal(res!.body.error.type, 'server_error');
      const requestId = res!.headers['x-request-id'] as string;
      const lines = await within(3000, async () => gateway.output().includes(requestId)).then(() =>
        gateway
          .output()
          .split('\n')
          .filter((l) => l.includes(requestId))
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      );
      assert.equal(lines.length, 1);
      const line = lines[0]!;
      assert.equal(line.msg, 'request not forwarded');
      assert.equal(line.reason, 'connection_refused');
      assert.equal(line.errorCode, 'ECONNREFUSED');
      assert.equal(line.path, '/v1/models');
      assert.match(String(line.error), /ECONNREFUSED/);
      for (const secret of [key, 'sk-in-a-query', 'header-value-not-to-log', 'authorization', 'Bearer']) assert.ok(!gateway.output().includes(secret), secret);

      const metricsUrl = /"metrics":"(http:\/\/[^"]+)"/.exec(gateway.output())![1]!;
      const metrics = parsePrometheusText(await (await fetch(metricsUrl)).text());
      const count = (decision: string) => samples(metrics, 'certgate_gateway_decisions_total', { decision, scope: project }).reduce((n, s) => n + s.value, 0);
      const failed = samples(metrics, 'certgate_gateway_decisions_total', { decision: 'forward_failed', scope: project });
      assert.deepEqual(
        failed.map((s) => [s.labels.code, s.labels.reason, s.value]),
        [['upstream_unavailable', 'connection_refused', 1]],
      );
      assert.equal(count('admitted'), 0);
      assert.equal(samples(metrics, 'certgate_gateway_request_duration_seconds', { decision: 'forward_failed' }, 'certgate_gateway_request_duration_seconds_count')[0]?.value, 1);
    });
  });
}
