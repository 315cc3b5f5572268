import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Agent, request } from 'undici';
import { startGateway } from '../../src/commands/gateway.js';
import { gatewayConfig } from '../../src/config.js';
import { selfSignedLocalhost } from '../../src/gateway/self-signed.js';
import type { Runtime } from '../../src/runtime.js';
import type { Store } from '../../src/store/store.js';
import type { Issued } from './pki.js';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real OpenAI-compatible-enough upstream: echoes what it got, and streams server-sent events. */
export async function startUpstream(): Promise<{ url: string; seen: Seen[]; release: () => void; close(): Promise<void> }> {
  const seen: Seen[] = [];
  let gate: () => void = () => undefined;
  let opened = new Promise<void>((resolve) => (gate = resolve));
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const record = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() };
    seen.push(record);
    if (req.url?.startsWith('/v1/stream')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-upstream-custom': 'kept' });
      res.write('data: {"n":1}\n\n');
      await opened; // the second event waits until the test has seen the first
      opened = new Promise<void>((resolve) => (gate = resolve));
      res.write('data: {"n":2}\n\n');
      res.end('data: [DONE]\n\n');
      return;
    }
    if (req.url?.startsWith('/v1/models')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'test-model', object: 'model', created: 0, owned_by: 'certgate-test' }] }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
    res.end(JSON.stringify({ echo: record }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    release: () => gate(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TestGateway {
  readonly url: string;
  readonly ca: string;
  readonly store: Store;
  readonly rt: Runtime;
  /** the metrics listener's URL, when --metrics-port was given */
  readonly metricsUrl?: string | undefined;
  /** the gateway's TLS server, to watch its handshakes */
  readonly server: import('node:https').Server;
  close(): Promise<void>;
}

/** A gateway on its own store connection to the same data, as a separate process would have, started as the gateway command starts one. */
export async function startTestGateway(
  place: { dataDir: string; databaseUrl?: string },
  upstreamUrl: string,
  upstreamApiKey?: string,
  extraArgs: string[] = [],
): Promise<TestGateway> {
  const tls = await selfSignedLocalhost();
  const args = ['--port', '0', '--upstream-url', upstreamUrl, ...(upstreamApiKey ? ['--upstream-api-key', upstreamApiKey] : []), ...extraArgs];
  args.push(...(place.databaseUrl ? ['--database-url', place.databaseUrl] : ['--data-dir', place.dataDir]));
  const running = await startGateway(gatewayConfig(args, {}), { quiet: true, tls });
  return { url: running.url, ca: tls.cert, store: running.rt.store, rt: running.rt, metricsUrl: running.metricsUrl, server: running.gateway.server as import('node:https').Server, close: () => running.close() };
}

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** One request through the gateway on a fresh TLS connection, with or without a client certificate. */
export async function call(
  gateway: { url: string; ca: string },
  options: { key?: string; client?: Pick<Issued, 'pem' | 'keyPem'>; chain?: Pick<Issued, 'pem'>[]; tls?: Pick<ConnectionOptions, 'ciphers' | 'maxVersion'>; path?: string; method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<CallResult> {
  const agent = new Agent({
    connect: {
      ca: gateway.ca,
      servername: 'localhost',
      ...options.tls,
      ...(options.client ? { cert: [options.client.pem, ...(options.chain ?? []).map((c) => c.pem)].join(''), key: options.client.keyPem } : {}),
    },
  });
  try {
    const res = await request(gateway.url + (options.path ?? '/v1/echo'), {
      method: (options.method ?? 'GET') as 'GET',
      headers: { ...(options.key ? { authorization: `Bearer ${options.key}` } : {}), ...options.headers },
      body: options.body ?? null,
      dispatcher: agent,
    });
    const text = await res.body.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.statusCode, headers: res.headers, body };
  } finally {
    await agent.close();
  }
}

export interface Scene {
  readonly admin: import('./server.js').TestServer;
  readonly gateway: TestGateway;
  readonly upstream: Awaited<ReturnType<typeof startUpstream>>;
  readonly project: string;
  /** a project key of `project` */
  readonly key: string;
  /** uploads a CA and activates it for the project; resolves once the gateway enforces it */
  enforce(caPem: string): Promise<string>;
  close(): Promise<void>;
}

/** An admin server, an upstream and a gateway on its own store connection, over one store, with a project and its key. */
export async function startScene(place: { dataDir: string; databaseUrl?: string; drop?: () => Promise<void> }, name = 'scene', gatewayArgs: string[] = []): Promise<Scene> {
  const { startTestServer } = await import('./server.js');
  const { within } = await import('./wait.js');
  const admin = await startTestServer(place);
  const upstream = await startUpstream();
  const gateway = await startTestGateway(place, upstream.url, undefined, gatewayArgs);
  const org = admin.sdk.admin.organization;
  const project = (await org.projects.create({ name })).id;
  const key = (await org.projects.serviceAccounts.create(project, { name: `${name} svc` })).api_key!.value;
  return {
    admin,
    gateway,
    upstream,
    project,
    key,
    async enforce(caPem) {
      const id = (await org.certificates.create({ certificate: caPem })).id;
      await org.projects.certificates.activate(project, { certificate_ids: [id] });
      await within(1000, async () => (await call(gateway, { key })).status === 403);
      return id;
    },
    async close() {
      await gateway.close().catch(() => undefined);
      await upstream.close();
      await admin.close().catch(() => undefined);
      await place.drop?.();
    },
  };
}
