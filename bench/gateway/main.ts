// bench/gateway: certgate's mTLS gateway against nginx (ssl_verify_client on), side by side,
// same CA, same server certificate, same upstream, same load generator and settings.
//
// Processes: upstream (node:http), certgate gateway (node dist/bin/cli.js gateway, the bundle), nginx,
// and one load-generator process per phase. With 2+ cores the proxy under test is pinned to
// core 0 and the generator and upstream to the other cores (BENCH_PIN=0 turns that off).
//
// Phases, each a warm-up then a measured window, alternating the order of targets per round:
//   handshake   new TCP+TLS connection per request (client certificate, no resumption), one GET
//   keepalive   connections reused; requests per second
//   latency     one connection, one request at a time: p50 through each proxy minus p50 direct
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { selfSignedLocalhost } from '../../src/gateway/self-signed.js';
import { makeCa, makeClient, makeCrl } from '../../test/support/pki.js';
import {
  envNumber,
  freePort,
  get,
  int,
  log,
  machine,
  measureSteady,
  median,
  ms,
  placement,
  privateTempDir,
  Processes,
  ratio,
  ROOT,
  waitFor,
  waitForQuiet,
  withChildren,
  WORKERS,
  type SteadyMeasured as Measured,
} from '../lib/harness.js';
import type { LoadMode, LoadSpec } from '../lib/loadgen.js';
import { type Bar, type Chart, svgChart } from '../lib/chart.js';
import { nginxConfig } from '../lib/nginx.js';
import { seedDataDir } from '../lib/seed.js';

const settings = {
  rounds: envNumber('BENCH_ROUNDS', 3),
  warmupMs: envNumber('BENCH_WARMUP_S', 1.5) * 1000,
  durationMs: envNumber('BENCH_DURATION_S', 5) * 1000,
  latencyMs: envNumber('BENCH_LATENCY_S', 3) * 1000,
  connections: envNumber('BENCH_CONNECTIONS', 32),
  workers: WORKERS,
  /** as many nginx workers as certgate has, unless told */
  nginxWorkers: envNumber('BENCH_NGINX_WORKERS', WORKERS),
  cpuProfile: process.env.BENCH_CPU_PROF === '1',
  /** subsets, for profiling: comma-separated */
  phases: (process.env.BENCH_PHASES ?? 'handshake,keepalive,latency').split(','),
  targets: (process.env.BENCH_TARGETS ?? 'direct,certgate,nginx').split(','),
};
const UPSTREAM_KEY = 'sk-upstream-bench';
// BENCH_FILTER=1: the anchor in force carries OpenAI's example CEL filter, which the bench client passes;
// figures then go to gateway-filter.{json,md}.
const FILTER = process.env.BENCH_FILTER === '1'
  ? 'subject.organizational_unit == "Production" && subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".example.com"))'
  : undefined;
// BENCH_FULL=1: everything the gate can do on at once: the filter, a CRL of 10,000 serials on the anchor, a
// client-id header beside x-forwarded-client-cert (always set), and the traffic recording (always on);
// figures go to gateway-full.{json,md}.
const FULL = process.env.BENCH_FULL === '1';
const NAME = FULL ? 'gateway-full' : FILTER ? 'gateway-filter' : 'gateway';
const FULL_FILTER = 'subject.organizational_unit == "Production" && subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".example.com"))';
// Only a full run of the project's own build writes bench/results; subsets, profiles and candidate builds go to bench/work/results.
const OFFICIAL =
  !process.env.BENCH_CERTGATE_CLI &&
  !settings.cpuProfile &&
  ['handshake', 'keepalive', 'latency'].every((p) => settings.phases.includes(p)) &&
  ['direct', 'certgate', 'nginx'].every((t) => settings.targets.includes(t));
const RESULTS = process.env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench', OFFICIAL ? 'results' : 'work/results');

type Target = 'direct' | 'certgate' | 'nginx' | 'baseline';
// BENCH_BASELINE_CLI: an earlier build's cli.js, run as one more target in the same rounds (same data, same core),
// so that a change is compared with what it replaces side by side, interleaved, per CPU-second.
const BASELINE_CLI = process.env.BENCH_BASELINE_CLI;

