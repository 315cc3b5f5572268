// bench/hostile/handshakes: what a handshake costs the gateway, per kind, and what a flood of over-long chains does to
// a legitimate client. The gateway runs as its own process (one worker); its CPU is read from /proc.
//   1. handshakes per gateway CPU-second, each on a new connection (GET /healthz, Connection: close), from a client
//      whose leaf an intermediate issued: full handshakes (no session offered) against resumed sessions (TLS 1.3
//      tickets, the chain kept for them); "do not resume sessions that presented intermediates" would cost the full figure.
//   2. the gateway's CPU per handshake with a 101-certificate chain (the hostile one), budget off;
//   3. a legitimate client's new-connection latency (p50/p99, every 100 ms) while 22 such handshakes a second arrive
//      from another address (127.0.0.2), with --tls-rate-per-source 0 (before) and the default budget (after).
// Run: npm run build && node dist/bench/hostile/handshakes.js   (knob: BENCH_SECONDS, default 10)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tcpConnect } from 'node:net';
import { connect } from 'node:tls';
import { selfSignedLocalhost } from '../../src/gateway/self-signed.js';
import { makeCa, makeClient, type Issued } from '../../test/support/pki.js';
import { cpuMs, percentiles } from '../lib/harness.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/bin/cli.js');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

async function gateway(args: string[]): Promise<{ child: ChildProcess; port: number; ca: string; stop(): void; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'certgate-handshakes-'));
  const tls = await selfSignedLocalhost();
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'cert.pem'), tls.cert);
  writeFileSync(join(dir, 'key.pem'), tls.key, { mode: 0o600 });
  const child = spawn(process.execPath, [CLI, 'gateway', '--port', '0', '--workers', '1', '--data-dir', join(dir, 'data'), '--upstream-url', 'http://127.0.0.1:9', '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"url":"https:\/\/[^"]*:(\d+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  return { child, port, ca: tls.cert, dir, stop: () => (child.kill('SIGTERM'), rmSync(dir, { recursive: true, force: true })) };
}

function get(port: number, agent: Agent): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - started));
    });
    req.on('error', reject);
    req.end();
  });
}

async function perCpuSecond(port: number, pid: number, agent: Agent): Promise<{ handshakes: number; perCpuSecond: number }> {
  for (let i = 0; i < 200; i++) await get(port, agent); // warm up, and a session to resume
  const cpu0 = cpuMs([pid]);
  const until = performance.now() + SECONDS * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (performance.now() < until) {
        await get(port, agent);
        n++;
      }
    }),
  );
  const cpu = cpuMs([pid]) - cpu0;
  return { handshakes: n, perCpuSecond: Math.round((n / cpu) * 1000) };
}

function hostile(port: number, chain: Issued[], localAddress = '127.0.0.2'): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ socket: tcpConnect({ host: '127.0.0.1', port, localAddress }), rejectUnauthorized: false, servername: 'localhost', cert: chain.map((c) => c.pem).join(''), key: chain[0]!.keyPem });
    const done = () => (socket.destroy(), resolve());
    socket.once('secureConnect', () => setTimeout(done, 50));
    socket.once('error', done);
    socket.once('close', done);
  });
}

async function main(): Promise<void> {
  const root = await makeCa({ name: 'bench root' });
  const intermediate = await makeCa({ name: 'bench intermediate', issuer: root });
  const leaf = await makeClient(intermediate);
  const long: Issued[] = [await makeCa({ name: 'long root' })];
  for (let i = 0; i < 99; i++) long.push(await makeCa({ name: `long ${i}`, issuer: long[long.length - 1]! }));
  long.push(await makeClient(long[long.length - 1]!));
  long.reverse();
  const results: Record<string, unknown> = {};

  {
    const g = await gateway(['--tls-rate-per-source', '0']);
    const base = { ca: g.ca, servername: 'localhost', cert: leaf.pem + intermediate.pem, key: leaf.keyPem, keepAlive: false };
    results.full = await perCpuSecond(g.port, g.child.pid!, new Agent({ ...base, maxCachedSessions: 0 }));
    results.resumed = await perCpuSecond(g.port, g.child.pid!, new Agent({ ...base, maxCachedSessions: 100 }));
    const cpu0 = cpuMs([g.child.pid!]);
    for (let i = 0; i < 50; i++) await hostile(g.port, long, '127.0.0.1');
    results.hostileCpuMsPerHandshake = Math.round(((cpuMs([g.child.pid!]) - cpu0) / 50) * 10) / 10;
    g.stop();
  }

  for (const [name, args] of [
    ['before (no budget)', ['--tls-rate-per-source', '0']],
    ['after (default budget)', []],
  ] as const) {
    const g = await gateway([...args]);
    const agent = new Agent({ ca: g.ca, servername: 'localhost', keepAlive: false, maxCachedSessions: 0 });
    const quiet: number[] = [];
    for (let i = 0; i < 30; i++) quiet.push(await get(g.port, agent));
    let flooding = true;
    const flood = (async () => {
      while (flooding) {
        void hostile(g.port, long);
        await new Promise((r) => setTimeout(r, 1000 / 22));
      }
    })();
    const loaded: number[] = [];
    const until = performance.now() + SECONDS * 1000;
    while (performance.now() < until) {
      loaded.push(await get(g.port, agent));
      await new Promise((r) => setTimeout(r, 100));
    }
    flooding = false;
    await flood;
    const q = percentiles(quiet);
    const l = percentiles(loaded);
    results[name] = { quietP50ms: +q.p50.toFixed(1), underFloodP50ms: +l.p50.toFixed(1), underFloodP99ms: +l.p99.toFixed(1), samples: l.n };
    g.stop();
  }
  console.log(JSON.stringify(results, null, 2));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
