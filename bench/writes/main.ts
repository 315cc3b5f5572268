// bench/writes: the admin API's write path on both engines, through a real `certgate serve` process over HTTP,
// at two organization sizes (1 project, and 1,000 projects with 1,000 service accounts and keys):
//   uploads    N clients upload CA certificates until the 50-certificate limit nears, then delete them, and again;
//   toggle     N clients each activate their own certificate for one project, then GET the project's list;
//              then deactivate it and GET the list again ("toggle + list", the pair counted once).
// Figures: rates, the server's CPU-seconds, writes per server CPU-second, and the ratio size 1,000 / size 1.
import { join } from 'node:path';
import { Pool } from 'undici';
import { makeCa } from '../../test/support/pki.js';
import { figure, type Bar } from '../lib/chart.js';
import {
  cpuWindow,
  envNumber,
  freePort,
  get,
  int,
  log,
  machine,
  median,
  percentiles,
  pinSelf,
  placement,
  privateTempDir,
  Processes,
  ratio,
  ROOT,
  sleep,
  waitFor,
  waitForQuiet,
  withChildren,
  WORKERS,
  type CpuWindow,
} from '../lib/harness.js';
import { machineTable, measuredCommit, remeasured, resultsDir, sharedMachineNote, writeResults } from '../lib/report.js';
import { enginesFromEnv, freshPlace, openSeeder, type Engine } from '../lib/stores.js';

const settings = {
  clients: envNumber('BENCH_CLIENTS', 4),
  workers: WORKERS,
  warmupMs: envNumber('BENCH_WARMUP_S', 1) * 1000,
  durationMs: envNumber('BENCH_DURATION_S', 5) * 1000,
  sizes: (process.env.BENCH_SIZES ?? '1,1000').split(',').map(Number),
  rounds: envNumber('BENCH_ROUNDS', 2),
  engines: enginesFromEnv(),
  /** certificates an organization may hold (OpenAI's limit, enforced by certgate) */
  limit: 50,
};
/** BENCH_CERTGATE_CLI: another build of certgate's cli.js, to try a change out against this one */
const CERTGATE_CLI = process.env.BENCH_CERTGATE_CLI ?? join(ROOT, 'dist/bin/cli.js');
const OFFICIAL = !process.env.BENCH_ENGINES && !process.env.BENCH_SIZES && !process.env.BENCH_CERTGATE_CLI;
const RESULTS = resultsDir(OFFICIAL);
type Phase = 'uploads' | 'toggle';

interface PhaseResult extends CpuWindow {
  readonly phase: Phase;
  readonly label: string;
  /** operations completed inside the window, by kind */
  readonly counts: Readonly<Record<string, number>>;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  /** per operation (an upload or a delete; a toggle + list pair), milliseconds */
  readonly latencyMs: ReturnType<typeof percentiles>;
  readonly rate: number;
  readonly writesPerSecond: number;
  readonly serverCpuSeconds: number;
  /** CPU-seconds of the PostgreSQL backends serving the benchmark's database (0 for SQLite, which runs inside certgate) */
  readonly databaseCpuSeconds: number;
  readonly writesPerServerCpuSecond: number;
  /** writes per CPU-second of certgate and its database together: the figure that compares the engines */
  readonly writesPerCpuSecond: number;
  readonly ratePerServerCpuSecond: number;
  readonly attempts: number;
  readonly disturbed: string | null;
}

