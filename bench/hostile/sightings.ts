// bench/hostile/sightings: the sightings flood of issue 17.7. N distinct client certificates are recorded as a
// gateway records them (the traffic recorder, on its own store connection), half of them sent with a chain of nine
// CA certificates padded with names (~70 KB a client, the attack's shape), half through an ordinary intermediate;
// then a `certgate serve` process (--workers 1) computes the lockout preview of an activation while /healthz is
// asked every 5 ms on a kept-alive connection. Measured: the preview's time, /healthz latency during it, what is
// stored per client. Writes bench/results/sightings.{json,md}.
// Knobs: BENCH_SIGHTINGS (10000), BENCH_DATABASE_URL (PostgreSQL instead of SQLite).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { DEFAULT_ORGANIZATION_ID } from '../../src/domain/model.js';
import { MAX_SIGHTING_CHAIN_BYTES } from '../../src/domain/sightings.js';
import { TrafficRecorder } from '../../src/state/traffic.js';
import { openStore } from '../../src/store/open.js';
import { SQLITE_FILE } from '../../src/store/sqlite.js';
import { makeCa, makeClient, type Issued } from '../../test/support/pki.js';
import { envNumber, log, machine, percentiles, ROOT } from '../lib/harness.js';

const N = envNumber('BENCH_SIGHTINGS', 10_000);
const DATABASE_URL = process.env.BENCH_DATABASE_URL || undefined;
const CLI = join(ROOT, 'dist/bin/cli.js');
const ADMIN_KEY = 'sk-admin-sightings-bench-0123456789abcdef';
const padding = (kb: number, tag: string) => Array.from({ length: Math.ceil((kb * 1024) / 30) }, (_, i) => `n${i}-${tag}.padding.example.com`);
const der = (c: Issued) => Buffer.from(c.cert.rawData);

