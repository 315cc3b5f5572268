import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { selfSignedLocalhost } from '../../src/gateway/self-signed.js';
import { call, type CallResult } from './gateway.js';
import type { Issued } from './pki.js';
import { tempDir } from './server.js';

// The shipped ingress configurations (docs/ingress/*) run as they are: the file is read, its {{PLACEHOLDERS}} filled
// in with ports and paths only, and the ingress started from it as a child process of the test (never a daemon,
// never the package's system service), everything it writes in a temp dir.

export type IngressKind = 'nginx' | 'haproxy' | 'caddy';

/** The repository's root, from dist/test/support/ (where this file runs) or test/support/. */
const ROOT = new URL('../../../', import.meta.url).pathname;
export const CONFIG_FILES: Record<IngressKind, string> = { nginx: 'docs/ingress/nginx.conf', haproxy: 'docs/ingress/haproxy.cfg', caddy: 'docs/ingress/Caddyfile' };

/** The text of a shipped configuration file. */
export function shippedConfig(kind: IngressKind): string {
  const path = join(ROOT, CONFIG_FILES[kind]);
  assert.ok(existsSync(path), `${path} is missing`);
  return readFileSync(path, 'utf8');
}

/** The placeholders the file uses, and those its header comment documents (`#   {{NAME}}`). */
export function placeholders(text: string): { used: Set<string>; documented: Set<string> } {
  const used = new Set([...text.matchAll(/\{\{([A-Z_]+)\}\}/g)].map((m) => m[1]!));
  const header = text.split('\n').filter((l) => l.startsWith('#')).join('\n');
  const documented = new Set([...header.matchAll(/^#\s+(?:\{\{[A-Z_]+\}\}\s*)*\{\{([A-Z_]+)\}\}/gm)].flatMap((m) => [...m[0].matchAll(/\{\{([A-Z_]+)\}\}/g)].map((n) => n[1]!)));
  return { used, documented };
}

/** The file with every placeholder replaced; a placeholder without a value fails the test. */
export function fillIn(text: string, values: Record<string, string>): string {
  const { used } = placeholders(text);
  const missing = [...used].filter((name) => values[name] === undefined);
  assert.deepEqual(missing, [], `no value for the placeholders ${missing.join(', ')}`);
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_, name: string) => values[name]!);
}

/** The binary's path: on PATH, or where Debian puts it (root's PATH has /usr/sbin, others' may not). */
export function binary(name: IngressKind): string {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin']) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  assert.fail(`${name} is not installed: scripts/test-setup.mjs installs Debian's package (npm test runs it), or apt-get install -y ${name}`);
}

/** A TCP port nobody listens on now (the OS's pick), for a configuration that must name its port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface IngressProcess {
  readonly kind: IngressKind;
  /** https://127.0.0.1:PORT; requests send SNI and Host `localhost` (Caddy requires them to match) */
  readonly url: string;
  readonly port: number;
  /** the ingress's TLS certificate, for clients to trust */
  readonly ca: string;
  /** the configuration as run */
  readonly config: string;
  readonly dir: string;
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export interface IngressValues {
  /** where certgate listens: host:port */
  certgate: string;
  /** the upstream's URL (for forward-auth ingresses) */
  upstreamUrl?: string;
  secret: string;
  /** PEM of the CAs HAProxy names in its certificate request */
  clientCas?: string;
}

/** Debian's nginx drops to www-data when started as root: its temp and cache directories must be that user's. */
function forWorkers(path: string): void {
  if (process.getuid?.() !== 0) return;
  const id = spawnSync('id', ['-u', 'www-data'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'www-data'], { encoding: 'utf8' });
  if (id.status === 0) chownSync(path, Number(id.stdout.trim()), Number(gid.stdout.trim()));
}

/** Starts an ingress from its shipped configuration and resolves once it completes TLS handshakes. */
export async function startIngress(kind: IngressKind, values: IngressValues): Promise<IngressProcess> {
  const dir = tempDir(`certgate-${kind}-`);
  const tls = await selfSignedLocalhost();
  const port = await freePort();
  const cert = join(dir.path, 'server.crt');
  const key = join(dir.path, 'server.key');
  writeFileSync(cert, tls.cert);
  writeFileSync(key, tls.key, { mode: 0o600 });
  const common = { SERVER_CERT: cert, SERVER_KEY: key, INGRESS_SECRET: values.secret, UPSTREAM_URL: values.upstreamUrl ?? 'http://127.0.0.1:9' };
  let fileName: string;
  let args: string[];
  let env: NodeJS.ProcessEnv = process.env;
  let filled: Record<string, string>;
  if (kind === 'nginx') {
    const run = join(dir.path, 'run');
    const cache = join(dir.path, 'cache');
    mkdirSync(run, { mode: 0o700 });
    mkdirSync(cache, { mode: 0o700 });
    forWorkers(run);
    forWorkers(cache);
    forWorkers(dir.path);
    filled = { ...common, LISTEN: `127.0.0.1:${port}`, CERTGATE_DECIDE: values.certgate, RUN_DIR: run, CACHE_DIR: cache };
    fileName = 'nginx.conf';
    args = ['-c', join(dir.path, fileName), '-e', 'stderr', '-g', 'daemon off;'];
  } else if (kind === 'haproxy') {
    const pem = join(dir.path, 'server.pem');
    writeFileSync(pem, `${tls.cert.trim()}\n${tls.key.trim()}\n`, { mode: 0o600 });
    const cas = join(dir.path, 'client-cas.pem');
    writeFileSync(cas, values.clientCas ?? tls.cert);
    filled = { ...common, LISTEN: `127.0.0.1:${port}`, SERVER_PEM: pem, CLIENT_CA_FILE: cas, CERTGATE_GATEWAY: values.certgate };
    fileName = 'haproxy.cfg';
    args = ['-f', join(dir.path, fileName), '-db'];
  } else {
    filled = { ...common, SITE: `https://localhost:${port}`, DATA_DIR: join(dir.path, 'data'), CERTGATE_DECIDE: values.certgate };
    fileName = 'Caddyfile';
    args = ['run', '--config', join(dir.path, fileName), '--adapter', 'caddyfile'];
    // Caddy's autosave and storage defaults live under these: keep them in the temp dir
    env = { ...process.env, HOME: dir.path, XDG_CONFIG_HOME: dir.path, XDG_DATA_HOME: dir.path };
  }
  const config = fillIn(shippedConfig(kind), filled);
  writeFileSync(join(dir.path, fileName), config, { mode: 0o600 });
  forWorkers(join(dir.path, fileName));

  const child = spawn(binary(kind), args, { cwd: dir.path, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ingress: IngressProcess = {
    kind,
    url: `https://127.0.0.1:${port}`,
    port,
    ca: tls.cert,
    config,
    dir: dir.path,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      dir.remove();
    },
  };
  const deadline = Date.now() + 15_000;
  while (!(await handshakes(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await ingress.stop();
      assert.fail(`${kind} did not answer on port ${port} (exit ${child.exitCode}):\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return ingress;
}

function handshakes(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** One request through the ingress on a fresh TLS connection, as a client of the API makes it. */
export function through(
  ingress: IngressProcess,
  options: { key?: string; client?: Pick<Issued, 'pem' | 'keyPem'>; chain?: Pick<Issued, 'pem'>[]; path?: string; method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<CallResult> {
  return call(ingress, { ...options, headers: { host: `localhost:${ingress.port}`, ...options.headers } });
}