async function main(): Promise<void> {
  const place = placement();
  const described = machine(); // before pinning: the machine's cores, not this process's
  pinSelf(place); // this process is the client: it stays off the server's core
  const procs = new Processes();
  const tmp = privateTempDir('certgate-bench-writes-');
  log(`work dir ${tmp}; ${place.pinned ? `certgate on core ${place.serverCpus}, clients on ${place.clientCpus}` : 'not pinned'}`);
  const uploadsPerClient = Math.floor((settings.limit - settings.clients) / settings.clients);
  // every certificate must be new to the organization (uploads are refused by fingerprint)
  const togglePems = await Promise.all(Array.from({ length: settings.clients }, (_, i) => makeCa({ name: `bench toggle CA ${i + 1}` })));
  const uploadPems = await Promise.all(Array.from({ length: uploadsPerClient * settings.clients }, (_, i) => makeCa({ name: `bench upload CA ${i + 1}` })));
  const results: PhaseResult[] = [];
  const rounds: PhaseResult[] = [];
  const seeding: Record<string, number> = {};
  try {
    await waitForQuiet(envNumber('BENCH_QUIET_WAIT_S', 30) * 1000);
    for (const engine of settings.engines) {
      // both sizes up at once, measured alternately round by round: a shared machine's load falls on both alike
      const targets: SizeTarget[] = [];
      try {
        for (const size of settings.sizes) targets.push(await openTarget(engine, size, tmp, procs, place, togglePems.map((c) => c.pem), uploadPems.map((c) => c.pem), uploadsPerClient, seeding));
        for (let round = 0; round < settings.rounds; round++) {
          const order = round % 2 === 0 ? targets : [...targets].reverse();
          for (const t of order) for (const phase of ['uploads', 'toggle'] as const) rounds.push(await steady(`${engine} size ${t.size} ${phase === 'uploads' ? 'uploads' : 'toggle + list'}`, phase, t.watch, procs, t.alive, t.refresh, t.steps[phase]));
        }
      } finally {
        for (const t of targets) await t.close();
      }
    }
  } finally {
    await procs.stopAll();
  }
  // the median round of each engine, size and phase
  for (const engine of settings.engines)
    for (const size of settings.sizes)
      for (const phase of ['uploads', 'toggle'] as const) {
        const mine = rounds.filter((r) => r.label.startsWith(`${engine} size ${size} `) && r.phase === phase);
        if (mine.length) results.push(medianOf(mine));
      }
  report(results, rounds, seeding, place.pinned, described);
}

interface SizeTarget {
  readonly size: number;
  readonly watch: Record<string, () => readonly number[]>;
  readonly alive: () => boolean;
  readonly refresh: () => Promise<void>;
  readonly steps: Record<Phase, (client: number) => Promise<string>>;
  close(): Promise<void>;
}

/** A fresh store of one size, seeded, with its own `certgate serve` and clients' steps for both phases. */
async function openTarget(
  engine: Engine,
  size: number,
  tmp: string,
  procs: Processes,
  place: ReturnType<typeof placement>,
  togglePems: readonly string[],
  uploads: readonly string[],
  uploadsPerClient: number,
  seeding: Record<string, number>,
): Promise<SizeTarget> {
  const store = await freshPlace(engine, tmp, `writes${size}`);
  const t0 = Date.now();
  const seeder = await openSeeder(store);
  const { projectIds } = await seeder.addProjects(size);
  const projectId = projectIds[0]!;
  const toggleIds: string[] = [];
  for (const [i, pem] of togglePems.entries()) toggleIds.push((await seeder.call('POST', '/v1/organization/certificates', { certificate: pem, name: `toggle ${i + 1}` })).id);
  const adminKey = seeder.adminKey;
  await seeder.close();
  seeding[`${engine} size ${size}`] = Date.now() - t0;
  log(`${engine}, size ${size}: seeded ${size} project(s) and service account(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const port = await freePort();
  const serve = procs.start(
    `certgate serve (${engine}, size ${size})`,
    process.execPath,
    [CERTGATE_CLI, 'serve', ...store.args, '--host', '127.0.0.1', '--port', String(port), '--admin-key', adminKey, '--log-level', 'warn', '--workers', String(WORKERS)],
    { cpus: place.pinned ? place.serverCpus : undefined, logFile: join(tmp, `serve-${engine}-${size}.log`) },
  );
  await waitFor('certgate serve', 15_000, async () => (await get({ port, path: '/healthz' })).status === 200);
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: settings.clients, pipelining: 1 });
  const headers = { authorization: `Bearer ${adminKey}` };
  const withBody = { ...headers, 'content-type': 'application/json' };
  const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: object): Promise<any> => {
    const res = await pool.request({ method, path, headers: body ? withBody : headers, ...(body ? { body: JSON.stringify(body) } : {}) });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${method} ${path.replace(/(cert|proj)_[\w]+/g, '$1_…')}: ${res.statusCode} ${text.slice(0, 120)}`);
    return JSON.parse(text);
  };
  // the list the toggle phase reads must be the project's, with the certificates in it
  const list = await call('GET', `/v1/organization/projects/${projectId}/certificates`);
  if (list.object !== 'list' || list.data.length < settings.clients) throw new Error(`unexpected project list: ${JSON.stringify(list).slice(0, 200)}`);
  let databasePids: number[] = [];
  // uploads: each client its own share of certificates, uploaded one by one, then deleted one by one
  const uploadState = Array.from({ length: settings.clients }, (_, c) => ({ pems: uploads.slice(c * uploadsPerClient, (c + 1) * uploadsPerClient), ids: [] as string[], deleting: false }));
  // toggle + list: each client its own certificate, on the one project
  const active = new Array<boolean>(settings.clients).fill(false);
  return {
    size,
    watch: { server: () => withChildren(serve.pid!), database: () => databasePids },
    alive: () => serve.exitCode === null && serve.signalCode === null,
    refresh: async () => {
      databasePids = await store.backendPids();
    },
    steps: {
      uploads: async (c) => {
        const s = uploadState[c]!;
        if (!s.deleting && s.ids.length < s.pems.length) {
          s.ids.push((await call('POST', '/v1/organization/certificates', { certificate: s.pems[s.ids.length], name: `upload ${c}-${s.ids.length}` })).id);
          if (s.ids.length === s.pems.length) s.deleting = true;
          return 'upload';
        }
        await call('DELETE', `/v1/organization/certificates/${s.ids.pop()}`);
        if (s.ids.length === 0) s.deleting = false;
        return 'delete';
      },
      toggle: async (c) => {
        const verb = active[c] ? 'deactivate' : 'activate';
        await call('POST', `/v1/organization/projects/${projectId}/certificates/${verb}`, { certificate_ids: [toggleIds[c]] });
        active[c] = !active[c];
        const page = await call('GET', `/v1/organization/projects/${projectId}/certificates`);
        if (page.object !== 'list' || page.data.length < settings.clients) throw new Error(`the project list has ${page.data?.length} items`);
        return 'toggle+list';
      },
    },
    async close() {
      await pool.close();
      await procs.stop(serve);
      await store.drop();
    },
  };
}

