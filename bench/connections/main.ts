// bench/connections: 1,000 concurrent kept-alive mTLS connections, each with the client certificate, each sending
// GET /v1/models in a closed loop through to the upstream for 20 s; certgate's gateway and nginx (the bench/gateway
// configuration: same certificate, CA, key check, upstream pool) measured in turn in the same run.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { makeCa, makeClient } from '../../test/support/pki.js';
import { type Bar } from '../lib/chart.js';
import {
  envNumber,
  get,
  freePort,
  int,
  log,
  machine,
  measureSteady,
  ms,
  placement,
  privateTempDir,
  Processes,
  ratio,
  waitFor,
  waitForQuiet,
  withChildren,
  WORKERS,
  type SteadyMeasured,
} from '../lib/harness.js';
import type { LoadSpec } from '../lib/loadgen.js';
import { nginxConfig } from '../lib/nginx.js';
import { machineTable, measuredCommit, remeasured, resultsDir, sharedMachineNote, writeResults } from '../lib/report.js';
import { seedDataDir } from '../lib/seed.js';
import { serverTls, startGateway, startUpstream, UPSTREAM_KEY } from '../lib/servers.js';

const settings = {
  connections: envNumber('BENCH_CONNECTIONS', 1000),
  warmupMs: envNumber('BENCH_WARMUP_S', 5) * 1000,
  durationMs: envNumber('BENCH_DURATION_S', 20) * 1000,
  workers: WORKERS,
  /** as many nginx workers as certgate has, unless told */
  nginxWorkers: envNumber('BENCH_NGINX_WORKERS', WORKERS),
  targets: (process.env.BENCH_TARGETS ?? 'certgate,nginx').split(',') as Target[],
};
const OFFICIAL = !process.env.BENCH_CONNECTIONS && !process.env.BENCH_DURATION_S && !process.env.BENCH_TARGETS;
const RESULTS = resultsDir(OFFICIAL);
type Target = 'certgate' | 'nginx';

async function main(): Promise<void> {
  const place = placement();
  const described = machine();
  const procs = new Processes();
  const tmp = privateTempDir('certgate-bench-connections-');
  const file = (name: string) => join(tmp, name);
  const runs: SteadyMeasured[] = [];
  let sanity: Record<string, number> = {};
  try {
    const tls = await serverTls(tmp);
    const ca = await makeCa({ name: 'bench connections CA' });
    const client = await makeClient(ca, { subject: 'CN=bench client, O=Example' });
    writeFileSync(file('ca.pem'), ca.pem);
    writeFileSync(file('client.pem'), client.pem);
    writeFileSync(file('client.key'), client.keyPem, { mode: 0o600 });
    const dataDir = file('data');
    const seeded = await seedDataDir(dataDir, [ca.pem], 1);
    const serverCpus = place.pinned ? place.serverCpus : undefined;
    const upstream = await startUpstream(procs, tmp, place.pinned ? place.clientCpus : undefined);
    const children: Partial<Record<Target, () => number[]>> = {};
    const ports: Partial<Record<Target, number>> = {};
    if (settings.targets.includes('certgate')) {
      const gateway = await startGateway(procs, { tmp, name: 'certgate gateway', storeArgs: ['--data-dir', dataDir], upstreamPort: upstream.port, tls, cpus: serverCpus });
      children.certgate = gateway.pids;
      ports.certgate = gateway.port;
    }
    if (settings.targets.includes('nginx')) {
      const port = await freePort();
      mkdirSync(file('nginx'));
      const workers = settings.nginxWorkers || os.availableParallelism();
      writeFileSync(file('nginx/nginx.conf'), nginxConfig(tmp, { port, upstreamPort: upstream.port, projectKey: seeded.projectKey, upstreamKey: UPSTREAM_KEY, workers, workerConnections: 3 * settings.connections + 1024 }), { mode: 0o600 });
      const nginx = procs.start('nginx', 'nginx', ['-p', file('nginx'), '-c', file('nginx/nginx.conf'), '-e', file('nginx/error.log')], { cpus: serverCpus, logFile: file('nginx/stdout.log') });
      children.nginx = () => withChildren(nginx.pid!);
      ports.nginx = port;
    }
    const auth = { authorization: `Bearer ${seeded.projectKey}` };
    const withCert = { ca: tls.cert, cert: client.pem, key: client.keyPem };
    for (const target of settings.targets) {
      await waitFor(target, 10_000, async () => (await get({ port: ports[target]!, path: '/v1/models', headers: auth, tls: withCert })).status === 200);
      let refused: number;
      try {
        refused = (await get({ port: ports[target]!, path: '/v1/models', headers: auth, tls: { ca: tls.cert } })).status;
      } catch {
        refused = 0; // refused at the handshake
      }
      if (refused === 200) throw new Error(`${target} let a request through without a client certificate`);
      sanity = { ...sanity, [`${target} with certificate`]: 200, [`${target} without`]: refused };
    }
    const alive = () => procs.pids().length > 1;
    await waitForQuiet(envNumber('BENCH_QUIET_WAIT_S', 30) * 1000);
    for (const target of settings.targets) {
      const spec: LoadSpec = {
        label: `${target} c=${settings.connections}`,
        host: '127.0.0.1',
        port: ports[target]!,
        tls: { caFile: tls.certFile, certFile: file('client.pem'), keyFile: file('client.key'), servername: 'localhost' },
        path: '/v1/models',
        headers: auth,
        mode: 'keepalive',
        connections: settings.connections,
        warmupMs: settings.warmupMs,
        durationMs: settings.durationMs,
      };
      const m = await measureSteady(spec, { cpus: place.pinned ? place.clientCpus : undefined, watch: { server: children[target]!, upstream: () => [upstream.child.pid!] }, procs, alive });
      log(
        `${spec.label}: ${int(m.rps)} req/s, p50 ${ms(m.latencyUs.p50)} ms, p99 ${ms(m.latencyUs.p99)} ms, errors ${m.errors}, ` +
          `statuses ${JSON.stringify(m.statuses)}, cpu ${JSON.stringify(m.cpuPercent)}, ${int(m.rpsPerServerCore ?? NaN)} per CPU-s, foreign ${m.foreignCpuPercent}`,
      );
      runs.push(m);
      await waitForQuiet(10_000);
    }
  } finally {
    await procs.stopAll();
  }
  report(runs, sanity, described, place.pinned);
}

