// bench/ingress: certgate behind an ingress that terminates mTLS, against the same ingress with no decision.
//
//   nginx:   docs/ingress/nginx.conf as shipped (auth_request to `certgate decide`, its 1 s decision cache), against
//            the same file with its auth_request line taken out (same TLS, same proxying, no decision).
//   haproxy: docs/ingress/haproxy.cfg as shipped (HAProxy in front of `certgate gateway --behind-ingress`), against
//            the same file with its backend pointed at the upstream (same TLS and header work, no certgate).
//
// The headline is requests per CPU-second of every process under test (the ingress's, certgate's, the upstream's),
// with the rate ratio beside it. The ingress and certgate are pinned to core 0, the load generator and the upstream
// to the other core(s), as in bench/gateway. Rounds interleave the four targets, rotating their order.
//
// Phases per round: handshake (a new TCP+TLS connection with the client certificate per request, no resumption),
// keepalive (32 kept-alive connections).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { selfSignedLocalhost } from '../../src/gateway/self-signed.js';
import { makeCa, makeClient } from '../../test/support/pki.js';
import { binary, fillIn, shippedConfig } from '../../test/support/ingress.js';
import {
  envNumber,
  freePort,
  get,
  int,
  log,
  machine,
  measureSteady,
  median,
  placement,
  privateTempDir,
  Processes,
  ratio,
  ROOT,
  waitFor,
  waitForQuiet,
  withChildren,
  type SteadyMeasured as Measured,
} from '../lib/harness.js';
import type { LoadMode, LoadSpec } from '../lib/loadgen.js';
import { type Chart, svgChart } from '../lib/chart.js';
import { measuredCommit, resultsDir } from '../lib/report.js';
import { seedDataDir } from '../lib/seed.js';

const settings = {
  rounds: envNumber('BENCH_ROUNDS', 3),
  warmupMs: envNumber('BENCH_WARMUP_S', 1.5) * 1000,
  durationMs: envNumber('BENCH_DURATION_S', 5) * 1000,
  connections: envNumber('BENCH_CONNECTIONS', 32),
  phases: (process.env.BENCH_PHASES ?? 'handshake,keepalive').split(',') as Phase[],
};
const OFFICIAL = !process.env.BENCH_PHASES;
const RESULTS = resultsDir(OFFICIAL);
const SECRET = 'bench-ingress-secret-0123456789abcdef';

type Phase = 'handshake' | 'keepalive';
type Target = 'nginx+certgate' | 'nginx' | 'haproxy+certgate' | 'haproxy';
const TARGETS: readonly Target[] = ['nginx+certgate', 'nginx', 'haproxy+certgate', 'haproxy'];
const PAIRS = [
  { name: 'nginx', decided: 'nginx+certgate', plain: 'nginx', goal: { keepalive: 0.7, handshake: 0.9 } },
  { name: 'haproxy', decided: 'haproxy+certgate', plain: 'haproxy', goal: null },
] as const;