/** The median of each figure over rounds of one window (counts and latency from the median-rate round). */
function medianOf(rounds: readonly PhaseResult[]): PhaseResult {
  const byRate = [...rounds].sort((a, b) => a.rate - b.rate);
  const mid = byRate[(byRate.length - 1) >> 1]!;
  const med = (pick: (r: PhaseResult) => number) => Math.round(median(rounds.map(pick)) * 100) / 100;
  return {
    ...mid,
    rate: med((r) => r.rate),
    writesPerSecond: med((r) => r.writesPerSecond),
    serverCpuSeconds: med((r) => r.serverCpuSeconds),
    databaseCpuSeconds: med((r) => r.databaseCpuSeconds),
    writesPerServerCpuSecond: Math.round(med((r) => r.writesPerServerCpuSecond)),
    writesPerCpuSecond: Math.round(med((r) => r.writesPerCpuSecond)),
    ratePerServerCpuSecond: Math.round(med((r) => r.ratePerServerCpuSecond)),
    foreignCpuPercent: med((r) => r.foreignCpuPercent),
    cpuPercent: { server: med((r) => r.cpuPercent.server ?? NaN), database: med((r) => r.cpuPercent.database ?? 0) },
    errors: rounds.reduce((a, r) => a + r.errors, 0),
    disturbed: rounds.some((r) => r.disturbed) ? rounds.map((r) => r.disturbed).filter(Boolean).join('; ') : null,
  };
}

/** Runs one phase (measured again once when disturbed) and logs it. */
async function steady(
  label: string,
  phase: Phase,
  watch: Record<string, () => readonly number[]>,
  procs: Processes,
  alive: () => boolean,
  refresh: () => Promise<void>,
  step: (client: number) => Promise<string>,
): Promise<PhaseResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await runPhase(label, phase, watch, procs, refresh, step);
    if (!alive()) throw new Error(`certgate serve stopped during ${label}`);
    const disturbed = r.errors > 0 ? `${r.errors} failed (${r.errorSamples.join('; ')})` : r.foreignCpuPercent > 25 ? `other processes used ${r.foreignCpuPercent}% of a core` : null;
    log(
      `${label}: ${figure(r.rate)}/s, writes ${figure(r.writesPerSecond)}/s, server ${r.cpuPercent.server}% of a core, database ${r.cpuPercent.database}%, ` +
        `${int(r.writesPerCpuSecond)} writes per CPU-s, p50 ${r.latencyMs.p50} ms, errors ${r.errors}, foreign ${r.foreignCpuPercent}%`,
    );
    if (!disturbed || attempt >= 2) return { ...r, attempts: attempt, disturbed };
    log(`  disturbed (${disturbed}); measuring again`);
    await waitForQuiet(5_000);
  }
}

