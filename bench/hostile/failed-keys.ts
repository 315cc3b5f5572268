// bench/hostile/failed-keys: the flood of wrong admin keys issue 17 describes, at its size: 2,000 wrong keys a
// second from one address (127.0.0.1) for a few seconds against `certgate serve`, while a legitimate client on
// another address (127.0.0.2) sends its right key every 20 ms. Reports the share of the flood answered 429, the
// legitimate client's statuses and latencies, and the log lines the flood caused. Writes
// bench/results/failed-keys.{json,md}. Knobs: BENCH_RATE (2000), BENCH_SECONDS (5), CERTGATE_WORKERS (1).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/bin/cli.js');
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WORKERS = process.env.CERTGATE_WORKERS ?? '1';
const ADMIN_KEY = 'sk-admin-failed-keys-bench-0123456789abcdef';
const PATH = '/v1/organization/certificates';

function get(url: string, key: string, agent: Agent): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request(url + PATH, { headers: { authorization: `Bearer ${key}` }, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, ms: performance.now() - t0 }));
    });
    req.on('error', () => resolve({ status: 0, ms: performance.now() - t0 }));
    req.end();
  });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'certgate-failed-keys-'));
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dir], {
    env: { ...process.env, CERTGATE_ADMIN_KEY: ADMIN_KEY, CERTGATE_LOG_LEVEL: 'info', CERTGATE_WORKERS: WORKERS },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  try {
    for (let i = 0; i < 150 && !/Server listening at http/.test(log); i++) await new Promise((r) => setTimeout(r, 100));
    const url = /Server listening at (http:\/\/[^"\s]+)/.exec(log)?.[1];
    if (!url) throw new Error(`certgate serve did not start:\n${log}`);
    const attacker = new Agent({ keepAlive: true, maxSockets: 64, localAddress: '127.0.0.1' });
    const legitimate = new Agent({ keepAlive: true, maxSockets: 1, localAddress: '127.0.0.2' });
    const baseline: number[] = [];
    for (let i = 0; i < 50; i++) baseline.push((await get(url, ADMIN_KEY, legitimate)).ms);

    // the legitimate client runs in a process of its own, so the flood's sender does not delay its clock
    const legitChild = spawn(process.execPath, [new URL(import.meta.url).pathname, 'legitimate', url, String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let legitOut = '';
    legitChild.stdout.on('data', (d: Buffer) => (legitOut += d.toString()));
    const legitExit = new Promise((r) => legitChild.once('exit', r));
    const flood: Promise<{ status: number; ms: number }>[] = [];
    const started = performance.now();
    const end = started + SECONDS * 1000;
    let sent = 0;
    while (performance.now() < end) {
      const due = Math.floor(((performance.now() - started) / 1000) * RATE);
      for (; sent < due; sent++) flood.push(get(url, `sk-admin-wrong-${sent}-0123456789abcdefghijklmnop`, attacker));
      await new Promise((r) => setTimeout(r, 5));
    }
    const floodDone = await Promise.all(flood);
    await legitExit;
    const legitDone = JSON.parse(legitOut) as { status: number; ms: number }[];
    const elapsed = (performance.now() - started) / 1000;
    const count = (rows: { status: number }[]) => rows.reduce<Record<string, number>>((acc, r) => ((acc[r.status] = (acc[r.status] ?? 0) + 1), acc), {});
    const legitMs = legitDone.map((r) => r.ms).sort((a, b) => a - b);
    const baseMs = baseline.sort((a, b) => a - b);
    const throttleLines = log.split('\n').filter((l) => l.includes('too many wrong admin keys')).length;
    const result = {
      rate: RATE,
      seconds: SECONDS,
      workers: Number(WORKERS),
      flood: { sent: floodDone.length, achievedPerSecond: Math.round(floodDone.length / elapsed), statuses: count(floodDone), share429: count(floodDone)['429'] ?? 0 },
      legitimate: { sent: legitDone.length, statuses: count(legitDone), p50ms: pct(legitMs, 50), p99ms: pct(legitMs, 99), maxMs: legitMs.at(-1), baselineP50ms: pct(baseMs, 50), baselineP99ms: pct(baseMs, 99) },
      log: { throttleLines, keysInLog: log.includes('sk-admin-wrong-') || log.includes(ADMIN_KEY) },
    };
    result.flood.share429 = result.flood.share429 / Math.max(1, result.flood.sent);
    attacker.destroy();
    legitimate.destroy();
    const md = [
      '# Failed admin keys: a flood from one address',
      '',
      `\`bench/hostile/failed-keys.sh\`: ${result.flood.sent} wrong keys in ${SECONDS} s from 127.0.0.1 (${result.flood.achievedPerSecond}/s achieved of ${RATE}/s asked), certgate serve with ${WORKERS} worker(s); a legitimate client on 127.0.0.2 sends its right key every 20 ms.`,
      '',
      '| | |',
      '|---|---|',
      `| flood statuses | ${JSON.stringify(result.flood.statuses)} |`,
      `| flood answered 429 | ${(result.flood.share429 * 100).toFixed(2)}% |`,
      `| legitimate client statuses | ${JSON.stringify(result.legitimate.statuses)} |`,
      `| legitimate latency p50 / p99 / max, during the flood | ${result.legitimate.p50ms.toFixed(1)} / ${result.legitimate.p99ms.toFixed(1)} / ${result.legitimate.maxMs?.toFixed(1)} ms |`,
      `| legitimate latency p50 / p99, before the flood | ${result.legitimate.baselineP50ms.toFixed(1)} / ${result.legitimate.baselineP99ms.toFixed(1)} ms |`,
      `| throttle log lines | ${throttleLines} (one per burst) |`,
      `| a key in the log | ${result.log.keysInLog ? 'YES' : 'no'} |`,
      '',
    ].join('\n');
    writeFileSync(join(ROOT, 'bench/results/failed-keys.json'), JSON.stringify(result, null, 2) + '\n');
    writeFileSync(join(ROOT, 'bench/results/failed-keys.md'), md);
    process.stdout.write(md);
    if (result.legitimate.statuses['200'] !== result.legitimate.sent || result.log.keysInLog) process.exitCode = 1;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The legitimate client: its right key every 20 ms from 127.0.0.2 for the flood's duration; prints what it got. */
async function legitimateClient(url: string, seconds: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress: '127.0.0.2' });
  const done: Promise<{ status: number; ms: number }>[] = [];
  const timer = setInterval(() => done.push(get(url, ADMIN_KEY, agent)), 20);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(timer);
  process.stdout.write(JSON.stringify(await Promise.all(done)));
  agent.destroy();
}

if (process.argv[2] === 'legitimate') await legitimateClient(process.argv[3]!, Number(process.argv[4]));
else await main();