interface Endpoint {
  readonly port: number;
  readonly tls: boolean;
  readonly watch: () => readonly number[];
}

async function main(): Promise<void> {
  const place = placement();
  const procs = new Processes();
  const tmp = privateTempDir('certgate-bench-gateway-');
  const file = (name: string) => join(tmp, name);
  log(`work dir ${tmp} (private keys live only here and are removed at the end)`);
  log(
    place.pinned
      ? `pinned: proxies on core ${place.serverCpus}, load generator and upstream on cores ${place.clientCpus}`
      : 'not pinned: every process may run on every core',
  );

  try {
    await waitForQuiet(envNumber('BENCH_QUIET_WAIT_S', 60) * 1000);
    // ---- PKI: one CA for both proxies, one client certificate, one server certificate ----
    const [ca, stranger] = await Promise.all([makeCa({ name: 'bench client CA' }), makeCa({ name: 'bench stranger CA' })]);
    const [client, strangerClient] = await Promise.all([makeClient(ca, { subject: 'CN=bench client, OU=Production, O=Example', dnsNames: ['bench.example.com'] }), makeClient(stranger)]);
    const server = await selfSignedLocalhost();
    writeFileSync(file('ca.pem'), ca.pem);
    writeFileSync(file('client.pem'), client.pem);
    writeFileSync(file('client.key'), client.keyPem, { mode: 0o600 });
    writeFileSync(file('server.pem'), server.cert);
    writeFileSync(file('server.key'), server.key, { mode: 0o600 });

    // ---- certgate's data: a project, its key, the CA active for the organization ----
    const dataDir = file('data');
    const crl = FULL ? await makeCrl(ca, { serials: Array.from({ length: Number(process.env.BENCH_CRL_SERIALS ?? 10_000) }, (_, i) => (0x10000000 + i * 7919).toString(16) + '00ff') }) : undefined;
    const seeded = await seedDataDir(dataDir, [ca.pem], 1, FULL ? FULL_FILTER : FILTER, crl);
    log(`seeded ${dataDir}: project ${seeded.projectId}, CA ${seeded.certificateIds[0]} active${FILTER ? ', with a filter' : ''}`);

    // ---- processes ----
    const [upstreamPort, certgatePort, nginxPort] = [await freePort(), await freePort(), await freePort()];
    const upstream = procs.start('upstream', process.execPath, [join(ROOT, 'dist/bench/gateway/upstream.js'), String(upstreamPort)], {
      cpus: place.pinned ? place.clientCpus : undefined,
      logFile: file('upstream.log'),
      stdin: 'pipe',
    });
    await waitFor('upstream', 5000, async () => (await get({ port: upstreamPort, path: '/' })).status === 200);

    // BENCH_CERTGATE_CLI: another build of certgate's cli.js, to try a change out against the same baseline
    const certgateCli = process.env.BENCH_CERTGATE_CLI ?? join(ROOT, 'dist/bin/cli.js');
    if (process.env.BENCH_CERTGATE_CLI) log(`certgate from ${certgateCli}`);
    const profDir = join(ROOT, 'bench', 'work', 'prof');
    if (settings.cpuProfile) mkdirSync(profDir, { recursive: true });
    const startCertgate = (name: string, cli: string, port: number) => procs.start(
      name,
      process.execPath,
      [
        ...(settings.cpuProfile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
        cli,
        'gateway',
        '--upstream-url',
        `http://127.0.0.1:${upstreamPort}`,
        '--upstream-api-key',
        UPSTREAM_KEY,
        '--data-dir',
        dataDir,
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--tls-cert',
        file('server.pem'),
        '--tls-key',
        file('server.key'),
        '--log-level',
        'warn',
        '--workers',
        String(WORKERS),
        ...(FULL ? ['--client-id-header', 'x-mtls-client-id', '--client-id-from', 'san-dns'] : []),
      ],
      { cpus: place.pinned ? place.serverCpus : undefined, logFile: file(`${name.replace(/ /g, '-')}.log`) },
    );
    const certgate = startCertgate('certgate gateway', certgateCli, certgatePort);
    const baselinePort = BASELINE_CLI ? await freePort() : 0;
    if (BASELINE_CLI) log(`baseline certgate from ${BASELINE_CLI}`);
    const baseline = BASELINE_CLI ? startCertgate('baseline gateway', BASELINE_CLI, baselinePort) : undefined;

    mkdirSync(file('nginx'));
    writeFileSync(
      file('nginx/nginx.conf'),
      nginxConfig(tmp, { port: nginxPort, upstreamPort, projectKey: seeded.projectKey, upstreamKey: UPSTREAM_KEY, workers: settings.nginxWorkers || os.availableParallelism() }),
      { mode: 0o600 },
    );
    const nginx = procs.start('nginx', 'nginx', ['-p', file('nginx'), '-c', file('nginx/nginx.conf'), '-e', file('nginx/error.log')], {
      cpus: place.pinned ? place.serverCpus : undefined,
      logFile: file('nginx/stdout.log'),
    });

    const caPem = server.cert;
    const withCert = { ca: caPem, cert: client.pem, key: client.keyPem };
    const auth = { authorization: `Bearer ${seeded.projectKey}` };
    await waitFor('certgate gateway', 10_000, async () => (await get({ port: certgatePort, path: '/healthz', tls: { ca: caPem } })).status === 200);
    if (baseline) await waitFor('baseline gateway', 10_000, async () => (await get({ port: baselinePort, path: '/healthz', tls: { ca: caPem } })).status === 200);
    await waitFor('nginx', 10_000, async () => (await get({ port: nginxPort, path: '/v1/models', headers: auth, tls: withCert })).status === 200);

    // ---- both proxies enforce mTLS and forward to the same upstream ----
    const direct = await get({ port: upstreamPort, path: '/v1/models' });
    const sanity: Record<string, Record<string, number | string | boolean>> = {};
    for (const [name, port] of [
      ['certgate', certgatePort],
      ['nginx', nginxPort],
      ...(baseline ? ([['baseline', baselinePort]] as const) : []),
    ] as const) {
      const good = await get({ port, path: '/v1/models', headers: auth, tls: withCert });
      const refused = async (tlsOptions: { ca: string; cert?: string; key?: string }, headers = auth) => {
        try {
          return (await get({ port, path: '/v1/models', headers, tls: tlsOptions })).status;
        } catch (err) {
          return `handshake refused (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
        }
      };
      sanity[name] = {
        withClientCertificate: good.status,
        tls: good.tls ?? 'n/a',
        sameBodyAsUpstream: good.body === direct.body,
        withoutClientCertificate: await refused({ ca: caPem }),
        withCertificateOfAnotherCa: await refused({ ca: caPem, cert: strangerClient.pem, key: strangerClient.keyPem }),
        withUnknownKey: await refused(withCert, { authorization: 'Bearer sk-svcacct-unknown' }),
      };
      if (good.status !== 200 || good.body !== direct.body) throw new Error(`${name} does not proxy: ${good.status} ${good.body}`);
      for (const key of ['withoutClientCertificate', 'withCertificateOfAnotherCa', 'withUnknownKey'] as const) {
        if (sanity[name]![key] === 200) throw new Error(`${name} let a request through ${key}`);
      }
    }
    log(`sanity: ${JSON.stringify(sanity)}`);

    // ---- phases ----
    const endpoints: Record<Target, Endpoint> = {
      direct: { port: upstreamPort, tls: false, watch: () => [upstream.pid!] },
      certgate: { port: certgatePort, tls: true, watch: () => withChildren(certgate.pid!) },
      nginx: { port: nginxPort, tls: true, watch: () => withChildren(nginx.pid!) },
      baseline: { port: baselinePort, tls: true, watch: () => (baseline ? withChildren(baseline.pid!) : []) },
    };
    const run = (target: Target, mode: LoadMode, connections: number, warmupMs: number, durationMs: number): Promise<Measured> => {
      const e = endpoints[target];
      const spec: LoadSpec = {
        label: `${target} ${mode} c=${connections}`,
        host: '127.0.0.1',
        port: e.port,
        tls: e.tls ? { caFile: file('server.pem'), certFile: file('client.pem'), keyFile: file('client.key'), servername: 'localhost' } : null,
        path: '/v1/models',
        headers: e.tls ? auth : {},
        mode,
        connections,
        warmupMs,
        durationMs,
      };
      const watch: Record<string, () => readonly number[]> = { server: e.watch };
      if (target !== 'direct') watch.upstream = endpoints.direct.watch;
      const alive = () => [upstream, certgate, nginx, ...(baseline ? [baseline] : [])].every((c) => c.exitCode === null && c.signalCode === null);
      return measureSteady(spec, { cpus: place.pinned ? place.clientCpus : undefined, watch, procs, alive }).then((m) => {
        log(
          `${spec.label}: ${int(m.rps)} req/s, p50 ${ms(m.latencyUs.p50)} ms, p99 ${ms(m.latencyUs.p99)} ms, errors ${m.errors}, ` +
            `cpu ${JSON.stringify(m.cpuPercent)}, cores ${JSON.stringify(m.coreBusyPercent)}, foreign ${m.foreignCpuPercent}`,
        );
        if (m.disturbed) log(`  kept although disturbed: ${m.disturbed}`);
        return m;
      });
    };

    type Phase = 'handshake' | 'keepalive' | 'latency';
    const runs: Record<Phase, Partial<Record<Target, Measured[]>>> = { handshake: {}, keepalive: {}, latency: {} };
    const add = (phase: Phase, target: Target, m: Measured) => (runs[phase][target] ??= []).push(m);
    for (let round = 0; round < settings.rounds; round++) {
      const order: Target[] = baseline ? (['certgate', 'baseline', 'nginx'] as Target[]) : ['certgate', 'nginx'];
      // with a baseline the order rotates (each target first once every three rounds), else it alternates
      const rotated = baseline ? [...order.slice(round % 3), ...order.slice(0, round % 3)] : round % 2 === 0 ? order : [...order].reverse();
      const proxies = rotated.filter((t) => t === 'baseline' || settings.targets.includes(t));
      const all = settings.targets.includes('direct') ? (['direct', ...proxies] as Target[]) : proxies;
      const on = (phase: Phase) => settings.phases.includes(phase);
      log(`round ${round + 1}/${settings.rounds}`);
      if (round > 0) await waitForQuiet(20_000);
      if (on('handshake')) for (const t of proxies) add('handshake', t, await run(t, 'handshake', settings.connections, settings.warmupMs, settings.durationMs));
      if (on('keepalive')) for (const t of all) add('keepalive', t, await run(t, 'keepalive', settings.connections, settings.warmupMs, settings.durationMs));
      if (on('latency')) for (const t of all) add('latency', t, await run(t, 'keepalive', 1, 1000, settings.latencyMs));
    }

    // ---- results ----
    const med = (phase: Phase, target: Target, pick: (m: Measured) => number) => median((runs[phase][target] ?? []).map(pick));
    const rps = (p: Phase, t: Target) => med(p, t, (m) => m.rps);
    const p50 = (p: Phase, t: Target) => med(p, t, (m) => m.latencyUs.p50);
    const p99 = (p: Phase, t: Target) => med(p, t, (m) => m.latencyUs.p99);
    const cpu = (p: Phase, t: Target) => med(p, t, (m) => m.cpuPercent.server ?? NaN);
    const eff = (p: Phase, t: Target) => med(p, t, (m) => m.rpsPerServerCore ?? NaN);
    const round1 = (x: number) => Math.round(x * 10) / 10;
    const added = (t: Target) => round1(p50('latency', t) - p50('latency', 'direct'));
    const addedP99 = (t: Target) => round1(p99('latency', t) - p99('latency', 'direct'));

    const figures = {
      handshakesPerSecond: { certgate: rps('handshake', 'certgate'), nginx: rps('handshake', 'nginx') },
      keepAliveRequestsPerSecond: { certgate: rps('keepalive', 'certgate'), nginx: rps('keepalive', 'nginx'), directToUpstream: rps('keepalive', 'direct') },
      addedP50Us: { certgate: added('certgate'), nginx: added('nginx') },
      p50Us: { certgate: p50('latency', 'certgate'), nginx: p50('latency', 'nginx'), directToUpstream: p50('latency', 'direct') },
      addedP99Us: { certgate: addedP99('certgate'), nginx: addedP99('nginx') },
      proxyCpuPercentOfOneCore: {
        handshake: { certgate: cpu('handshake', 'certgate'), nginx: cpu('handshake', 'nginx') },
        keepalive: { certgate: cpu('keepalive', 'certgate'), nginx: cpu('keepalive', 'nginx') },
      },
      requestsPerProxyCpuSecond: {
        handshake: { certgate: eff('handshake', 'certgate'), nginx: eff('handshake', 'nginx') },
        keepalive: { certgate: eff('keepalive', 'certgate'), nginx: eff('keepalive', 'nginx') },
      },
    };
    const baselineFigures = baseline
      ? {
          cli: BASELINE_CLI,
          requestsPerProxyCpuSecond: { handshake: eff('handshake', 'baseline'), keepalive: eff('keepalive', 'baseline') },
          requestsPerSecond: { handshake: rps('handshake', 'baseline'), keepalive: rps('keepalive', 'baseline') },
          thisBuildOverBaselinePerCpu: {
            handshake: ratio(eff('handshake', 'certgate'), eff('handshake', 'baseline')),
            keepalive: ratio(eff('keepalive', 'certgate'), eff('keepalive', 'baseline')),
          },
          thisBuildOverBaselineRate: {
            handshake: ratio(rps('handshake', 'certgate'), rps('handshake', 'baseline')),
            keepalive: ratio(rps('keepalive', 'certgate'), rps('keepalive', 'baseline')),
          },
        }
      : null;
    const ratios = {
      handshake: ratio(figures.handshakesPerSecond.certgate, figures.handshakesPerSecond.nginx),
      keepalive: ratio(figures.keepAliveRequestsPerSecond.certgate, figures.keepAliveRequestsPerSecond.nginx),
      handshakePerProxyCpu: ratio(figures.requestsPerProxyCpuSecond.handshake.certgate, figures.requestsPerProxyCpuSecond.handshake.nginx),
      keepalivePerProxyCpu: ratio(figures.requestsPerProxyCpuSecond.keepalive.certgate, figures.requestsPerProxyCpuSecond.keepalive.nginx),
    };
    const targets = {
      handshakeRatioAtLeast0_7: ratios.handshake >= 0.7,
      keepaliveRatioAtLeast0_7: ratios.keepalive >= 0.7,
      certgateAddedP50Under1ms: figures.addedP50Us.certgate < 1000,
    };
    const disturbed = Object.values(runs)
      .flatMap((byTarget) => Object.values(byTarget).flat())
      .filter((m) => m.disturbed)
      .map((m) => `${m.label}: ${m.disturbed}`);
    const machineInfo = machine();
    const report = {
      benchmark: NAME,
      filter: (FULL ? FULL_FILTER : FILTER) ?? null,
      full: FULL,
      machine: machineInfo,
      settings: {
        ...settings,
        placement: place,
        nginxWorkerProcesses: settings.nginxWorkers || os.availableParallelism(),
        path: `GET /v1/models (the upstream answers a ${direct.body.length}-byte JSON body)`,
        tls: 'TLS 1.3 (both sides default), ECDSA P-256 server and client certificates, client certificate issued directly by the CA',
        aggregation: `median over ${settings.rounds} round(s), target order alternating per round`,
      },
      sanity,
      disturbed,
      figures,
      ratios,
      targets,
      baseline: baselineFigures,
      runs,
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, `${NAME}.json`), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(join(RESULTS, `${NAME}.md`), markdown(report, figures, ratios, targets, machineInfo, place.pinned, baselineFigures));
    writeFileSync(join(RESULTS, `${NAME}.svg`), svgChart(gatewayChart(figures, ratios, machineInfo)));
    log(`wrote ${join(RESULTS, `${NAME}.json`)}, ${NAME}.md and ${NAME}.svg`);
    log(
      `handshakes/s certgate ${int(figures.handshakesPerSecond.certgate)} nginx ${int(figures.handshakesPerSecond.nginx)} (ratio ${ratios.handshake}); ` +
        `keep-alive req/s certgate ${int(figures.keepAliveRequestsPerSecond.certgate)} nginx ${int(figures.keepAliveRequestsPerSecond.nginx)} (ratio ${ratios.keepalive}); ` +
        `added p50 certgate ${ms(figures.addedP50Us.certgate)} ms nginx ${ms(figures.addedP50Us.nginx)} ms`,
    );
  } catch (err) {
    if (procs.isStopping) return;
    for (const name of ['upstream.log', 'certgate-gateway.log', 'baseline-gateway.log', 'nginx/stdout.log', 'nginx/error.log']) {
      try {
        const text = readFileSync(file(name), 'utf8').trim();
        if (text) log(`--- ${name} (last lines) ---\n${text.split('\n').slice(-15).join('\n')}`);
      } catch {
        /* not written */
      }
    }
    throw err;
  } finally {
    await procs.stopAll(); // the temporary directory goes when the process exits
  }
}

function gatewayChart(f: any, r: Record<string, number>, m: Record<string, string | number>): Chart {
  const pair = (phase: 'handshake' | 'keepalive'): Bar[] => [
    { label: 'certgate', value: f.requestsPerProxyCpuSecond[phase].certgate },
    { label: 'nginx', value: f.requestsPerProxyCpuSecond[phase].nginx, baseline: true },
  ];
  return {
    title: `certgate gateway vs nginx (mTLS)${FULL ? ', everything on' : FILTER ? ', with a CEL filter' : ''}`,
    subtitle: `${m.nproc} cores, ${m.cpu}, ${m.date}; grey = nginx`,
    panels: [
      { title: 'full handshakes per proxy CPU-second', bars: pair('handshake') },
      { title: 'kept-alive requests per proxy CPU-second', bars: pair('keepalive') },
      {
        title: 'certgate / nginx',
        bars: [
          { label: 'handshake, per CPU-second', value: r.handshakePerProxyCpu! },
          { label: 'handshake, rate', value: r.handshake!, baseline: true },
          { label: 'keep-alive, per CPU-second', value: r.keepalivePerProxyCpu! },
          { label: 'keep-alive, rate', value: r.keepalive!, baseline: true },
        ],
        target: { value: 1, label: 'parity' },
      },
    ],
  };
}

function markdown(
  report: { settings: Record<string, unknown>; sanity: Record<string, Record<string, unknown>>; disturbed: string[] },
  f: any,
  r: Record<string, number>,
  t: Record<string, boolean>,
  m: Record<string, string | number>,
  pinned: boolean,
  b: any = null,
): string {
  const yes = (b: boolean) => (b ? 'met' : '**not met**');
  const existing = (() => {
    try {
      const text = readFileSync(join(RESULTS, `${NAME}.md`), 'utf8');
      const at = text.indexOf('\n## Findings');
      return at >= 0 ? text.slice(at) : '';
    } catch {
      return '';
    }
  })();
  return `# certgate gateway vs nginx (mTLS)${FULL ? ', with everything on: a filter, a CRL of 10,000 serials, a client-id header, traffic recording' : FILTER ? ', with a CEL filter on the anchor in force' : ''}

Measured by \`bench/gateway/run.sh\` on ${m.date}. Regenerated on every run; the Findings section below is kept.

| machine | |
|---|---|
| nproc | ${m.nproc} |
| CPU | ${m.cpu} |
| memory | ${m.memoryGiB} GiB |
| OS | ${m.os}, ${m.kernel} |
| node | ${m.node} |
| nginx | ${m.nginx} |
| date | ${m.date} |

Setup: upstream = node:http process answering a small JSON body; certgate = \`node dist/bin/cli.js gateway\` (one process);
nginx with \`ssl_verify_client on\` for the same CA, ${report.settings.nginxWorkerProcesses} worker process(es), keep-alive pool to the same upstream.
${pinned ? 'Each proxy is pinned to core 0; the load generator and the upstream share the other core(s).' : 'No CPU pinning: every process may use every core.'}
Load generator: one Node process, ${report.settings.connections} closed-loop connections, ${Number(report.settings.warmupMs) / 1000} s warm-up + ${
    Number(report.settings.durationMs) / 1000
  } s measured per target; latency: 1 connection, ${Number(report.settings.latencyMs) / 1000} s. ${report.settings.aggregation}.

| metric | certgate | nginx | certgate / nginx | target |
|---|---:|---:|---:|---|
| full-handshake mTLS connections/s (1 GET each, no resumption) | ${int(f.handshakesPerSecond.certgate)} | ${int(f.handshakesPerSecond.nginx)} | ${r.handshake} | ≥ 0.7: ${yes(t.handshakeRatioAtLeast0_7!)} |
| keep-alive proxied requests/s over mTLS | ${int(f.keepAliveRequestsPerSecond.certgate)} | ${int(f.keepAliveRequestsPerSecond.nginx)} | ${r.keepalive} | ≥ 0.7: ${yes(t.keepaliveRatioAtLeast0_7!)} |
| added p50 latency, keep-alive, 1 connection (ms) | ${ms(f.addedP50Us.certgate)} | ${ms(f.addedP50Us.nginx)} | | certgate < 1 ms: ${yes(t.certgateAddedP50Under1ms!)} |
| added p99 latency, keep-alive, 1 connection (ms) | ${ms(f.addedP99Us.certgate)} | ${ms(f.addedP99Us.nginx)} | | |

Direct to upstream (plain HTTP, same generator): ${int(f.keepAliveRequestsPerSecond.directToUpstream)} req/s keep-alive, p50 ${ms(f.p50Us.directToUpstream)} ms at 1 connection.

How busy each proxy was, and what it achieves per CPU-second it burns (shows whether a proxy was saturated or the
generator/upstream side was the limit):

| | certgate CPU (% of a core) | nginx CPU (% of a core) | certgate req per CPU-s | nginx req per CPU-s | ratio per CPU-s |
|---|---:|---:|---:|---:|---:|
| handshake | ${f.proxyCpuPercentOfOneCore.handshake.certgate} | ${f.proxyCpuPercentOfOneCore.handshake.nginx} | ${int(f.requestsPerProxyCpuSecond.handshake.certgate)} | ${int(
    f.requestsPerProxyCpuSecond.handshake.nginx,
  )} | ${r.handshakePerProxyCpu} |
| keep-alive | ${f.proxyCpuPercentOfOneCore.keepalive.certgate} | ${f.proxyCpuPercentOfOneCore.keepalive.nginx} | ${int(f.requestsPerProxyCpuSecond.keepalive.certgate)} | ${int(
    f.requestsPerProxyCpuSecond.keepalive.nginx,
  )} | ${r.keepalivePerProxyCpu} |

${
    b
      ? `This build against a baseline build (\`${b.cli}\`), measured in the same rounds, same data and core:

| | baseline req per CPU-s | this build req per CPU-s | this / baseline per CPU-s | baseline req/s | this build req/s | this / baseline rate |
|---|---:|---:|---:|---:|---:|---:|
| handshake | ${int(b.requestsPerProxyCpuSecond.handshake)} | ${int(f.requestsPerProxyCpuSecond.handshake.certgate)} | ${b.thisBuildOverBaselinePerCpu.handshake} | ${int(b.requestsPerSecond.handshake)} | ${int(f.handshakesPerSecond.certgate)} | ${b.thisBuildOverBaselineRate.handshake} |
| keep-alive | ${int(b.requestsPerProxyCpuSecond.keepalive)} | ${int(f.requestsPerProxyCpuSecond.keepalive.certgate)} | ${b.thisBuildOverBaselinePerCpu.keepalive} | ${int(b.requestsPerSecond.keepalive)} | ${int(f.keepAliveRequestsPerSecond.certgate)} | ${b.thisBuildOverBaselineRate.keepalive} |

`
      : ''
  }Sanity checks before measuring (status codes): ${Object.entries(report.sanity)
    .map(([name, s]) => `${name} ${JSON.stringify(s)}`)
    .join('; ')}.

Measurements disturbed by failed requests or by other processes' CPU use (each measured once more, then kept):
${report.disturbed.length ? report.disturbed.map((d) => `\`${d}\``).join('; ') : 'none'}.

Per-run figures (every round, CPU per process, latency percentiles, status counts) are in \`${NAME}.json\`.
${existing || '\n## Findings\n\n(none recorded yet)\n'}`;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