async function runPhase(
  label: string,
  phase: Phase,
  watch: Record<string, () => readonly number[]>,
  procs: Processes,
  refresh: () => Promise<void>,
  step: (client: number) => Promise<string>,
): Promise<Omit<PhaseResult, 'attempts' | 'disturbed'>> {
  let running = true;
  let measuring = false;
  const counts: Record<string, number> = {};
  const latencies: number[] = [];
  let errors = 0;
  const errorSamples: string[] = [];
  const client = async (c: number) => {
    while (running) {
      const started = performance.now();
      try {
        const kind = await step(c);
        if (measuring) {
          counts[kind] = (counts[kind] ?? 0) + 1;
          latencies.push(performance.now() - started);
        }
      } catch (err) {
        if (measuring) {
          errors++;
          if (errorSamples.length < 5) errorSamples.push((err as Error).message);
        }
        await sleep(5);
      }
    }
  };
  const clients = Array.from({ length: settings.clients }, (_, c) => client(c));
  await sleep(settings.warmupMs);
  await refresh(); // the database backends the server holds once warm
  measuring = true;
  const end = cpuWindow(watch, procs);
  await sleep(settings.durationMs);
  const window = end();
  measuring = false;
  running = false;
  await Promise.all(clients);
  const seconds = window.elapsedMs / 1000;
  const writes = phase === 'uploads' ? (counts.upload ?? 0) + (counts.delete ?? 0) : counts['toggle+list'] ?? 0;
  const rate = (phase === 'uploads' ? counts.upload ?? 0 : counts['toggle+list'] ?? 0) / seconds;
  const cpu = window.cpuSeconds.server ?? NaN;
  const total = cpu + (window.cpuSeconds.database ?? 0);
  return {
    ...window,
    phase,
    label,
    counts,
    errors,
    errorSamples,
    latencyMs: percentiles(latencies),
    rate: Math.round(rate * 10) / 10,
    writesPerSecond: Math.round((writes / seconds) * 10) / 10,
    serverCpuSeconds: cpu,
    databaseCpuSeconds: window.cpuSeconds.database ?? 0,
    writesPerServerCpuSecond: cpu > 0 ? Math.round(writes / cpu) : NaN,
    writesPerCpuSecond: total > 0 ? Math.round(writes / total) : NaN,
    ratePerServerCpuSecond: cpu > 0 ? Math.round((phase === 'uploads' ? counts.upload ?? 0 : writes) / cpu) : NaN,
  };
}