function startServe(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const store = DATABASE_URL ? ['--database-url', DATABASE_URL] : ['--data-dir', dataDir];
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--workers', '1', ...store], {
    env: { ...process.env, CERTGATE_ADMIN_KEY: ADMIN_KEY, CERTGATE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 15_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'certgate-sightings-'));
  const serve = await startServe(dir);
  const stopServe = () => serve.child.pid && serve.child.exitCode === null && process.kill(serve.child.pid, 'SIGTERM');
  process.once('exit', stopServe);
  try {
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(serve.url + path, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.json()) as any;
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const project = (await api('POST', '/v1/organization/projects', { name: 'flooded' })).id as string;
    const serviceAccount = (await api('POST', `/v1/organization/projects/${project}/service_accounts`, { name: 'svc' })).id as string;
    const ca = await makeCa({ name: 'bench ca' });
    const intermediate = await makeCa({ name: 'bench intermediate', issuer: ca });
    const caId = (await api('POST', '/v1/organization/certificates', { certificate: ca.pem })).id as string;
    const paddedChain = [await makeCa({ name: 'padded root', dnsNames: padding(7, 'root') })];
    for (let i = 0; i < 8; i++) paddedChain.unshift(await makeCa({ name: `padded ${i}`, issuer: paddedChain[0]!, dnsNames: padding(7, String(i)) }));

    log(`recording ${N} distinct clients through the traffic recorder`);
    const store = await openStore({ dataDir: dir, databaseUrl: DATABASE_URL });
    const recorder = new TrafficRecorder(store, () => Math.floor(Date.now() / 1000));
    let sentBytes = 0;
    for (let i = 0; i < N; i++) {
      const padded = i % 2 === 1;
      const leaf = await makeClient(padded ? paddedChain[0]! : intermediate, { subject: `CN=client-${i}` });
      const chain = [der(leaf), ...(padded ? paddedChain : [intermediate]).map(der)];
      sentBytes += chain.reduce((n, c) => n + c.length, 0);
      recorder.sawClient(DEFAULT_ORGANIZATION_ID, project, serviceAccount, createHash('sha256').update(chain[0]!).digest('hex'), () => chain, null);
      if (i % 1000 === 999) await recorder.flush();
    }
    await recorder.close();
    const rows = await store.observedClients(DEFAULT_ORGANIZATION_ID, 0);
    const kept = rows.map((r) => r.chain.reduce((n, c) => n + c.length, 0));
    await store.close();
    const storeBytes = DATABASE_URL ? null : statSync(join(dir, SQLITE_FILE)).size;
    log(`stored ${rows.length} sightings; largest ${Math.max(...kept)} bytes of DER`);

    const health = new Agent({ keepAliveTimeout: 60_000 });
    await (await request(`${serve.url}/healthz`, { dispatcher: health })).body.text();
    const idle: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      await (await request(`${serve.url}/healthz`, { dispatcher: health })).body.text();
      idle.push(performance.now() - t);
    }
    const runs: { previewMs: number; healthz: ReturnType<typeof percentiles>; wouldRefuse: number; wouldAdmit: number }[] = [];
    for (let run = 0; run < 3; run++) {
      let done = false;
      const latencies: number[] = [];
      const poll = (async () => {
        while (!done) {
          const t = performance.now();
          await (await request(`${serve.url}/healthz`, { dispatcher: health })).body.text();
          if (!done) latencies.push(performance.now() - t);
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      const t = performance.now();
      const preview = await api('POST', '/v1/organization/certificates/preview', { action: 'activate', certificate_ids: [caId], project_id: project });
      const previewMs = performance.now() - t;
      done = true;
      await poll;
      runs.push({ previewMs, healthz: percentiles(latencies), wouldRefuse: preview.would_refuse.length, wouldAdmit: preview.would_admit });
      log(`preview ${previewMs.toFixed(0)} ms; /healthz during it: ${latencies.length} answered, p99 ${percentiles(latencies).p99.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`);
    }
    await health.close();

    const result = {
      when: new Date().toISOString(),
      machine: machine(),
      engine: DATABASE_URL ? 'postgres' : 'sqlite',
      sightings: N,
      sentBytesPerClient: Math.round(sentBytes / N),
      storedDerBytesPerClient: { mean: Math.round(kept.reduce((a, b) => a + b, 0) / kept.length), max: Math.max(...kept), bound: MAX_SIGHTING_CHAIN_BYTES },
      storeFileBytes: storeBytes,
      idleHealthzMs: percentiles(idle),
      runs,
    };
    const resultsDir = join(ROOT, 'bench/results');
    writeFileSync(join(resultsDir, 'sightings.json'), `${JSON.stringify(result, null, 2)}\n`);
    const f = (x: number) => x.toFixed(1);
    const md = [
      '# Sightings flood: the lockout preview over many remembered clients',
      '',
      `${result.when}, ${result.engine}, ${N} distinct clients (half with a padded 10-certificate chain), \`certgate serve --workers 1\`.`,
      '',
      `Sent per client: ${result.sentBytesPerClient} bytes of certificates on average; kept per client: ${result.storedDerBytesPerClient.mean} bytes on average, ${result.storedDerBytesPerClient.max} at most (bound ${MAX_SIGHTING_CHAIN_BYTES})${storeBytes === null ? '' : `; SQLite file ${(storeBytes / 1048576).toFixed(1)} MiB`}.`,
      '',
      `/healthz on an idle server: p50 ${f(result.idleHealthzMs.p50)} ms, max ${f(result.idleHealthzMs.max)} ms.`,
      '',
      '| run | preview (ms) | would refuse | would admit | /healthz answered during it | p50 (ms) | p99 (ms) | max (ms) |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...runs.map((r, i) => `| ${i + 1} | ${r.previewMs.toFixed(0)} | ${r.wouldRefuse} | ${r.wouldAdmit} | ${r.healthz.n} | ${f(r.healthz.p50)} | ${f(r.healthz.p99)} | ${f(r.healthz.max)} |`),
      '',
    ].join('\n');
    writeFileSync(join(resultsDir, 'sightings.md'), md);
    process.stdout.write(md);
  } finally {
    stopServe();
    if (!DATABASE_URL) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
