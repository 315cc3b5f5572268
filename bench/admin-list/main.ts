// bench/admin-list: GET /v1/organization/certificates (20 certificates in the organization,
// the SDK's list shape) through certgate's Fastify admin API (`certgate serve`), against a
// bare node:http server answering the very same bytes. Same load generator and settings.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCa } from '../../test/support/pki.js';
import { svgChart } from '../lib/chart.js';
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
import type { LoadSpec } from '../lib/loadgen.js';
import { seedDataDir } from '../lib/seed.js';

const settings = {
  rounds: envNumber('BENCH_ROUNDS', 3),
  warmupMs: envNumber('BENCH_WARMUP_S', 2) * 1000,
  durationMs: envNumber('BENCH_DURATION_S', 6) * 1000,
  latencyMs: envNumber('BENCH_LATENCY_S', 3) * 1000,
  connections: envNumber('BENCH_CONNECTIONS', 32),
  certificates: envNumber('BENCH_CERTIFICATES', 20),
  cpuProfile: process.env.BENCH_CPU_PROF === '1',
  workers: WORKERS,
};
const PATH = '/v1/organization/certificates';
// Only a run of the project's own build writes bench/results; profiles and candidate builds go to bench/work/results.
const OFFICIAL = !process.env.BENCH_CERTGATE_CLI && !settings.cpuProfile;
const RESULTS = process.env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench', OFFICIAL ? 'results' : 'work/results');

type Target = 'certgate' | 'bare';

