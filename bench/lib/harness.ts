// Process plumbing shared by the benchmarks: child processes that are always
// stopped (by pid), CPU accounting from /proc, free ports, readiness probes,
// the load generator as a child process, and the machine's description.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { LoadResult, LoadSpec } from './loadgen.js';

export const LOADGEN = join(dirname(fileURLToPath(import.meta.url)), 'loadgen.js');
/** the repository root, from dist/bench/lib */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * certgate's --workers for the benchmarks (BENCH_WORKERS): 1 by default, one process as before, so that a proxy pinned
 * to one core is compared with one nginx worker; CPU is always counted over the primary and all its workers.
 */
export const WORKERS = Math.max(1, Math.floor(Number(process.env.BENCH_WORKERS ?? '1')) || 1);

export function log(text: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

/** CPU placement: with 2+ cores, the server under test gets core 0 and everything else the other cores. */
export interface Placement {
  readonly pinned: boolean;
  readonly serverCpus: string;
  readonly clientCpus: string;
}

/**
 * A private temporary directory (it holds private keys), removed when this process exits however it exits short
 * of SIGKILL, and listed in $BENCH_PIDFILE so that run.sh's trap removes it even then.
 */
export function privateTempDir(prefix: string): string {
  const dir = mkdtempSync(join(os.tmpdir(), prefix));
  chmodSync(dir, 0o700);
  if (process.env.BENCH_PIDFILE) appendFileSync(process.env.BENCH_PIDFILE, `dir ${dir}\n`);
  process.once('exit', () => {
    if (process.env.BENCH_KEEP_TMP === '1') log(`kept ${dir} (it holds private keys: delete it when done)`);
    else rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

export function placement(): Placement {
  const cores = os.availableParallelism();
  const hasTaskset = (() => {
    try {
      execFileSync('taskset', ['-V'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  const pinned = process.env.BENCH_PIN !== '0' && cores >= 2 && hasTaskset;
  return { pinned, serverCpus: pinned ? '0' : `0-${cores - 1}`, clientCpus: pinned ? `1-${cores - 1}` : `0-${cores - 1}` };
}

/** Child processes, stopped by pid on exit; their pids also go to $BENCH_PIDFILE for run.sh's trap. */
export class Processes {
  private readonly children = new Set<ChildProcess>();
  /** children stopped on purpose, whose exit is no news */
  private readonly stopped = new WeakSet<ChildProcess>();
  private stopping = false;

  /** true once stopAll() has begun (an interrupt): later failures are its consequence, not news */
  get isStopping(): boolean {
    return this.stopping;
  }

  constructor() {
    const stopAndExit = (signal: NodeJS.Signals) => {
      log(`${signal}: stopping`);
      void this.stopAll().finally(() => process.exit(130));
    };
    process.once('SIGINT', stopAndExit);
    process.once('SIGTERM', stopAndExit);
    process.once('exit', () => {
      for (const child of this.children) if (child.exitCode === null && child.pid) tryKill(child.pid, 'SIGKILL');
    });
  }

  /** Spawns a command, pinned to `cpus` with taskset when given. Output goes to logFile. */
  start(name: string, command: string, args: readonly string[], options: { cpus?: string | undefined; logFile: string; stdin?: 'pipe' | 'ignore'; env?: NodeJS.ProcessEnv }): ChildProcess {
    const fd = openSync(options.logFile, 'a');
    const [cmd, argv] = options.cpus ? ['taskset', ['-c', options.cpus, command, ...args]] : [command, [...args]];
    const spawnOptions: SpawnOptions = { stdio: [options.stdin ?? 'ignore', fd, fd], env: options.env ?? process.env };
    const child = spawn(cmd, argv, spawnOptions);
    this.track(name, child);
    return child;
  }

  track(name: string, child: ChildProcess): void {
    this.children.add(child);
    // pid and start time, so that run.sh's trap never signals a recycled pid
    if (child.pid && process.env.BENCH_PIDFILE) appendFileSync(process.env.BENCH_PIDFILE, `${child.pid} ${startTime(child.pid)}\n`);
    child.once('exit', (code, signal) => {
      this.children.delete(child);
      if (!this.stopping && !this.stopped.has(child) && !name.startsWith('load generator')) log(`${name} (pid ${child.pid}) exited (${signal ?? `code ${code}`})`);
    });
  }

  /** every live child and its own children (nginx workers), and this process */
  pids(): number[] {
    const out = [process.pid];
    for (const child of this.children) if (child.pid && child.exitCode === null && child.signalCode === null) out.push(...withChildren(child.pid));
    return out;
  }

  async stop(child: ChildProcess, graceMs = 3000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    this.stopped.add(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    tryKill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => child.pid && tryKill(child.pid, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.children].map((child) => this.stop(child)));
  }
}

function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '?';
  } catch {
    return '?';
  }
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Reply {
  /** TLS protocol and cipher, for TLS connections */
  readonly tls?: string;
  readonly status: number;
  readonly headers: string;
  readonly body: string;
}

/** One GET on a fresh connection; rejects on connection errors and handshake refusals. */
export function get(options: {
  port: number;
  path: string;
  headers?: Record<string, string>;
  tls?: { ca: string | Buffer; cert?: string | Buffer; key?: string | Buffer } | undefined;
  timeoutMs?: number;
}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = options.tls
      ? tls.connect({ host: '127.0.0.1', port: options.port, servername: 'localhost', ...options.tls })
      : net.connect({ host: '127.0.0.1', port: options.port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error('timed out')), options.timeoutMs ?? 2000);
    let secure: string | undefined;
    socket.once(options.tls ? 'secureConnect' : 'connect', () => {
      if (socket instanceof tls.TLSSocket) secure = `${socket.getProtocol()} ${socket.getCipher()?.name}`;
      const head = Object.entries({ host: 'localhost', connection: 'close', ...options.headers })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.write(`GET ${options.path} HTTP/1.1\r\n${head}\r\n`);
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('end', () => socket.end());
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error(`no HTTP response (${text.length} bytes)`));
      const headers = text.slice(0, split);
      let body = text.slice(split + 4);
      if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(headers)) body = dechunk(body);
      resolve({ status: Number(headers.slice(9, 12)), headers, body, ...(secure ? { tls: secure } : {}) });
    });
  });
}

function dechunk(text: string): string {
  let out = '';
  let pos = 0;
  for (;;) {
    const end = text.indexOf('\r\n', pos);
    if (end < 0) return out;
    const size = parseInt(text.slice(pos, end), 16);
    if (!size) return out;
    out += text.slice(end + 2, end + 2 + size);
    pos = end + 2 + size + 2;
  }
}

/** Polls until check() resolves true, or throws after the bound. */
export async function waitFor(what: string, boundMs: number, check: () => Promise<boolean>): Promise<void> {
  const start = Date.now();
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() - start > boundMs) throw new Error(`${what} not ready within ${boundMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(50);
  }
}

// ---- CPU accounting ------------------------------------------------------------------------

const TICK_MS = (() => {
  try {
    return 1000 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
  } catch {
    return 10;
  }
})();

/** user+system CPU milliseconds of one process (all its threads), or 0 once it is gone */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** the pids of a process and its children (nginx: master and workers) */
export function withChildren(pid: number): number[] {
  const out = [pid];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}

export function cpuMs(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
}

/** busy fraction per core, from /proc/stat */
function coreTimes(): { busy: number; total: number }[] {
  const out: { busy: number; total: number }[] = [];
  for (const line of readFileSync('/proc/stat', 'latin1').split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const v = m[2]!.trim().split(/\s+/).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    out[Number(m[1])] = { busy: total - idle, total };
  }
  return out;
}

/** busy percentage (sum over cores, 100 = one core) over `ms` */
export async function machineBusyPercent(ms = 1000): Promise<number> {
  const start = coreTimes();
  await sleep(ms);
  const end = coreTimes();
  return end.reduce((sum, c, i) => {
    const s = start[i]!;
    const total = c.total - s.total;
    return sum + (total > 0 ? ((c.busy - s.busy) / total) * 100 : 0);
  }, 0);
}

/** Waits (at most maxWaitMs) until other processes leave the machine nearly idle; says how busy it still was. */
export async function waitForQuiet(maxWaitMs: number, limitPercent = 20): Promise<number> {
  const start = Date.now();
  let told = false;
  for (;;) {
    const busy = await machineBusyPercent(1000);
    if (busy <= limitPercent) return busy;
    if (Date.now() - start > maxWaitMs) {
      log(`the machine is still busy (${busy.toFixed(0)}% of a core used by other processes); measuring anyway`);
      return busy;
    }
    if (!told) log(`other processes are using ${busy.toFixed(0)}% of a core; waiting up to ${maxWaitMs / 1000} s for quiet`);
    told = true;
  }
}

/** CPU used over a window of the benchmark's own choosing (not a load generator's). */
export interface CpuWindow {
  readonly elapsedMs: number;
  /** CPU-seconds used by each watched group over the window */
  readonly cpuSeconds: Readonly<Record<string, number>>;
  /** the same, as a percentage of one core */
  readonly cpuPercent: Readonly<Record<string, number>>;
  readonly coreBusyPercent: readonly number[];
  /** CPU used by processes that are not the benchmark's (% of one core) */
  readonly foreignCpuPercent: number;
}

/**
 * Starts a CPU window now over the watched pid groups (and every process the benchmark runs, to tell others'
 * load apart); the function it returns closes the window and gives the figures.
 */
export function cpuWindow(watch: Record<string, () => readonly number[]>, procs: Processes): () => CpuWindow {
  const groups = Object.entries(watch);
  const startAt = performance.now();
  const startCores = coreTimes();
  const startCpu = groups.map(([, pids]) => cpuMs(pids()));
  // the watched groups count as the benchmark's own too (a database server's backends serving it, say)
  const ourPids = [...new Set([...procs.pids(), ...groups.flatMap(([, pids]) => pids())])];
  const startOurs = cpuMs(ourPids);
  return () => {
    const elapsedMs = performance.now() - startAt;
    const endCpu = groups.map(([, pids]) => cpuMs(pids()));
    const ours = cpuMs(ourPids) - startOurs;
    const endCores = coreTimes();
    const coreBusyPercent = endCores.map((c, i) => {
      const s = startCores[i]!;
      const total = c.total - s.total;
      return total > 0 ? Math.round(((c.busy - s.busy) / total) * 1000) / 10 : 0;
    });
    const busy = coreBusyPercent.reduce((a, b) => a + b, 0);
    return {
      elapsedMs: Math.round(elapsedMs),
      cpuSeconds: Object.fromEntries(groups.map(([name], i) => [name, Math.round(endCpu[i]! - startCpu[i]!) / 1000])),
      cpuPercent: Object.fromEntries(groups.map(([name], i) => [name, Math.round(((endCpu[i]! - startCpu[i]!) / elapsedMs) * 1000) / 10])),
      coreBusyPercent,
      foreignCpuPercent: Math.max(0, Math.round((busy - (ours / elapsedMs) * 100) * 10) / 10),
    };
  };
}

/** Pins this process (all its threads) to the given cores, when pinning is on. */
export function pinSelf(place: Placement): void {
  if (!place.pinned) return;
  try {
    execFileSync('taskset', ['-a', '-cp', place.clientCpus, String(process.pid)], { stdio: 'ignore' });
  } catch {
    /* not pinned: the figures say so through the placement */
  }
}

/** Nearest-rank percentiles of a list of numbers (milliseconds or anything else). */
export function percentiles(values: readonly number[]): { n: number; p50: number; p90: number; p99: number; max: number; min: number; mean: number } {
  const sorted = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { n, p50: NaN, p90: NaN, p99: NaN, max: NaN, min: NaN, mean: NaN };
  const at = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n, p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), max: r(sorted[n - 1]!), min: r(sorted[0]!), mean: r(sorted.reduce((a, b) => a + b, 0) / n) };
}

// ---- running the load generator -------------------------------------------------------------

export interface Measured extends LoadResult {
  /** CPU used during the window by each watched group, as a percentage of one core */
  readonly cpuPercent: Readonly<Record<string, number>>;
  /** busy percentage of each core during the window */
  readonly coreBusyPercent: readonly number[];
  /** 2xx responses per CPU-second of the watched group named "server" (its efficiency) */
  readonly rpsPerServerCore: number | null;
  /** CPU used during the window by processes that are not the benchmark's (% of one core): others' load disturbs the figures */
  readonly foreignCpuPercent: number;
}

/**
 * Runs the load generator as its own process (pinned to `cpus`), sampling the CPU
 * time of the watched pid groups exactly over the measured window.
 */
export async function measure(
  spec: LoadSpec,
  options: { cpus?: string | undefined; watch: Record<string, () => readonly number[]>; procs: Processes },
): Promise<Measured> {
  const [cmd, argv] = options.cpus
    ? ['taskset', ['-c', options.cpus, process.execPath, LOADGEN, JSON.stringify(spec)]]
    : [process.execPath, [LOADGEN, JSON.stringify(spec)]];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  options.procs.track(`load generator (${spec.label})`, child);
  const groups = Object.entries(options.watch);
  let startCpu: number[] = [];
  let startOurs = 0;
  let ourPids: number[] = [];
  let foreignCpuPercent = 0;
  let startCores: { busy: number; total: number }[] = [];
  let startAt = 0;
  let cpuPercent: Record<string, number> = {};
  let coreBusyPercent: number[] = [];
  let result: LoadResult | undefined;
  const bound = spec.warmupMs + spec.durationMs + 15_000;
  const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), bound);
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const message = JSON.parse(line) as { event: string; result?: LoadResult };
    if (message.event === 'window-start') {
      startAt = performance.now();
      startCores = coreTimes();
      startCpu = groups.map(([, pids]) => cpuMs(pids()));
      // include the generator itself
      startCpu.push(cpuMs([child.pid!]));
      ourPids = options.procs.pids();
      startOurs = cpuMs(ourPids);
    } else if (message.event === 'window-end') {
      const elapsed = performance.now() - startAt;
      const endCpu = groups.map(([, pids]) => cpuMs(pids()));
      endCpu.push(cpuMs([child.pid!]));
      const names = [...groups.map(([name]) => name), 'loadgen'];
      cpuPercent = Object.fromEntries(names.map((name, i) => [name, Math.round(((endCpu[i]! - startCpu[i]!) / elapsed) * 1000) / 10]));
      const ours = cpuMs(ourPids) - startOurs;
      const endCores = coreTimes();
      coreBusyPercent = endCores.map((c, i) => {
        const s = startCores[i]!;
        const total = c.total - s.total;
        return total > 0 ? Math.round(((c.busy - s.busy) / total) * 1000) / 10 : 0;
      });
      const busy = coreBusyPercent.reduce((a, b) => a + b, 0);
      foreignCpuPercent = Math.max(0, Math.round((busy - (ours / elapsed) * 100) * 10) / 10);
    } else if (message.event === 'result') {
      result = message.result;
    }
  }
  clearTimeout(timer);
  if (!result) throw new Error(`load generator for ${spec.label} gave no result`);
  const serverCpu = cpuPercent.server;
  return {
    ...result,
    cpuPercent,
    coreBusyPercent,
    rpsPerServerCore: serverCpu ? Math.round(result.rps / (serverCpu / 100)) : null,
    foreignCpuPercent,
  };
}

export interface SteadyMeasured extends Measured {
  readonly attempts: number;
  /** why the kept window is still considered disturbed, or null */
  readonly disturbed: string | null;
}

/**
 * measure(), repeated (at most `attempts` times) while the window was disturbed: a request failed,
 * a watched process went away, or processes outside the benchmark used more than `foreignLimit`
 * percent of a core (a shared machine). The last attempt is kept either way, marked.
 */
export async function measureSteady(
  spec: LoadSpec,
  options: Parameters<typeof measure>[1] & { alive: () => boolean; attempts?: number; foreignLimit?: number },
): Promise<SteadyMeasured> {
  const attempts = options.attempts ?? 2;
  for (let attempt = 1; ; attempt++) {
    const m = await measure(spec, options);
    let disturbed: string | null = null;
    if (!options.alive()) throw new Error(`a process under test stopped during ${spec.label}`);
    if (m.errors > 0) disturbed = `${m.errors} failed requests (${m.errorSamples.join('; ')})`;
    else if (m.foreignCpuPercent > (options.foreignLimit ?? 25)) disturbed = `other processes used ${m.foreignCpuPercent}% of a core`;
    if (!disturbed || attempt >= attempts) return { ...m, attempts: attempt, disturbed };
    log(`  ${spec.label}: disturbed (${disturbed}); measuring again`);
    await sleep(2000);
  }
}

// ---- describing the machine -------------------------------------------------------------------

export function machine(): Record<string, string | number> {
  const cpus = os.cpus();
  let nginx = 'not installed';
  try {
    nginx = execFileSync('nginx', ['-v'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    if (stderr) nginx = stderr;
  }
  try {
    // `nginx -v` prints to stderr, which execFileSync returns only on failure
    const out = execFileSync('sh', ['-c', 'nginx -V 2>&1'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    nginx = /nginx version: (\S+)/.exec(out)?.[1] ?? nginx;
    const ssl = /running with (OpenSSL [^\s]+)/.exec(out)?.[1] ?? /built with (OpenSSL [^\s]+)/.exec(out)?.[1];
    if (ssl) nginx += ` (${ssl})`;
  } catch {
    /* not installed */
  }
  return {
    nproc: os.availableParallelism(),
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    os: existsSync('/etc/debian_version') ? `Debian ${readFileSync('/etc/debian_version', 'utf8').trim()}` : os.platform(),
    node: `${process.version} (OpenSSL ${process.versions.openssl})`,
    nginx,
    date: new Date().toISOString(),
  };
}

// ---- small formatting helpers -----------------------------------------------------------------

export const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : NaN);
export const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
export const ms = (us: number) => (Number.isFinite(us) ? (us / 1000).toFixed(3) : 'n/a');

export function median(values: readonly number[]): number {
  const sorted = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
