import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Upstream } from '../../src/gateway/proxy.js';

// The forwarding half of the gateway on its own, over real sockets: what
// crosses the hop and what does not, byte for byte, both ways.

interface Received {
  rawHeaders: string[];
  bodyHash: string;
  bodyLength: number;
}

const BIG = randomBytes(3 * 1024 * 1024 + 17);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A raw HTTP/1.1 client request, so that duplicate and hop-by-hop headers reach the proxy as written. */
function send(url: string, path: string, method: string, headers: [string, string][], body?: Buffer): Promise<{ res: IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    // a raw list leaves Host to the caller; Node's server refuses a request without one
    const req = request(`${url}${path}`, { method, headers: [['Host', '127.0.0.1'], ...headers].flat(), agent: false });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('forwarding to the upstream', () => {
  const received: Received[] = [];
  let upstreamServer: Server;
  let proxyServer: Server;
  let keyedProxyServer: Server;
  let proxyUrl = '';
  let keyedProxyUrl = '';
  let closedUpstream: (() => void) | undefined;
  let upstreams: Upstream[] = [];

  before(async () => {
    upstreamServer = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      received.push({ rawHeaders: req.rawHeaders, bodyHash: sha(body), bodyLength: body.length });
      if (req.url === '/echo-big') {
        // chunked (no length), written in pieces
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let at = 0; at < BIG.length; at += 65_536) res.write(BIG.subarray(at, at + 65_536));
        res.end();
        return;
      }
      if (req.url === '/never-ends') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: first\n\n');
        res.on('close', () => closedUpstream?.());
        return;
      }
      res.setHeader('Connection', 'X-Internal-Hop');
      res.setHeader('X-Internal-Hop', 'secret');
      res.setHeader('Keep-Alive', 'timeout=5');
      res.setHeader('X-Request-Id', 'upstream-own-id');
      res.setHeader('X-Latin1', 'caf\u00e9');
      res.setHeader('Content-Type', 'application/json');
      // a Buffer body: Node then writes the head as latin1 (a string body would carry it as UTF-8)
      res.end(Buffer.from('{"ok":true}'));
    });
    const upstreamUrl = await listen(upstreamServer);
    const proxyWith = (apiKey: string | undefined) => {
      const upstream = new Upstream({ url: upstreamUrl, apiKey, owned: ['x-certgate-project-id', 'X-Mtls-Client-Id'] });
      upstreams.push(upstream);
      return createServer((req, res) =>
        upstream.forward(req, res, req.url!, 'req_test', ['x-certgate-project-id', 'proj_gateway'], (err) => {
          if (err) res.writeHead(502).end();
        }),
      );
    };
    proxyServer = proxyWith(undefined);
    keyedProxyServer = proxyWith('sk-upstream-key');
    proxyUrl = await listen(proxyServer);
    keyedProxyUrl = await listen(keyedProxyServer);
  });

  after(async () => {
    for (const s of [proxyServer, keyedProxyServer, upstreamServer]) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    await Promise.all(upstreams.map((u) => u.close()));
    upstreams = [];
  });

  const allValues = (raw: string[], name: string) => {
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
    return out;
  };

  it('drops hop-by-hop headers, those Connection names, and the gateway-owned ones; sends one Authorization', async () => {
    const headers: [string, string][] = [
      ['Connection', 'keep-alive, X-Secret-Hop'],
      ['X-Secret-Hop', 'hop value'],
      ['Keep-Alive', 'timeout=5'],
      ['TE', 'trailers'],
      ['Proxy-Authorization', 'Basic Zm9vOmJhcg=='],
      ['Authorization', 'Bearer first'],
      ['Authorization', 'Bearer second'],
      ['X-Certgate-Project-Id', 'proj_forged'],
      ['x-mtls-client-id', 'forged-client'],
      ['X-Custom', 'kept'],
    ];
    for (const [url, expected] of [
      [proxyUrl, 'Bearer first'],
      [keyedProxyUrl, 'Bearer sk-upstream-key'],
    ] as const) {
      received.length = 0;
      const { res, body } = await send(url, '/v1/models?x=1', 'GET', headers);
      assert.equal(res.statusCode, 200);
      assert.equal(body.toString(), '{"ok":true}');
      const raw = received[0]!.rawHeaders;
      for (const gone of ['x-secret-hop', 'keep-alive', 'te', 'proxy-authorization', 'x-mtls-client-id']) assert.deepEqual(allValues(raw, gone), [], gone);
      assert.deepEqual(allValues(raw, 'authorization'), [expected]);
      assert.deepEqual(allValues(raw, 'x-certgate-project-id'), ['proj_gateway']);
      assert.deepEqual(allValues(raw, 'x-request-id'), ['req_test']);
      assert.deepEqual(allValues(raw, 'x-custom'), ['kept']);
      // and on the way back: the upstream's hop-by-hop headers stay behind, its own request id is replaced, latin1 bytes pass unchanged
      assert.equal(res.headers['x-internal-hop'], undefined);
      assert.equal(res.headers['x-request-id'], 'req_test');
      assert.equal(Buffer.from(res.headers['x-latin1'] as string, 'latin1').toString('hex'), Buffer.from('caf\u00e9', 'latin1').toString('hex'));
    }
  });

  it('streams a large body both ways byte for byte, with and without a length', async () => {
    received.length = 0;
    const { res, body } = await send(proxyUrl, '/echo-big', 'POST', [['Content-Type', 'application/octet-stream'], ['Content-Length', String(BIG.length)]], BIG);
    assert.equal(res.statusCode, 200);
    assert.equal(received[0]!.bodyLength, BIG.length);
    assert.equal(received[0]!.bodyHash, sha(BIG));
    assert.equal(body.length, BIG.length);
    assert.equal(sha(body), sha(BIG));
    assert.equal(res.headers['transfer-encoding'], 'chunked'); // the client's hop, framed by the gateway
  });

  it('aborts the upstream request when the client goes away mid-stream', async () => {
    const upstreamClosed = new Promise<void>((resolve) => (closedUpstream = resolve));
    const req = request(`${proxyUrl}/never-ends`, { agent: false });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    const [first] = (await once(res, 'data')) as [Buffer];
    assert.equal(first.toString(), 'data: first\n\n');
    req.destroy();
    // a guard, not a timing: an upstream request left open would otherwise hang the suite
    let guard: NodeJS.Timeout | undefined;
    const leftOpen = new Promise<never>((_, reject) => (guard = setTimeout(() => reject(new Error('the upstream request was left open after the client went away')), 10_000)));
    await Promise.race([upstreamClosed, leftOpen]).finally(() => clearTimeout(guard));
  });

  it('answers with the error when the upstream cannot be reached', async () => {
    const dead = createServer();
    const deadUrl = await listen(dead);
    await new Promise((r) => dead.close(r));
    const upstream = new Upstream({ url: deadUrl, apiKey: undefined });
    upstreams.push(upstream);
    const server = createServer((req, res) => upstream.forward(req, res, req.url!, 'req_dead', undefined, (err) => res.writeHead(err ? 502 : 500).end(err ? 'unreachable' : '')));
    const url = await listen(server);
    const { res, body } = await send(url, '/v1/models', 'GET', []);
    assert.equal(res.statusCode, 502);
    assert.equal(body.toString(), 'unreachable');
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
});
