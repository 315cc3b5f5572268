import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selfSignedLocalhost } from '../../src/gateway/self-signed.js';
import { ADMIN_KEY } from './server.js';

/** The command operators run: the bundle (scripts/bundle.mjs), which `certgate` and `npm start` run. */
export const CLI = new URL('../../bin/cli.js', import.meta.url).pathname;

export interface CertgateProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** everything the process has written to stdout and stderr so far */
  output(): string;
  /** SIGTERM, then wait for the exit code */
  stop(): Promise<number | null>;
  /** SIGKILL to the process and each of its workers at once (a crash of the whole service), then waits until all are gone */
  killAll(): Promise<void>;
}

/** The processes whose parent is `pid` (from /proc): a primary's workers. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Whether a process still runs (a zombie does not). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Runs `certgate <command>` as its own process, as an operator would: with the default worker count (one per
 * core, as `npm start` runs it) unless the test passes `--workers` or CERTGATE_WORKERS. Resolves once every
 * serving process has logged its start line (each worker's, or the single process's), so that whichever worker a
 * connection lands on is ready.
 */
export function spawnCertgate(command: 'serve' | 'gateway' | 'decide', args: string[], env: Record<string, string | undefined> = {}): Promise<CertgateProcess> {
  const child = spawn(process.execPath, [CLI, command, '--port', '0', ...args], {
    env: { ...process.env, CERTGATE_ADMIN_KEY: ADMIN_KEY, CERTGATE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let output = '';
    const started = new Map<number, { url: string; workers: number }>();
    const timer = setTimeout(() => fail(new Error(`certgate ${command} did not start within 15 s:\n${output}`)), 15_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const early = (code: number | null) => fail(new Error(`certgate ${command} exited with ${code}:\n${output}`));
    child.once('exit', early);
    let pending = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        // a start line: its url, the worker count, its pid (src/commands/start-line.ts)
        const start = /"url":"((?:https?:\/\/|unix:)[^"]+)".*"workers":(\d+),"worker":(?:\d+|null),"pid":(\d+)/.exec(line);
        if (start) started.set(Number(start[3]), { url: start[1]!, workers: Number(start[2]) });
      }
      const first = [...started.values()][0];
      if (!first || started.size < first.workers) return;
      clearTimeout(timer);
      child.off('exit', early);
      child.stdout!.off('data', onData);
      child.stdout!.on('data', (more: Buffer) => (output += more.toString()));
      resolve({
        url: first.url,
        child,
        output: () => output,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
        killAll: async () => {
          const pids = [child.pid!, ...childrenOf(child.pid!)];
          for (const pid of pids) process.kill(pid, 'SIGKILL');
          await exited;
          while (pids.some(running)) await new Promise((r) => setTimeout(r, 20));
        },
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  });
}

/** TLS files for a gateway process, written to a test's temp dir (never to the repository). */
export async function gatewayTlsFiles(dir: string): Promise<{ args: string[]; ca: string }> {
  const tls = await selfSignedLocalhost();
  writeFileSync(join(dir, 'gateway.crt'), tls.cert);
  writeFileSync(join(dir, 'gateway.key'), tls.key, { mode: 0o600 });
  return { args: ['--tls-cert', join(dir, 'gateway.crt'), '--tls-key', join(dir, 'gateway.key')], ca: tls.cert };
}

export function storeArgs(place: { dataDir: string; databaseUrl?: string }): string[] {
  return place.databaseUrl ? ['--database-url', place.databaseUrl] : ['--data-dir', place.dataDir];
}

/**
 * SIGTERM to a gateway while the upstream's event stream (startUpstream's /v1/stream) is open on `res`: the
 * process must stay up until the upstream is released, deliver the rest of the stream, then exit 0.
 */
export async function assertStreamOutlivesSigterm(gateway: CertgateProcess, res: { statusCode: number; body: AsyncIterable<unknown> }, releaseUpstream: () => void): Promise<void> {
  assert.equal(res.statusCode, 200);
  const reader = res.body[Symbol.asyncIterator]();
  assert.match(Buffer.from((await reader.next()).value as Uint8Array).toString(), /"n":1/);
  const exited = gateway.stop(); // SIGTERM while the response is still open
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(gateway.child.exitCode, null, 'still running while a response is in flight');
  releaseUpstream();
  let rest = '';
  for (let next = await reader.next(); !next.done; next = await reader.next()) rest += Buffer.from(next.value as Uint8Array).toString();
  assert.match(rest, /"n":2[\s\S]*\[DONE\]/, 'the in-flight response completed');
  assert.equal(await exited, 0);
}
