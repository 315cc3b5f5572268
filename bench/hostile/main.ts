// bench/hostile: the connection flood the hostile-input issue describes, against both servers at once, each run
// under `prlimit --nofile=2048` with its default connection limits: 2,200 idle connections, 100 slow-body and 100
// slow-header requests per server. Measured meanwhile, every 200 ms: /healthz on a new connection and a request
// on an established keep-alive connection, per server. Afterwards: how many flood connections each server still
// holds open once its timeouts have passed. Writes bench/results/hostile.{json,md}.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { selfSignedLocalhost } from '../../src/gateway/self-signed.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/bin/cli.js');
const IDLE = Number(process.env.BENCH_IDLE ?? 2200);
const SLOW = Number(process.env.BENCH_SLOW ?? 100);
const NOFILE = Number(process.env.BENCH_NOFILE ?? 2048);
const ADMIN_KEY = 'sk-admin-hostile-bench-0123456789abcdef';

function start(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn('prlimit', [`--nofile=${NOFILE}`, process.execPath, CLI, ...args, '--port', '0', '--log-level', 'info'], {
    env: { ...process.env, CERTGATE_ADMIN_KEY: ADMIN_KEY, CERTGATE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`did not start: ${out}`)), 15000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(https:\/\/[^"]+)"|Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] ?? m[2]! });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
}

interface Target {
  name: string;
  open(): Promise<Socket>;
}

function settle(socket: Socket, event: string, ms = 5000): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, ms);
    socket.once(event, () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

/** One GET /healthz; its latency in ms, or Infinity when not answered within 2 s. */
function healthz(socket: Socket, close: boolean): Promise<number> {
  return new Promise((resolve) => {
    const start = performance.now();
    let text = '';
    const done = (ms: number) => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(ms);
    };
    const onData = (d: Buffer) => {
      text += d.toString();
      if (/\r\n\r\n[\s\S]*\}/.test(text)) done(performance.now() - start);
    };
    const timer = setTimeout(() => done(Infinity), 2000);
    socket.on('data', onData);
    socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n${close ? 'Connection: close\r\n' : ''}\r\n`);
  });
}

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'certgate-hostile-'));
  const tls = await selfSignedLocalhost();
  writeFileSync(join(dir, 'tls.crt'), tls.cert);
  writeFileSync(join(dir, 'tls.key'), tls.key, { mode: 0o600 });
  const serve = await start(['serve', '--data-dir', join(dir, 'data')]);
  const gateway = await start(['gateway', '--data-dir', join(dir, 'data'), '--upstream-url', 'http://127.0.0.1:9', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key')]);
  const servePort = Number(new URL(serve.url).port);
  const gatewayPort = Number(new URL(gateway.url).port);
  const targets: Target[] = [
    { name: 'admin API', open: () => settle(netConnect(servePort, '127.0.0.1'), 'connect') as Promise<Socket> },
    {
      name: 'gateway',
      open: () => settle(tlsConnect({ port: gatewayPort, host: '127.0.0.1', ca: tls.cert, servername: 'localhost' }), 'secureConnect') as Promise<Socket>,
    },
  ];
  const results: Record<string, unknown> = {};
  try {
    for (const target of targets) {
      // an established client: connected, and served, before the flood begins
      const established = (await target.open())!;
      if ((await healthz(established, false)) === Infinity) throw new Error(`${target.name}: no answer before the flood`);
      const fresh: number[] = [];
      const kept: number[] = [];
      let probing = true;
      const probe = (async () => {
        while (probing) {
          const s = await target.open();
          fresh.push(s ? await healthz(s, true) : Infinity);
          s?.destroy();
          kept.push(await healthz(established, false));
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      const started = performance.now();
      const flood: Socket[] = [];
      const opening = Array.from({ length: IDLE }, async () => {
        const s = await target.open();
        if (!s) return;
        s.resume(); // read, so that a close by the server is seen
        flood.push(s);
      });
      const slow: Socket[] = [];
      for (let i = 0; i < SLOW; i++) {
        for (const first of [
          'GET /healthz HTTP/1.1\r\nHost: x\r\n',
          `POST /v1/organization/certificates HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`,
        ]) {
          const s = await target.open();
          if (!s) continue;
          s.resume();
          s.write(first);
          slow.push(s);
        }
      }
      const drip = setInterval(() => {
        for (const s of slow) if (s.writable) s.write(' ');
      }, 1000);
      await Promise.all(opening);
      const openedIdle = flood.length;
      // the default headers timeout is 10 s, the request timeout 30 s: wait past both
      await new Promise((r) => setTimeout(r, 35_000));
      clearInterval(drip);
      probing = false;
      await probe;
      const stillOpen = flood.filter((s) => !s.destroyed && s.readyState === 'open').length + slow.filter((s) => !s.destroyed && s.readyState === 'open').length;
      results[target.name] = {
        idleOpened: openedIdle,
        slowRequests: slow.length,
        floodStillOpenAfter35s: stillOpen,
        healthzNewConnection: { probes: fresh.length, p50Ms: percentile(fresh, 50), maxMs: Math.max(...fresh), unanswered: fresh.filter((x) => x === Infinity).length },
        establishedClient: { probes: kept.length, p50Ms: percentile(kept, 50), maxMs: Math.max(...kept), unanswered: kept.filter((x) => x === Infinity).length },
        seconds: (performance.now() - started) / 1000,
      };
      console.log(target.name, JSON.stringify(results[target.name]));
      for (const s of [...flood, ...slow, established]) s.destroy();
    }
  } finally {
    serve.child.kill('SIGTERM');
    gateway.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  const out = join(ROOT, 'bench/results');
  writeFileSync(join(out, 'hostile.json'), JSON.stringify({ date: new Date().toISOString(), nofile: NOFILE, idle: IDLE, slow: SLOW, results }, null, 2) + '\n');
  const rows = Object.entries(results).map(([name, r]: [string, any]) =>
    `| ${name} | ${r.idleOpened} | ${r.slowRequests} | ${r.healthzNewConnection.probes} | ${r.healthzNewConnection.p50Ms.toFixed(1)} | ${r.healthzNewConnection.maxMs.toFixed(1)} | ${r.healthzNewConnection.unanswered} | ${r.establishedClient.p50Ms.toFixed(1)} | ${r.establishedClient.maxMs.toFixed(1)} | ${r.establishedClient.unanswered} | ${r.floodStillOpenAfter35s} |`,
  );
  writeFileSync(
    join(out, 'hostile.md'),
    `# certgate under a connection flood\n\nMeasured by \`bench/hostile/run.sh\` on ${new Date().toISOString()}: each server under \`prlimit --nofile=${NOFILE}\` with its default limits (cap = 3/4 of the open-file limit, headers 10 s, request 30 s, idle 30 s, handshake 10 s); per server ${IDLE} idle connections (TLS-established on the gateway), ${SLOW} slow-header and ${SLOW} slow-body requests (a byte a second), while a probe asked /healthz on a new connection and on an established keep-alive connection every 200 ms for 35 s.\n\n| server | idle opened | slow requests | probes | /healthz new conn p50 ms | max ms | unanswered | established p50 ms | max ms | unanswered | flood connections still open after 35 s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n${rows.join('\n')}\n`,
  );
  console.log(`wrote ${join(out, 'hostile.md')}`);
}

await main();
process.exit(0);
