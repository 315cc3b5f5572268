// --workers N: N processes share the port, each with its own snapshot; a killed worker is replaced within a
// second while the others keep answering; SIGTERM drains every worker (an in-flight stream completes); /metrics
// counts the requests of all of them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { call, startUpstream } from '../support/gateway.js';
import { makeCa } from '../support/pki.js';
import { assertStreamOutlivesSigterm, spawnCertgate } from '../support/processes.js';
import { parsePrometheusText, samples } from '../support/prometheus.js';
import { ADMIN_KEY, tempDir } from '../support/server.js';
import { within } from '../support/wait.js';

/** The processes whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readFileSync('/proc/' + pid + '/task/' + pid + '/children', 'utf8').trim().split(/\s+/)) if (entry) out.push(Number(entry));
  return out;
}

describe('--workers 2', () => {
  it('serves from two workers, replaces a killed one within a second while the other answers, and aggregates /metrics', async () => {
    const dir = tempDir();
    const serve = await spawnCertgate('serve', ['--data-dir', dir.path, '--workers', '2']);
    const get = (path: string) => fetch(serve.url + path, { headers: { authorization: `Bearer ${ADMIN_KEY}`, connection: 'close' } });
    try {
      const primary = serve.child.pid!;
      await within(10_000, async () => childrenOf(primary).length === 2 && (serve.output().match(/Server listening at/g) ?? []).length >= 2);
      const [victim, survivor] = childrenOf(primary);
      const ca = await makeCa();
      const upload = await fetch(serve.url + '/v1/organization/certificates', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ certificate: ca.pem }),
      });
      assert.equal(upload.status, 200);
      const id = ((await upload.json()) as { id: string }).id;
      // every worker sees the write (each has its own snapshot, caught up through the change feed)
      for (let i = 0; i < 10; i++) assert.equal((await get(`/v1/organization/certificates/${id}`)).status, 200);

      process.kill(victim!, 'SIGKILL');
      // once the primary has seen the worker die (at once: it is its child), the survivor answers every request
      // while the victim is being replaced, and a replacement is running within a second
      await within(1000, async () => /worker \d+ exited \(SIGKILL\); starting another/.test(serve.output()));
      for (let i = 0; i < 20; i++) assert.equal((await get('/v1/organization/certificates')).status, 200, 'a request failed while a worker was down');
      await within(1000, async () => {
        const now = childrenOf(primary);
        return now.length === 2 && now.includes(survivor!) && !now.includes(victim!);
      });
      // the replacement has started listening: it answers the primary's metrics requests from then on
      await within(10_000, async () => (serve.output().match(/Server listening at/g) ?? []).length >= 3);

      // /metrics on any worker counts the requests of both
      const before = Date.now();
      for (let i = 0; i < 30; i++) assert.equal((await get('/healthz')).status, 200);
      const metrics = parsePrometheusText(await (await get('/metrics')).text());
      const healthz = samples(metrics, 'certgate_http_request_duration_seconds', { route: '/healthz' }, 'certgate_http_request_duration_seconds_count');
      const counted = healthz.reduce((n, s) => n + s.value, 0);
      assert.ok(counted >= 30, `the aggregated count of /healthz requests is ${counted}, under the 30 just made`);
      assert.ok(Date.now() - before < 60_000);
    } finally {
      const code = await serve.stop();
      assert.equal(code, 0, `SIGTERM stops the primary and its workers cleanly (signal: ${serve.child.signalCode}):\n${serve.output().slice(-1500)}`);
      dir.remove();
    }
  });

  it('a gateway with two workers serves one certificate from both, and finishes an in-flight stream after SIGTERM', async () => {
    const dir = tempDir();
    const upstream = await startUpstream();
    const serve = await spawnCertgate('serve', ['--data-dir', dir.path]);
    const gateway = await spawnCertgate('gateway', ['--data-dir', dir.path, '--upstream-url', upstream.url, '--workers', '2']);
    const ca = readFileSync(`${dir.path}/gateway-cert.pem`, 'utf8');
    const agent = new Agent({ connect: { ca, servername: 'localhost' } });
    try {
      const primary = gateway.child.pid!;
      await within(10_000, async () => childrenOf(primary).length === 2 && (gateway.output().match(/gateway listening/g) ?? []).length >= 2);
      const post = (path: string, body: unknown) =>
        fetch(serve.url + path, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
          (r) => r.json() as Promise<any>,
        );
      const project = (await post('/v1/organization/projects', { name: 'workers' })).id;
      const key = (await post(`/v1/organization/projects/${project}/service_accounts`, { name: 'svc' })).api_key.value;
      // new connections land on either worker: each must present the certificate written to the data directory
      for (let i = 0; i < 10; i++) assert.equal((await call({ url: gateway.url, ca }, { key })).status, 200);
      // the key the primary made reached the workers over IPC, never their environment (readable in /proc/PID/environ)
      const workers = childrenOf(primary);
      assert.equal(workers.length, 2);
      for (const pid of [primary, ...workers]) assert.doesNotMatch(readFileSync(`/proc/${pid}/environ`, 'latin1'), /PRIVATE KEY/);

      const res = await request(`${gateway.url}/v1/stream`, { headers: { authorization: `Bearer ${key}` }, dispatcher: agent });
      await assertStreamOutlivesSigterm(gateway, res, upstream.release);
      assert.deepEqual(childrenOf(process.pid).filter((pid) => pid === primary), []);
    } finally {
      if (gateway.child.exitCode === null && gateway.child.signalCode === null) await gateway.stop();
      await agent.close();
      await serve.stop();
      await upstream.close();
      dir.remove();
    }
  });
});