async function main(): Promise<void> {
  const place = placement();
  const procs = new Processes();
  const tmp = privateTempDir('certgate-bench-admin-list-');
  const file = (name: string) => join(tmp, name);
  log(`work dir ${tmp}`);
  try {
    await waitForQuiet(envNumber('BENCH_QUIET_WAIT_S', 60) * 1000);
    // ---- 20 CA certificates in the organization, 5 of them active ----
    const cas = await Promise.all(Array.from({ length: settings.certificates }, (_, i) => makeCa({ name: `bench list CA ${i + 1}` })));
    const dataDir = file('data');
    const seeded = await seedDataDir(
      dataDir,
      cas.map((c) => c.pem),
      Math.min(5, settings.certificates),
    );
    log(`seeded ${settings.certificates} certificates`);

    const [certgatePort, barePort] = [await freePort(), await freePort()];
    const profDir = join(ROOT, 'bench', 'work', 'prof');
    if (settings.cpuProfile) mkdirSync(profDir, { recursive: true });
    const certgate = procs.start(
      'certgate serve',
      process.execPath,
      [
        ...(settings.cpuProfile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
        process.env.BENCH_CERTGATE_CLI ?? join(ROOT, 'dist/bin/cli.js'),
        'serve',
        '--data-dir',
        dataDir,
        '--host',
        '127.0.0.1',
        '--port',
        String(certgatePort),
        '--admin-key',
        seeded.adminKey,
        '--log-level',
        'warn',
        '--workers',
        String(WORKERS),
      ],
      { cpus: place.pinned ? place.serverCpus : undefined, logFile: file('certgate.log') },
    );
    const auth = { authorization: `Bearer ${seeded.adminKey}` };
    await waitFor('certgate serve', 10_000, async () => (await get({ port: certgatePort, path: '/healthz' })).status === 200);

    // the bytes certgate answers, and the same bytes from the bare server
    const reference = await get({ port: certgatePort, path: PATH, headers: auth });
    const list = JSON.parse(reference.body) as { object: string; data: unknown[]; has_more: boolean };
    if (reference.status !== 200 || list.object !== 'list' || list.data.length !== settings.certificates) {
      throw new Error(`unexpected list from certgate: ${reference.status} ${reference.body.slice(0, 200)}`);
    }
    const contentType = /\r\ncontent-type:\s*([^\r]+)/i.exec(reference.headers)?.[1] ?? 'application/json';
    writeFileSync(file('body.json'), reference.body, 'latin1');
    const bare = procs.start('bare server', process.execPath, [join(ROOT, 'dist/bench/admin-list/bare.js'), String(barePort), file('body.json'), contentType], {
      cpus: place.pinned ? place.serverCpus : undefined,
      logFile: file('bare.log'),
    });
    await waitFor('bare server', 5000, async () => (await get({ port: barePort, path: PATH })).status === 200);
    const bareReply = await get({ port: barePort, path: PATH, headers: auth });
    if (bareReply.body !== reference.body) throw new Error('the bare server does not answer the same bytes');
    const bodyBytes = Buffer.byteLength(reference.body, 'latin1');
    log(`list body: ${bodyBytes} bytes, ${contentType}`);

    const ports: Record<Target, number> = { certgate: certgatePort, bare: barePort };
    const pids: Record<Target, () => number[]> = { certgate: () => withChildren(certgate.pid!), bare: () => [bare.pid!] };
    const run = async (target: Target, connections: number, warmupMs: number, durationMs: number): Promise<Measured> => {
      const spec: LoadSpec = {
        label: `${target} c=${connections}`,
        host: '127.0.0.1',
        port: ports[target],
        tls: null,
        path: PATH,
        headers: auth,
        mode: 'keepalive',
        connections,
        warmupMs,
        durationMs,
      };
      const alive = () => [certgate, bare].every((c) => c.exitCode === null && c.signalCode === null);
      const m = await measureSteady(spec, { cpus: place.pinned ? place.clientCpus : undefined, watch: { server: pids[target] }, procs, alive });
      log(
        `${spec.label}: ${int(m.rps)} req/s, p50 ${ms(m.latencyUs.p50)} ms, p99 ${ms(m.latencyUs.p99)} ms, errors ${m.errors}, ` +
          `cpu ${JSON.stringify(m.cpuPercent)}, foreign ${m.foreignCpuPercent}`,
      );
      if (m.disturbed) log(`  kept although disturbed: ${m.disturbed}`);
      return m;
    };
    const runs: Record<'throughput' | 'latency', Record<Target, Measured[]>> = {
      throughput: { certgate: [], bare: [] },
      latency: { certgate: [], bare: [] },
    };
    for (let round = 0; round < settings.rounds; round++) {
      const order: Target[] = round % 2 === 0 ? ['certgate', 'bare'] : ['bare', 'certgate'];
      log(`round ${round + 1}/${settings.rounds}`);
      for (const t of order) runs.throughput[t].push(await run(t, settings.connections, settings.warmupMs, settings.durationMs));
      for (const t of order) runs.latency[t].push(await run(t, 1, 1000, settings.latencyMs));
    }

    const med = (phase: 'throughput' | 'latency', t: Target, pick: (m: Measured) => number) => median(runs[phase][t].map(pick));
    const figures = {
      requestsPerSecond: { certgate: med('throughput', 'certgate', (m) => m.rps), bare: med('throughput', 'bare', (m) => m.rps) },
      p50UsUnderLoad: { certgate: med('throughput', 'certgate', (m) => m.latencyUs.p50), bare: med('throughput', 'bare', (m) => m.latencyUs.p50) },
      p99UsUnderLoad: { certgate: med('throughput', 'certgate', (m) => m.latencyUs.p99), bare: med('throughput', 'bare', (m) => m.latencyUs.p99) },
      p50UsOneConnection: { certgate: med('latency', 'certgate', (m) => m.latencyUs.p50), bare: med('latency', 'bare', (m) => m.latencyUs.p50) },
      serverCpuPercentOfOneCore: {
        certgate: med('throughput', 'certgate', (m) => m.cpuPercent.server ?? NaN),
        bare: med('throughput', 'bare', (m) => m.cpuPercent.server ?? NaN),
      },
      requestsPerServerCpuSecond: {
        certgate: med('throughput', 'certgate', (m) => m.rpsPerServerCore ?? NaN),
        bare: med('throughput', 'bare', (m) => m.rpsPerServerCore ?? NaN),
      },
    };
    const ratios = {
      requestsPerSecond: ratio(figures.requestsPerSecond.certgate, figures.requestsPerSecond.bare),
      requestsPerServerCpuSecond: ratio(figures.requestsPerServerCpuSecond.certgate, figures.requestsPerServerCpuSecond.bare),
    };
    const disturbed = [...runs.throughput.certgate, ...runs.throughput.bare, ...runs.latency.certgate, ...runs.latency.bare]
      .filter((r) => r.disturbed)
      .map((r) => `${r.label}: ${r.disturbed}`);
    const m = machine();
    const report = {
      benchmark: 'admin-list',
      machine: m,
      settings: {
        ...settings,
        placement: place,
        request: `GET ${PATH} (no query: the SDK's list() with defaults), admin key, keep-alive, plain HTTP`,
        response: `${bodyBytes} bytes, ${contentType}, ${settings.certificates} items`,
        aggregation: `median over ${settings.rounds} round(s), target order alternating per round`,
      },
      disturbed,
      figures,
      ratios,
      runs,
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'admin-list.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(join(RESULTS, 'admin-list.md'), markdown(report.settings, figures, ratios, m, place.pinned, bodyBytes, disturbed));
    writeFileSync(
      join(RESULTS, 'admin-list.svg'),
      svgChart({
        title: 'certgate admin list vs a bare node:http server (same bytes)',
        subtitle: `${m.nproc} cores, ${m.cpu}, ${m.date}; grey = bare node:http`,
        panels: [
          {
            title: 'requests per server CPU-second',
            bars: [
              { label: 'certgate serve', value: figures.requestsPerServerCpuSecond.certgate },
              { label: 'bare node:http', value: figures.requestsPerServerCpuSecond.bare, baseline: true },
            ],
          },
          {
            title: 'certgate / bare',
            bars: [
              { label: 'per CPU-second', value: ratios.requestsPerServerCpuSecond },
              { label: 'rate', value: ratios.requestsPerSecond, baseline: true },
            ],
            target: { value: 0.7, label: 'target ≥ 0.7' },
          },
        ],
      }),
    );
    log(`wrote ${join(RESULTS, 'admin-list.json')}, admin-list.md and admin-list.svg`);
    log(`req/s certgate ${int(figures.requestsPerSecond.certgate)} bare ${int(figures.requestsPerSecond.bare)} (ratio ${ratios.requestsPerSecond})`);
  } catch (err) {
    if (procs.isStopping) return;
    try {
      const text = readFileSync(file('certgate.log'), 'utf8').trim();
      if (text) log(`--- certgate.log (last lines) ---\n${text.split('\n').slice(-15).join('\n')}`);
    } catch {
      /* not written */
    }
    throw err;
  } finally {
    await procs.stopAll(); // the temporary directory goes when the process exits
  }
}

function markdown(
  s: Record<string, unknown>,
  f: any,
  r: Record<string, number>,
  m: Record<string, string | number>,
  pinned: boolean,
  bytes: number,
  disturbed: readonly string[],
): string {
  const existing = (() => {
    try {
      const text = readFileSync(join(RESULTS, 'admin-list.md'), 'utf8');
      const at = text.indexOf('\n## Findings');
      return at >= 0 ? text.slice(at) : '';
    } catch {
      return '';
    }
  })();
  return `# certgate admin API list vs a bare node:http server

Measured by \`bench/admin-list/run.sh\` on ${m.date}. Regenerated on every run; the Findings section below is kept.

| machine | |
|---|---|
| nproc | ${m.nproc} |
| CPU | ${m.cpu} |
| OS | ${m.os}, ${m.kernel} |
| node | ${m.node} |
| date | ${m.date} |

\`GET /v1/organization/certificates\` with an admin key, ${s.certificates} certificates in the organization (5 active), the
SDK's list shape (${bytes} bytes of JSON). certgate = \`node dist/bin/cli.js serve\` (Fastify, SQLite store, log level warn);
bare = a node:http server answering the same bytes. ${pinned ? 'Each server pinned to core 0, the load generator to the other core(s).' : 'No CPU pinning.'}
Load generator: one Node process, ${s.connections} keep-alive connections, ${Number(s.warmupMs) / 1000} s warm-up + ${Number(s.durationMs) / 1000} s measured; ${s.aggregation}.

| | certgate | bare node:http | certgate / bare |
|---|---:|---:|---:|
| requests/s (${s.connections} connections) | ${int(f.requestsPerSecond.certgate)} | ${int(f.requestsPerSecond.bare)} | ${r.requestsPerSecond} |
| p50 / p99 under that load (ms) | ${ms(f.p50UsUnderLoad.certgate)} / ${ms(f.p99UsUnderLoad.certgate)} | ${ms(f.p50UsUnderLoad.bare)} / ${ms(f.p99UsUnderLoad.bare)} | |
| p50, 1 connection (ms) | ${ms(f.p50UsOneConnection.certgate)} | ${ms(f.p50UsOneConnection.bare)} | |
| server CPU (% of one core) | ${f.serverCpuPercentOfOneCore.certgate} | ${f.serverCpuPercentOfOneCore.bare} | |
| requests per server CPU-second | ${int(f.requestsPerServerCpuSecond.certgate)} | ${int(f.requestsPerServerCpuSecond.bare)} | ${r.requestsPerServerCpuSecond} |

Measurements disturbed by failed requests or other processes' CPU use (each measured once more, then kept):
${disturbed.length ? disturbed.map((d) => `\`${d}\``).join('; ') : 'none'}.

Per-run figures are in \`admin-list.json\`.
${existing || '\n## Findings\n\n(none recorded yet)\n'}`;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
