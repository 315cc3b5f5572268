// bench/startup: time from spawn to ready, and idle RSS 2 s after ready, for `certgate serve` (GET /healthz answers)
// and `certgate gateway` (TLS GET /healthz answers), against `node -e 0` (time to exit) and a bare node:http server
// (time to answer, and its idle RSS) as the references. The runs go round-robin, so other load falls on all alike.
// Then the settled idle RSS: the servers started together and left idle for 12 s, long enough for V8's memory
// reducer (it runs some 8 s after start-up's last full collection, when the process allocates little) to give back
// the young generation start-up grew.
import { type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { makeCa } from '../../test/support/pki.js';
import { type Bar } from '../lib/chart.js';
import { cpuMs, cpuWindow, withChildren, envNumber, freePort, get, log, machine, percentiles, privateTempDir, Processes, sleep, waitForQuiet } from '../lib/harness.js';
import { machineTable, measuredCommit, resultsDir, sharedMachineNote, writeResults } from '../lib/report.js';
import { seedDataDir } from '../lib/seed.js';
import { CLI, serverTls, startUpstream, UPSTREAM_KEY } from '../lib/servers.js';

const settings = {
  runs: envNumber('BENCH_RUNS', 15),
  idleMs: envNumber('BENCH_IDLE_S', 2) * 1000,
  probeEveryMs: envNumber('BENCH_PROBE_MS', 5),
  settledRuns: envNumber('BENCH_SETTLED_RUNS', 5),
  settledMs: envNumber('BENCH_SETTLED_S', 12) * 1000,
};
/** The target: 70 MB (decimal) per process, in MiB as VmRSS is read */
const RSS_TARGET_MIB = 70e6 / 2 ** 20;
const OFFICIAL = !process.env.BENCH_RUNS;
const RESULTS = resultsDir(OFFICIAL);
const CORES = os.availableParallelism();
type Target = 'node -e 0' | 'bare node:http' | 'certgate serve' | 'certgate gateway' | 'certgate gateway, default workers';
const TARGETS: Target[] = ['node -e 0', 'bare node:http', 'certgate serve', 'certgate gateway', 'certgate gateway, default workers'];

interface Run {
  readonly target: Target;
  readonly readyMs: number;
  /** CPU (user + system, all threads) the process used until ready: less moved by others' load than the time */
  readonly cpuToReadyMs: number | null;
  /** VmRSS, MiB, idle, settings.idleMs after ready, summed over the process and its workers (null for node -e 0, which has exited) */
  readonly rssMiB: number | null;
  /** the largest VmRSS of one of those processes */
  readonly rssLargestProcessMiB: number | null;
  readonly processes: number;
  readonly foreignCpuPercent: number;
}

/** Idle RSS once settled: every server started at once, read settings.settledMs after all were ready */
interface Settled {
  readonly target: Target;
  readonly rssMiB: number;
  readonly rssLargestProcessMiB: number;
  readonly processes: number;
}

const BARE = `const s=require('node:http').createServer((q,r)=>r.end('ok'));s.listen(+process.argv[1],'127.0.0.1')`;

function rssMiB(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
    return kb ? Math.round((Number(kb) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const described = machine();
  const procs = new Processes();
  const tmp = privateTempDir('certgate-bench-startup-');
  const runs: Run[] = [];
  const settled: Settled[] = [];
  try {
    const tls = await serverTls(tmp);
    const ca = await makeCa({ name: 'bench startup CA' });
    // a data directory in use already (migrated, a project, a key, an active CA): start-up, not first start
    const dataDir = join(tmp, 'data');
    const seeded = await seedDataDir(dataDir, [ca.pem], 1);
    const upstream = await startUpstream(procs, tmp, undefined);
    const argv = (target: Target, port: number): string[] => {
      switch (target) {
        case 'node -e 0':
          return ['-e', '0'];
        case 'bare node:http':
          return ['-e', BARE, String(port)];
        case 'certgate serve':
          return [CLI, 'serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', String(port), '--admin-key', seeded.adminKey, '--log-level', 'warn', '--workers', '1'];
        case 'certgate gateway':
        case 'certgate gateway, default workers':
          return [
            ...[CLI, 'gateway', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', String(port), '--upstream-url', `http://127.0.0.1:${upstream.port}`],
            ...['--upstream-api-key', UPSTREAM_KEY, '--tls-cert', tls.certFile, '--tls-key', tls.keyFile, '--log-level', 'warn'],
            ...(target === 'certgate gateway' ? ['--workers', '1'] : []),
          ];
      }
    };
    const ready = async (target: Target, port: number, child: ChildProcess): Promise<void> => {
      if (target === 'node -e 0') {
        if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
        return;
      }
      for (;;) {
        if (child.exitCode !== null) throw new Error(`${target} exited with ${child.exitCode} before it was ready`);
        try {
          const reply = await get({ port, path: '/healthz', ...(target.startsWith('certgate gateway') ? { tls: { ca: tls.cert } } : {}), timeoutMs: 1000 });
          if (reply.status === 200) return;
        } catch {
          /* not listening yet */
        }
        await sleep(settings.probeEveryMs);
      }
    };
    await waitForQuiet(envNumber('BENCH_QUIET_WAIT_S', 30) * 1000);
    for (let i = 0; i < settings.runs; i++) {
      for (const target of TARGETS) {
        const port = await freePort();
        const started = performance.now();
        const child = procs.start(target, process.execPath, argv(target, port), { logFile: join(tmp, 'startup.log') });
        await ready(target, port, child);
        const readyMs = performance.now() - started;
        const cpuToReadyMs = target === 'node -e 0' ? null : Math.round(cpuMs(withChildren(child.pid!)));
        // others' load, read while the process just started sits idle (our own processes count as ours)
        const end = cpuWindow({}, procs);
        let rss: number[] = [];
        await sleep(target === 'node -e 0' ? 300 : settings.idleMs);
        const window = end();
        if (target !== 'node -e 0') {
          rss = withChildren(child.pid!).flatMap((pid) => rssMiB(pid) ?? []);
          await procs.stop(child);
        }
        const total = rss.length ? Math.round(rss.reduce((a, b) => a + b, 0) * 10) / 10 : null;
        runs.push({ target, readyMs: Math.round(readyMs * 10) / 10, cpuToReadyMs, rssMiB: total, rssLargestProcessMiB: rss.length ? Math.max(...rss) : null, processes: rss.length, foreignCpuPercent: window.foreignCpuPercent });
      }
      log(`run ${i + 1}/${settings.runs}: ${runs.slice(-TARGETS.length).map((r) => `${r.target} ${r.readyMs} ms${r.rssMiB ? ` ${r.rssMiB} MiB in ${r.processes}` : ''}`).join(', ')}`);
    }
    const servers = TARGETS.filter((t) => t !== 'node -e 0');
    for (let i = 0; i < settings.settledRuns; i++) {
      const started = await Promise.all(
        servers.map(async (target) => {
          const port = await freePort();
          const child = procs.start(target, process.execPath, argv(target, port), { logFile: join(tmp, 'startup.log') });
          await ready(target, port, child);
          return { target, child };
        }),
      );
      await sleep(settings.settledMs);
      for (const { target, child } of started) {
        const rss = withChildren(child.pid!).flatMap((pid) => rssMiB(pid) ?? []);
        settled.push({ target, rssMiB: Math.round(rss.reduce((a, b) => a + b, 0) * 10) / 10, rssLargestProcessMiB: Math.max(...rss), processes: rss.length });
      }
      await Promise.all(started.map(({ child }) => procs.stop(child)));
      log(`settled ${i + 1}/${settings.settledRuns}: ${settled.slice(-servers.length).map((r) => `${r.target} ${r.rssMiB} MiB in ${r.processes}`).join(', ')}`);
    }
  } finally {
    await procs.stopAll();
  }
  report(runs, settled, described);
}

function report(runs: Run[], settled: Settled[], m: Record<string, string | number>): void {
  const commit = measuredCommit();
  const figures = Object.fromEntries(
    TARGETS.map((t) => {
      const mine = runs.filter((r) => r.target === t);
      return [
        t,
        {
          readyMs: percentiles(mine.map((r) => r.readyMs)),
          cpuToReadyMs: percentiles(mine.flatMap((r) => (r.cpuToReadyMs === null ? [] : [r.cpuToReadyMs]))),
          rssMiB: percentiles(mine.flatMap((r) => (r.rssMiB === null ? [] : [r.rssMiB]))),
          rssLargestProcessMiB: percentiles(mine.flatMap((r) => (r.rssLargestProcessMiB === null ? [] : [r.rssLargestProcessMiB]))),
          processes: mine[0]?.processes ?? 0,
        },
      ];
    }),
  ) as Record<Target, { readyMs: ReturnType<typeof percentiles>; cpuToReadyMs: ReturnType<typeof percentiles>; rssMiB: ReturnType<typeof percentiles>; rssLargestProcessMiB: ReturnType<typeof percentiles>; processes: number }>;
  const settledFigures = Object.fromEntries(
    TARGETS.map((t) => {
      const mine = settled.filter((r) => r.target === t);
      return [t, { rssMiB: percentiles(mine.map((r) => r.rssMiB)), rssLargestProcessMiB: percentiles(mine.map((r) => r.rssLargestProcessMiB)), processes: mine[0]?.processes ?? 0 }];
    }),
  ) as Record<Target, { rssMiB: ReturnType<typeof percentiles>; rssLargestProcessMiB: ReturnType<typeof percentiles>; processes: number }>;
  const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const settledRows = TARGETS.filter((t) => t !== 'node -e 0')
    .map((t) => {
      const x = settledFigures[t];
      return `| ${t} | ${x.rssMiB.n} | ${x.processes || ''} | ${f(x.rssMiB.p50, 1)} | ${f(x.rssLargestProcessMiB.p50, 1)} | ${f(x.rssLargestProcessMiB.max, 1)} | ${t.startsWith('certgate') ? (x.rssLargestProcessMiB.max < RSS_TARGET_MIB ? 'yes' : 'no') : ''} |`;
    })
    .join('\n');
  const rows = TARGETS.map((t) => {
    const x = figures[t];
    const certgate = t.startsWith('certgate');
    return `| ${t} | ${x.readyMs.n} | ${f(x.readyMs.p50)} | ${f(x.readyMs.p90)} | ${f(x.readyMs.max)} | ${f(x.cpuToReadyMs.p50)} | ${x.processes || ''} | ${f(x.rssMiB.p50, 1)} | ${f(x.rssLargestProcessMiB.p50, 1)} | ${certgate ? `${x.readyMs.p50 < 400 ? 'yes' : 'no'} / ${x.rssLargestProcessMiB.p50 < RSS_TARGET_MIB ? 'yes' : 'no'}` : ''} |`;
  }).join('\n');
  const disturbed = runs.filter((r) => r.foreignCpuPercent > 25).map((r) => `${r.target} (${r.foreignCpuPercent}%)`);
  const md = `# Start-up to ready, and idle memory

Measured by \`bench/startup/run.sh\` (command: \`bench/startup/run.sh\`, i.e. \`node dist/bench/startup/main.js\`). Regenerated on every run; a Findings section below is kept.

${machineTable(m, commit)}

Time from \`spawn()\` to ready, ${settings.runs} runs of each, round-robin, no CPU pinning: \`node -e 0\` until it exits; a bare
node:http server (\`node -e "…createServer…listen"\`) until it answers; \`node dist/bin/cli.js serve --log-level warn\` until
\`GET /healthz\` answers 200; \`node dist/bin/cli.js gateway --log-level warn\` until \`GET /healthz\` over TLS answers 200; serve and
gateway with \`--workers 1\` (one process), and the gateway once more with its default, one worker per core (${CORES} here: a primary and
${CORES} workers; ready when the first worker answers; RSS summed over all of them and the largest one given). Both
certgate commands start on a SQLite data directory in use already (migrated; a project, a key, one active CA). Readiness is
probed every ${settings.probeEveryMs} ms on a new connection. *CPU to ready* is the process's user + system time (all threads, from
\`/proc/<pid>/stat\`) when it became ready: on a loaded machine it moves much less than the wall time. RSS is \`VmRSS\` from \`/proc/<pid>/status\`, ${settings.idleMs / 1000} s after ready, idle.

| process | runs | ready p50 (ms) | p90 | max | CPU to ready p50 (ms) | processes | idle RSS p50, all processes (MiB) | largest process (MiB) | ready < 0.4 s / RSS < 70 MB (66.8 MiB) per process? |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---|
${rows}

**Settled idle RSS.** Right after start-up the young generation is still the size start-up grew it to (8 MiB of semi-space
where an idle process needs 1); V8's memory reducer gives it back some 8 s after start-up's last full collection once the
process allocates little. Here all servers were started together, ${settings.settledRuns} times, and their RSS read ${settings.settledMs / 1000} s after all were ready:

| process | runs | processes | settled RSS p50, all processes (MiB) | largest process p50 (MiB) | largest process, max (MiB) | every run < 70 MB (66.8 MiB) per process? |
|---|---:|---:|---:|---:|---:|---|
${settledRows}

${sharedMachineNote(
  runs.map((r) => r.foreignCpuPercent),
  m.nproc!,
  `Runs are not repeated; others' CPU is read over the idle seconds after each start. Runs during which others used over 25% of a core: ${disturbed.length ? `${disturbed.length} of ${runs.length}` : 'none'} (each run's figure is in startup.json).`,
)}

Every run is in \`startup.json\`; the chart is \`startup.svg\`.
`;
  const bars = (pick: (t: Target) => number, unit: string, only?: (t: Target) => boolean): Bar[] =>
    TARGETS.filter(only ?? (() => true)).map((t) => ({ label: t.replace(', default workers', `, ${CORES} workers`), value: pick(t), text: `${f(pick(t), unit === 'MiB' ? 1 : 0)} ${unit}`, baseline: !t.startsWith('certgate') }));
  writeResults(RESULTS, 'startup', { benchmark: 'startup', machine: m, commit, settings, figures, settledFigures, runs, settled }, md, {
    title: 'Start-up to ready and idle RSS (lower is better)',
    subtitle: `${m.nproc} cores, ${m.cpu}, ${m.date}, commit ${commit}; grey = references`,
    panels: [
      { title: 'time to ready, median (ms)', bars: bars((t) => figures[t].readyMs.p50, 'ms'), target: { value: 400, label: 'target < 400 ms' } },
      { title: 'CPU time to ready, median (ms)', bars: bars((t) => figures[t].cpuToReadyMs.p50, 'ms', (t) => t !== 'node -e 0') },
      { title: 'idle RSS, median, all processes (MiB)', bars: bars((t) => figures[t].rssMiB.p50, 'MiB', (t) => t !== 'node -e 0') },
      { title: 'idle RSS 2 s after ready, median, largest process (MiB)', bars: bars((t) => figures[t].rssLargestProcessMiB.p50, 'MiB', (t) => t !== 'node -e 0'), target: { value: RSS_TARGET_MIB, label: 'target < 70 MB' } },
      { title: `settled idle RSS (${settings.settledMs / 1000} s), median, largest process (MiB)`, bars: bars((t) => settledFigures[t].rssLargestProcessMiB.p50, 'MiB', (t) => t !== 'node -e 0'), target: { value: RSS_TARGET_MIB, label: 'target < 70 MB' } },
    ],
  });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