function report(runs: SteadyMeasured[], sanity: Record<string, number>, m: Record<string, string | number>, pinned: boolean): void {
  const commit = measuredCommit();
  const by = (t: Target) => runs.find((r) => r.label.startsWith(t));
  const [c, n] = [by('certgate'), by('nginx')];
  const row = (r: SteadyMeasured | undefined, name: string) =>
    r
      ? `| ${name} | ${int(r.rps)} | ${ms(r.latencyUs.p50)} | ${ms(r.latencyUs.p99)} | ${ms(r.latencyUs.max)} | ${r.errors}${r.errorSamples.length ? ` (${r.errorSamples.join('; ')})` : ''} | ${Object.entries(r.statuses).map(([s, k]) => `${s}: ${int(k)}`).join(', ')} | ${r.connectionsOpened} | ${r.cpuPercent.server}% | ${int(r.rpsPerServerCore ?? NaN)} | ${r.cpuPercent.loadgen}% |`
      : '';
  const ratios = c && n ? { rate: ratio(c.rps, n.rps), perCpuSecond: ratio(c.rpsPerServerCore ?? NaN, n.rpsPerServerCore ?? NaN) } : null;
  const disturbed = runs.filter((r) => r.disturbed).map((r) => `${r.label}: ${r.disturbed}`);
  const md = `# 1,000 concurrent kept-alive mTLS connections

Measured by \`bench/connections/run.sh\` (command: \`bench/connections/run.sh\`, i.e. \`node dist/bench/connections/main.js\`). Regenerated on every run; a Findings section below is kept.

${machineTable(m, commit)}

${settings.connections} TLS 1.3 connections opened at once by one load-generator process (\`bench/lib/loadgen.ts\`), each presenting the
client certificate, each sending \`GET /v1/models\` with the project key in a closed loop (one request outstanding) for
${settings.warmupMs / 1000} s of warm-up (the handshakes happen there) and ${settings.durationMs / 1000} s measured, through to the bench upstream (104-byte JSON).
certgate = \`node dist/bin/cli.js gateway --log-level warn --workers ${settings.workers}\` (CPU counted over all its processes) on a SQLite data directory with the CA active
organization-wide; nginx = bench/gateway's configuration (\`ssl_verify_client on\`, the same key check and upstream keep-alive pool),
${settings.nginxWorkers || os.availableParallelism()} worker(s). ${pinned ? 'The proxy is pinned to core 0; the load generator and the upstream to the other core(s).' : 'No CPU pinning.'}
Latency is per request, from write to the full response, inside the measured window.

| proxy | requests/s | p50 (ms) | p99 (ms) | max (ms) | errors | statuses | connections reopened in the window | proxy CPU (% of a core) | requests per proxy CPU-s | load generator CPU |
|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|
${row(c, 'certgate gateway')}
${row(n, 'nginx')}

${ratios && c && n ? `certgate / nginx: **${ratios.perCpuSecond} per CPU-second**, ${ratios.rate} in rate. certgate used ${c.cpuPercent.server}% of its core and nginx ${n.cpuPercent.server}%: a proxy well under 100% was held back by the other side (the load generator and the upstream share the other core, with whatever else runs on the machine), so its rate understates it and the per-CPU-second ratio is the fairer comparison.` : ''}

Sanity before measuring (status, 0 = refused at the handshake): ${Object.entries(sanity).map(([k, v]) => `${k}: ${v}`).join(', ')}.

${sharedMachineNote(
  runs.map((r) => r.foreignCpuPercent),
  m.nproc!,
  remeasured(disturbed),
)}

Per-run figures are in \`connections.json\`; the chart is \`connections.svg\`.
`;
  const bars = (pick: (r: SteadyMeasured) => number, unit = ''): Bar[] =>
    runs.map((r) => {
      const v = pick(r);
      return { label: r.label.startsWith('certgate') ? 'certgate gateway' : 'nginx', value: v, baseline: r.label.startsWith('nginx'), text: unit === 'ms' ? `${v.toFixed(2)} ms` : int(v) };
    });
  writeResults(RESULTS, 'connections', { benchmark: 'connections', machine: m, commit, settings, sanity, ratios, disturbed, runs }, md, {
    title: `${int(settings.connections)} concurrent kept-alive mTLS connections`,
    subtitle: `${m.nproc} cores, ${m.cpu}, ${m.date}, commit ${commit}; grey = nginx`,
    panels: [
      { title: 'requests per proxy CPU-second (higher is better)', bars: bars((r) => r.rpsPerServerCore ?? NaN) },
      { title: 'requests per second', bars: bars((r) => r.rps) },
      { title: 'p99 latency (lower is better)', bars: bars((r) => r.latencyUs.p99 / 1000, 'ms') },
      ...(ratios ? [{ title: 'certgate / nginx', bars: [{ label: 'per CPU-second', value: ratios.perCpuSecond }, { label: 'rate', value: ratios.rate }], target: { value: 1, label: 'parity' } }] : []),
    ],
  });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
