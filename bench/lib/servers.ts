// Starting the processes several benchmarks share: the bench upstream, `certgate serve` and `certgate gateway`
// (each as an operator runs it: `node dist/bin/cli.js …`), waiting until each answers.
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selfSignedLocalhost } from '../../src/gateway/self-signed.js';
import { freePort, get, ROOT, waitFor, withChildren, WORKERS, type Processes } from './harness.js';

export const CLI = join(ROOT, 'dist/bin/cli.js');
export const UPSTREAM_KEY = 'sk-upstream-bench';

export interface Running {
  readonly child: ChildProcess;
  readonly port: number;
  /** the process and its workers (node:cluster), for CPU accounting */
  pids(): number[];
}

/** The gateway's server certificate and key, written to the (private) temporary directory. */
export async function serverTls(tmp: string): Promise<{ certFile: string; keyFile: string; cert: string }> {
  const server = await selfSignedLocalhost();
  const certFile = join(tmp, 'server.pem');
  const keyFile = join(tmp, 'server.key');
  writeFileSync(certFile, server.cert);
  writeFileSync(keyFile, server.key, { mode: 0o600 });
  return { certFile, keyFile, cert: server.cert };
}

export async function startUpstream(procs: Processes, tmp: string, cpus: string | undefined): Promise<Running> {
  const port = await freePort();
  const child = procs.start('upstream', process.execPath, [join(ROOT, 'dist/bench/gateway/upstream.js'), String(port)], {
    cpus,
    logFile: join(tmp, 'upstream.log'),
    stdin: 'pipe',
  });
  await waitFor('upstream', 5000, async () => (await get({ port, path: '/' })).status === 200);
  return { child, port, pids: () => [child.pid!] };
}

export async function startServe(procs: Processes, o: { tmp: string; name: string; storeArgs: readonly string[]; adminKey: string; cpus: string | undefined }): Promise<Running> {
  const port = await freePort();
  const child = procs.start(
    o.name,
    process.execPath,
    [CLI, 'serve', ...o.storeArgs, '--host', '127.0.0.1', '--port', String(port), '--admin-key', o.adminKey, '--log-level', 'warn', '--workers', String(WORKERS)],
    { cpus: o.cpus, logFile: join(o.tmp, `${o.name.replace(/\W+/g, '-')}.log`) },
  );
  await waitFor(o.name, 15_000, async () => (await get({ port, path: '/healthz' })).status === 200);
  return { child, port, pids: () => withChildren(child.pid!) };
}

export async function startGateway(
  procs: Processes,
  o: { tmp: string; name: string; storeArgs: readonly string[]; upstreamPort: number; tls: { certFile: string; keyFile: string; cert: string }; cpus: string | undefined; extraArgs?: readonly string[] },
): Promise<Running> {
  const port = await freePort();
  const child = procs.start(
    o.name,
    process.execPath,
    [
      CLI,
      'gateway',
      ...o.storeArgs,
      '--upstream-url',
      `http://127.0.0.1:${o.upstreamPort}`,
      '--upstream-api-key',
      UPSTREAM_KEY,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--tls-cert',
      o.tls.certFile,
      '--tls-key',
      o.tls.keyFile,
      '--log-level',
      'warn',
      '--workers',
      String(WORKERS),
      ...(o.extraArgs ?? []),
    ],
    { cpus: o.cpus, logFile: join(o.tmp, `${o.name.replace(/\W+/g, '-')}.log`) },
  );
  await waitFor(o.name, 15_000, async () => (await get({ port, path: '/healthz', tls: { ca: o.tls.cert } })).status === 200);
  return { child, port, pids: () => withChildren(child.pid!) };
}