async function main(): Promise<void> {
  const place = placement();
  const procs = new Processes();
  const tmp = privateTempDir('certgate-bench-ingress-');
  const file = (name: string) => join(tmp, name);
  const serverCpus = place.pinned ? place.serverCpus : undefined;
  const clientCpus = place.pinned ? place.clientCpus : undefined;
  log(`work dir ${tmp} (private keys live only here and are removed at the end)`);
  try {
    await waitForQuiet(envNumber('BENCH_QUIET_WAIT_S', 60) * 1000);
    const ca = await makeCa({ name: 'bench client CA' });
    const client = await makeClient(ca, { subject: 'CN=bench client, OU=Production, O=Example', dnsNames: ['bench.example.com'] });
    const server = await selfSignedLocalhost();
    writeFileSync(file('server.pem'), server.cert);
    writeFileSync(file('server.key'), server.key, { mode: 0o600 });
    writeFileSync(file('server-and-key.pem'), `${server.cert.trim()}\n${server.key.trim()}\n`, { mode: 0o600 });
    writeFileSync(file('client-cas.pem'), ca.pem);
    writeFileSync(file('client.pem'), client.pem);
    writeFileSync(file('client.key'), client.keyPem, { mode: 0o600 });
    writeFileSync(file('secret'), `${SECRET}\n`, { mode: 0o600 });
    const seeded = await seedDataDir(file('data'), [ca.pem], 1);
    log(`seeded: project ${seeded.projectId}, CA ${seeded.certificateIds[0]} active for the organization`);

    const [upstreamPort, decidePort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
    const ports: Record<Target, number> = { 'nginx+certgate': await freePort(), nginx: await freePort(), 'haproxy+certgate': await freePort(), haproxy: await freePort() };
    const upstream = procs.start('upstream', process.execPath, [join(ROOT, 'dist/bench/gateway/upstream.js'), String(upstreamPort)], { cpus: clientCpus, logFile: file('upstream.log'), stdin: 'pipe' });
    await waitFor('upstream', 5000, async () => (await get({ port: upstreamPort, path: '/' })).status === 200);

    const cli = join(ROOT, 'dist/bin/cli.js');
    const common = ['--data-dir', file('data'), '--ingress-secret-file', file('secret'), '--log-level', 'warn', '--workers', '1', '--host', '127.0.0.1'];
    const decide = procs.start('certgate decide', process.execPath, [cli, 'decide', '--port', String(decidePort), ...common], { cpus: serverCpus, logFile: file('decide.log') });
    const gateway = procs.start(
      'certgate gateway --behind-ingress',
      process.execPath,
      [cli, 'gateway', '--behind-ingress', '--port', String(gatewayPort), '--upstream-url', `http://127.0.0.1:${upstreamPort}`, ...common],
      { cpus: serverCpus, logFile: file('gateway.log') },
    );

    // nginx, as shipped and with its decision taken out; one worker each, as certgate runs one process
    const nginxConf = (target: Target, withDecision: boolean): string => {
      const run = file(`${target}-run`);
      const cache = file(`${target}-cache`);
      mkdirSync(run, { mode: 0o700 });
      mkdirSync(cache, { mode: 0o700 });
      let text = fillIn(shippedConfig('nginx'), {
        LISTEN: `127.0.0.1:${ports[target]}`,
        SERVER_CERT: file('server.pem'),
        SERVER_KEY: file('server.key'),
        CERTGATE_DECIDE: `127.0.0.1:${decidePort}`,
        INGRESS_SECRET: SECRET,
        UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}`,
        RUN_DIR: run,
        CACHE_DIR: cache,
      })
        .replace(/^worker_processes auto;/m, 'worker_processes 1;')
        // the workers stay the benchmark's user: the private work directory is not theirs to enter otherwise
        .replace(/^user www-data;/m, process.getuid?.() === 0 ? 'user root;' : '');
      if (!withDecision) {
        const without = text.replace(/^\s*auth_request \/\.certgate\/decide;\n/m, '');
        if (without === text) throw new Error('docs/ingress/nginx.conf: no auth_request line to take out');
        text = without;
      }
      const path = file(`${target}.conf`);
      writeFileSync(path, text, { mode: 0o644 });
      return path;
    };
    const haproxyCfg = (target: Target, backend: string): string => {
      const path = file(`${target}.cfg`);
      const text = fillIn(shippedConfig('haproxy'), {
        LISTEN: `127.0.0.1:${ports[target]}`,
        SERVER_PEM: file('server-and-key.pem'),
        CLIENT_CA_FILE: file('client-cas.pem'),
        INGRESS_SECRET: SECRET,
        CERTGATE_GATEWAY: backend,
        SERVER_CERT: file('server.pem'),
        SERVER_KEY: file('server.key'),
        UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}`,
      });
      // one thread, as certgate runs one process
      writeFileSync(path, text.replace(/^global\n/m, 'global\n    nbthread 1\n'), { mode: 0o600 });
      return path;
    };
    const nginxBin = binary('nginx');
    const haproxyBin = binary('haproxy');
    const ingress = {
      'nginx+certgate': procs.start('nginx+certgate', nginxBin, ['-c', nginxConf('nginx+certgate', true), '-e', 'stderr', '-g', 'daemon off;'], { cpus: serverCpus, logFile: file('nginx-decide.log') }),
      nginx: procs.start('nginx', nginxBin, ['-c', nginxConf('nginx', false), '-e', 'stderr', '-g', 'daemon off;'], { cpus: serverCpus, logFile: file('nginx.log') }),
      'haproxy+certgate': procs.start('haproxy+certgate', haproxyBin, ['-f', haproxyCfg('haproxy+certgate', `127.0.0.1:${gatewayPort}`), '-db'], { cpus: serverCpus, logFile: file('haproxy-gateway.log') }),
      haproxy: procs.start('haproxy', haproxyBin, ['-f', haproxyCfg('haproxy', `127.0.0.1:${upstreamPort}`), '-db'], { cpus: serverCpus, logFile: file('haproxy.log') }),
    } as const;
    const certgateOf: Record<Target, (() => number[]) | null> = {
      'nginx+certgate': () => withChildren(decide.pid!),
      nginx: null,
      'haproxy+certgate': () => withChildren(gateway.pid!),
      haproxy: null,
    };

    const withCert = { ca: server.cert, cert: client.pem, key: client.keyPem };
    const auth = { authorization: `Bearer ${seeded.projectKey}` };
    for (const target of TARGETS) {
      await waitFor(target, 15_000, async () => (await get({ port: ports[target], path: '/v1/models', headers: auth, tls: withCert }).catch(() => ({ status: 0 }))).status === 200);
    }
    const direct = await get({ port: upstreamPort, path: '/v1/models' });
    const sanity: Record<string, Record<string, number | boolean>> = {};
    for (const target of TARGETS) {
      const good = await get({ port: ports[target], path: '/v1/models', headers: auth, tls: withCert });
      const none = await get({ port: ports[target], path: '/v1/models', headers: auth, tls: { ca: server.cert } });
      sanity[target] = { withClientCertificate: good.status, sameBodyAsUpstream: good.body === direct.body, withoutClientCertificate: none.status };
      if (good.status !== 200 || good.body !== direct.body) throw new Error(`${target} does not proxy: ${good.status} ${good.body}`);
      if (target.endsWith('+certgate') && none.status !== 403) throw new Error(`${target} let a request without a certificate through: ${none.status} ${none.body}`);
    }
    log(`sanity: ${JSON.stringify(sanity)}`);

    const run = (target: Target, mode: LoadMode): Promise<Measured> => {
      const spec: LoadSpec = {
        label: `${target} ${mode} c=${settings.connections}`,
        host: '127.0.0.1',
        port: ports[target],
        tls: { caFile: file('server.pem'), certFile: file('client.pem'), keyFile: file('client.key'), servername: 'localhost' },
        path: '/v1/models',
        headers: auth,
        mode,
        connections: settings.connections,
        warmupMs: settings.warmupMs,
        durationMs: settings.durationMs,
      };
      const certgate = certgateOf[target];
      // "server": every process under test, whose CPU the headline divides by
      const watch: Record<string, () => readonly number[]> = {
        server: () => [...withChildren(ingress[target].pid!), ...(certgate ? certgate() : []), upstream.pid!],
        ingress: () => withChildren(ingress[target].pid!),
        upstream: () => [upstream.pid!],
      };
      if (certgate) watch.certgate = certgate;
      const alive = () => [upstream, decide, gateway, ...Object.values(ingress)].every((c) => c.exitCode === null && c.signalCode === null);
      return measureSteady(spec, { cpus: clientCpus, watch, procs, alive }).then((m) => {
        log(`${spec.label}: ${int(m.rps)} req/s, ${int(m.rpsPerServerCore ?? NaN)} per CPU-s of all under test, errors ${m.errors}, cpu ${JSON.stringify(m.cpuPercent)}, foreign ${m.foreignCpuPercent}`);
        if (m.disturbed) log(`  kept although disturbed: ${m.disturbed}`);
        return m;
      });
    };

    const runs: Record<Phase, Partial<Record<Target, Measured[]>>> = { handshake: {}, keepalive: {} };
    for (let round = 0; round < settings.rounds; round++) {
      const order = [...TARGETS.slice(round % TARGETS.length), ...TARGETS.slice(0, round % TARGETS.length)];
      log(`round ${round + 1}/${settings.rounds}: ${order.join(', ')}`);
      if (round > 0) await waitForQuiet(20_000);
      for (const phase of settings.phases) for (const target of order) (runs[phase][target] ??= []).push(await run(target, phase));
    }

    const med = (phase: Phase, target: Target, pick: (m: Measured) => number) => median((runs[phase][target] ?? []).map(pick));
    const figures = Object.fromEntries(
      settings.phases.map((phase) => [
        phase,
        Object.fromEntries(
          TARGETS.map((t) => [
            t,
            {
              requestsPerSecond: med(phase, t, (m) => m.rps),
              requestsPerCpuSecond: med(phase, t, (m) => m.rpsPerServerCore ?? NaN),
              cpuPercent: {
                all: med(phase, t, (m) => m.cpuPercent.server ?? NaN),
                ingress: med(phase, t, (m) => m.cpuPercent.ingress ?? NaN),
                certgate: med(phase, t, (m) => m.cpuPercent.certgate ?? 0),
                upstream: med(phase, t, (m) => m.cpuPercent.upstream ?? NaN),
              },
            },
          ]),
        ),
      ]),
    ) as unknown as Record<Phase, Record<Target, { requestsPerSecond: number; requestsPerCpuSecond: number; cpuPercent: Record<string, number> }>>;
    const ratios = Object.fromEntries(
      PAIRS.map((p) => [
        p.name,
        Object.fromEntries(
          settings.phases.map((phase) => [
            phase,
            {
              perCpuSecond: ratio(figures[phase][p.decided].requestsPerCpuSecond, figures[phase][p.plain].requestsPerCpuSecond),
              rate: ratio(figures[phase][p.decided].requestsPerSecond, figures[phase][p.plain].requestsPerSecond),
              goal: p.goal ? p.goal[phase] : null,
            },
          ]),
        ),
      ]),
    ) as Record<string, Record<Phase, { perCpuSecond: number; rate: number; goal: number | null }>>;
    const disturbed = Object.values(runs)
      .flatMap((byTarget) => Object.values(byTarget).flat())
      .filter((m) => m.disturbed)
      .map((m) => `${m.label}: ${m.disturbed}`);
    const machineInfo = { ...machine(), nginx: versionOf(nginxBin, ['-v']), haproxy: versionOf(haproxyBin, ['-v']).split('\n')[0]!, commit: measuredCommit() };
    const report = { benchmark: 'ingress', machine: machineInfo, settings: { ...settings, placement: place }, sanity, disturbed, figures, ratios, runs };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'ingress.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(join(RESULTS, 'ingress.md'), markdown(report));
    writeFileSync(join(RESULTS, 'ingress.svg'), svgChart(chart(figures, ratios, machineInfo)));
    log(`wrote ${join(RESULTS, 'ingress.json')}, ingress.md and ingress.svg`);
    for (const p of PAIRS) for (const phase of settings.phases) log(`${p.name} ${phase}: with certgate / without, per CPU-second ${ratios[p.name]![phase].perCpuSecond}, rate ${ratios[p.name]![phase].rate}`);
  } catch (err) {
    if (procs.isStopping) return;
    for (const name of ['upstream.log', 'decide.log', 'gateway.log', 'nginx-decide.log', 'nginx.log', 'haproxy-gateway.log', 'haproxy.log']) {
      try {
        const text = readFileSync(file(name), 'utf8').trim();
        if (text) log(`--- ${name} (last lines) ---\n${text.split('\n').slice(-15).join('\n')}`);
      } catch {
        /* not written */
      }
    }
    throw err;
  } finally {
    await procs.stopAll();
  }
}