function report(results: PhaseResult[], rounds: PhaseResult[], seeding: Record<string, number>, pinned: boolean, m: Record<string, string | number>): void {
  const commit = measuredCommit();
  const find = (engine: Engine, size: number, phase: Phase) => results.find((r) => r.label.startsWith(`${engine} size ${size} `) && r.phase === phase);
  const [small, large] = [Math.min(...settings.sizes), Math.max(...settings.sizes)];
  const ratios: Record<string, Record<string, number>> = {};
  for (const engine of settings.engines) {
    ratios[engine] = {};
    for (const phase of ['uploads', 'toggle'] as const) {
      const a = find(engine, large, phase);
      const b = find(engine, small, phase);
      if (!a || !b) continue;
      ratios[engine]![`${phase} rate`] = ratio(a.rate, b.rate);
      ratios[engine]![`${phase} per CPU-s`] = ratio(a.writesPerCpuSecond, b.writesPerCpuSecond);
    }
  }
  const disturbed = rounds.filter((r) => r.disturbed).map((r) => `${r.label}: ${r.disturbed}`);
  const rows = results
    .map(
      (r) =>
        `| ${r.label} | ${figure(r.rate)} | ${figure(r.writesPerSecond)} | ${r.latencyMs.p50} / ${r.latencyMs.p99} | ${r.serverCpuSeconds.toFixed(2)} (${r.cpuPercent.server}%) | ${r.databaseCpuSeconds.toFixed(2)} | ${int(r.writesPerServerCpuSecond)} | ${int(r.writesPerCpuSecond)} | ${r.errors} | ${r.foreignCpuPercent}% |`,
    )
    .join('\n');
  const ratioRows = settings.engines
    .map((e) => {
      const q = ratios[e] ?? {};
      const t = q['toggle rate'] ?? NaN;
      return `| ${e} | ${q['toggle rate']} | ${q['toggle per CPU-s']} | ${q['uploads rate']} | ${q['uploads per CPU-s']} | ${Number.isFinite(t) ? (t >= 1 / 1.3 ? 'yes' : `no (${figure(1 / t)}× slower)`) : 'n/a'} |`;
    })
    .join('\n');
  const md = `# Writes: uploads and toggle + list against organization size, both engines

Measured by \`bench/writes/run.sh\` (command: \`bench/writes/run.sh\`, i.e. \`node dist/bench/writes/main.js\`). Regenerated on every run; a Findings section below is kept.

${machineTable(m, commit)}

Through \`node dist/bin/cli.js serve --log-level warn --workers ${WORKERS}\` over HTTP (keep-alive, an owner admin key), ${settings.clients} concurrent clients
(a closed loop each, one request outstanding) in the benchmark's own process, ${pinned ? 'certgate pinned to core 0 and the clients to the other core(s)' : 'no CPU pinning'}.
Both sizes are up at once (one server each) and measured alternately, ${settings.rounds} round(s), the order reversed each round;
the table gives each window's median over the rounds (every round is in \`writes.json\`). Each phase: ${settings.warmupMs / 1000} s warm-up, then ${settings.durationMs / 1000} s measured. CPU is read from \`/proc\` for certgate's process
and, on PostgreSQL, for the server backends connected to the benchmark's database (\`pg_stat_activity\`); SQLite runs inside certgate's
process, so *writes per CPU-second of certgate + database* is the figure that compares the engines. Stores: SQLite in a new temporary data directory;
PostgreSQL in a new database on 127.0.0.1 dropped after the run. Sizes: the organization holds ${settings.sizes.join(' / ')} project(s),
each with one service account and its key, seeded through certgate's services before the server starts (not timed).

- **uploads**: each client uploads its own CA certificates (${Math.floor((settings.limit - settings.clients) / settings.clients)} each, so the organization stays under the
  50-certificate limit), then deletes them one by one, and again. Rate = uploads/s; writes = uploads + deletes.
- **toggle + list**: each client activates its own certificate for one project
  (\`POST /v1/organization/projects/{id}/certificates/activate\`), then \`GET /v1/organization/projects/{id}/certificates\`; then
  deactivates it and lists again. Rate = toggle + list pairs/s; each pair is one write.

| window | rate /s | writes /s | p50 / p99 per op (ms) | certgate CPU-s (% of a core) | PostgreSQL backends CPU-s | writes per certgate CPU-s | writes per CPU-s, certgate + database | errors | others' CPU |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows}

Size ${large} / size ${small} (1 = no cost of size; the issue's target: toggle + list at 1,000 within 1.3× of size 1, i.e. a ratio ≥ 0.77):

| engine | toggle + list rate | toggle + list per CPU-s (certgate + database) | uploads rate | writes per CPU-s (uploads) | toggle within 1.3×? |
|---|---:|---:|---:|---:|---|
${ratioRows}

${sharedMachineNote(
  rounds.map((r) => r.foreignCpuPercent),
  m.nproc!,
  remeasured(disturbed),
)}

Seeding (not measured), ms: ${Object.entries(seeding)
    .map(([k, v]) => `${k}: ${int(v)}`)
    .join('; ')}. Per-window figures are in \`writes.json\`; the chart is \`writes.svg\`.
`;
  const bars = (phase: Phase): Bar[] =>
    results.filter((r) => r.phase === phase).map((r) => ({ label: r.label.replace(/ (uploads|toggle \+ list)$/, ''), value: r.writesPerCpuSecond }));
  const chart = {
    title: 'certgate writes: cost against organization size',
    subtitle: `${m.nproc} cores, ${m.cpu}, ${m.date}, commit ${commit}; ${settings.clients} clients`,
    panels: [
      { title: 'toggle + list pairs per CPU-second (certgate + database)', bars: bars('toggle') },
      { title: 'upload/delete writes per CPU-second (certgate + database)', bars: bars('uploads') },
      {
        title: `rate at size ${large} / rate at size ${small}`,
        bars: settings.engines.flatMap((e) => [
          { label: `${e} toggle + list`, value: ratios[e]?.['toggle rate'] ?? NaN },
          { label: `${e} uploads`, value: ratios[e]?.['uploads rate'] ?? NaN },
        ]),
        target: { value: 1 / 1.3, label: 'target ≥ 0.77' },
      },
    ],
  };
  writeResults(RESULTS, 'writes', { benchmark: 'writes', machine: m, commit, settings, seedingMs: seeding, ratios, disturbed, results, rounds }, md, chart);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