function versionOf(bin: string, args: string[]): string {
  const out = spawnSync(bin, args, { encoding: 'utf8' });
  return `${out.stdout}${out.stderr}`.trim();
}

function chart(f: any, r: any, m: Record<string, string | number>): Chart {
  const phases = settings.phases;
  return {
    title: 'certgate behind an ingress: with its decision against without',
    subtitle: `${m.nproc} cores, ${m.cpu}, ${m.date}; requests per CPU-second of every process under test; grey = the ingress alone`,
    panels: [
      ...phases.flatMap((phase) =>
        PAIRS.map((p) => ({
          title: `${p.name}, ${phase === 'handshake' ? 'full handshakes' : 'kept-alive requests'} per CPU-second`,
          bars: [
            { label: p.decided, value: f[phase][p.decided].requestsPerCpuSecond },
            { label: `${p.plain} alone`, value: f[phase][p.plain].requestsPerCpuSecond, baseline: true },
          ],
        })),
      ),
      {
        title: 'with certgate / without, per CPU-second',
        bars: PAIRS.flatMap((p) => phases.map((phase) => ({ label: `${p.name} ${phase}`, value: r[p.name][phase].perCpuSecond }))),
        target: { value: 1, label: 'parity' },
      },
    ],
  };
}

function markdown(report: any): string {
  const { figures: f, ratios: r, machine: m } = report;
  const existing = (() => {
    try {
      const text = readFileSync(join(RESULTS, 'ingress.md'), 'utf8');
      const at = text.indexOf('\n## Findings');
      return at >= 0 ? text.slice(at) : '';
    } catch {
      return '';
    }
  })();
  const rows = settings.phases
    .flatMap((phase) =>
      PAIRS.map((p) => {
        const a = f[phase][p.decided];
        const b = f[phase][p.plain];
        const ratioRow = r[p.name][phase];
        const goal = ratioRow.goal === null ? '' : `≥ ${ratioRow.goal}: ${ratioRow.perCpuSecond >= ratioRow.goal ? 'met' : '**not met**'}`;
        return `| ${p.name} | ${phase} | ${int(a.requestsPerCpuSecond)} | ${int(b.requestsPerCpuSecond)} | ${ratioRow.perCpuSecond} | ${int(a.requestsPerSecond)} | ${int(b.requestsPerSecond)} | ${ratioRow.rate} | ${goal} |`;
      }),
    )
    .join('\n');
  const cpu = settings.phases
    .flatMap((phase) => TARGETS.map((t) => `| ${t} | ${phase} | ${f[phase][t].cpuPercent.ingress} | ${f[phase][t].cpuPercent.certgate} | ${f[phase][t].cpuPercent.upstream} | ${f[phase][t].cpuPercent.all} |`))
    .join('\n');
  return `# certgate behind an ingress: with its decision, against the same ingress without

Measured by \`bench/ingress/run.sh\` on ${m.date} (commit ${m.commit}). Regenerated on every run; the Findings section below is kept.

| machine | |
|---|---|
| nproc | ${m.nproc} |
| CPU | ${m.cpu} |
| OS | ${m.os}, ${m.kernel} |
| node | ${m.node} |
| nginx | ${m.nginx} |
| haproxy | ${m.haproxy} |

Setup: **nginx** runs \`docs/ingress/nginx.conf\` as shipped (\`auth_request\` to \`certgate decide\`, the 1 s decision
cache), against the same file with its \`auth_request\` line taken out. **HAProxy** runs \`docs/ingress/haproxy.cfg\` as
shipped, in front of \`certgate gateway --behind-ingress\`, against the same file with its backend pointed at the
upstream. One nginx worker, one HAProxy thread, one certgate process, all pinned to core 0; the load generator and the
upstream (a node:http process answering a small JSON body) on the other core. TLS 1.3, ECDSA P-256, the client
certificate issued directly by the anchor. ${settings.connections} closed-loop connections, ${settings.warmupMs / 1000} s warm-up + ${settings.durationMs / 1000} s per target and phase,
median over ${settings.rounds} rounds, the four targets' order rotating each round.

Headline: requests per CPU-second of **every process under test** (the ingress, certgate, the upstream); the rate beside it.

| ingress | phase | with certgate, per CPU-s | without, per CPU-s | ratio per CPU-s | with, req/s | without, req/s | ratio of rates | issue's goal |
|---|---|---:|---:|---:|---:|---:|---:|---|
${rows}

CPU of each part, % of one core (median):

| target | phase | ingress | certgate | upstream | all |
|---|---|---:|---:|---:|---:|
${cpu}

Sanity checks before measuring: ${JSON.stringify(report.sanity)}.

Measurements disturbed by failed requests or other processes' CPU (each measured once more, then kept):
${report.disturbed.length ? report.disturbed.map((d: string) => `\`${d}\``).join('; ') : 'none'}.

Every run's figures are in \`ingress.json\`.
${existing || '\n## Findings\n\n(none recorded yet)\n'}`;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
