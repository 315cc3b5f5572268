// Connection hygiene and parser-level errors on both servers, over raw sockets: what the HTTP parser refuses is
// answered in OpenAI's envelope; idle, slow-header and slow-body connections are closed within the configured
// limits; at the connection cap, idle connections make room, so /healthz and a working client are still answered.
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { startGateway, type RunningGateway } from '../../src/commands/gateway.js';
import { startServer, type RunningServer } from '../../src/commands/serve.js';
import { gatewayConfig, serveConfig } from '../../src/config.js';
import { selfSignedLocalhost } from '../../src/gateway/self-signed.js';
import { startUpstream } from '../support/gateway.js';
import { ADMIN_KEY, tempDir } from '../support/server.js';

const LIMITS = ['--headers-timeout', '0.6', '--request-timeout', '1', '--idle-timeout', '0.6', '--handshake-timeout', '0.6', '--max-connections', '40'];

interface Target {
  readonly name: string;
  readonly port: number;
  /** a raw connection, TLS for the gateway */
  open(): Promise<Socket>;
}

/** A socket once connected; refused (closed or failed first) within 2 s otherwise. */
function opened(socket: Socket, event: 'connect' | 'secureConnect'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const fail = () => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error('connection refused or closed before it was established'));
    };
    const timer = setTimeout(fail, 2000);
    socket.once('error', fail);
    socket.once('close', fail);
    socket.once(event, () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.off('close', fail);
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

/** One request on a kept-alive socket; the response text, or a rejection when the socket closes first or 1 s passes. */
function ask(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (d: Buffer) => {
      text += d.toString();
      if (/\r\n\r\n[\s\S]*\}$/.test(text)) done();
    };
    const onClose = () => done(new Error('closed'));
    const timer = setTimeout(() => done(new Error('no answer within 1 s')), 1000);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  });
}

/** Sends raw bytes, returns everything the server wrote until it closed (or the wait ran out). */
function exchange(target: Target, bytes: string, waitMs = 3000): Promise<{ text: string; closedAfterMs: number }> {
  return target.open().then(
    (socket) =>
      new Promise((resolve) => {
        const start = performance.now();
        let text = '';
        const timer = setTimeout(() => {
          socket.destroy();
          resolve({ text, closedAfterMs: Infinity });
        }, waitMs);
        socket.on('data', (d) => (text += d.toString()));
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearTimeout(timer);
          resolve({ text, closedAfterMs: performance.now() - start });
        });
        if (bytes) socket.write(bytes);
      }),
  );
}

function envelopeOf(text: string): { status: number; code: string } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  return { status, code: body.error.code };
}

describe('connections and parser errors', () => {
  let server: RunningServer;
  let gateway: RunningGateway;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  const dir = tempDir();
  const targets: Target[] = [];

  before(async () => {
    server = await startServer(serveConfig(['--port', '0', '--data-dir', dir.path, '--admin-key', ADMIN_KEY, ...LIMITS], {}), { logger: false, announce: () => undefined });
    upstream = await startUpstream();
    const tls = await selfSignedLocalhost();
    gateway = await startGateway(gatewayConfig(['--port', '0', '--data-dir', dir.path, '--upstream-url', upstream.url, ...LIMITS], {}), { quiet: true, tls });
    const port = (url: string) => Number(new URL(url).port);
    targets.push(
      {
        name: 'admin API',
        port: port(server.url),
        open: () => opened(netConnect(port(server.url), '127.0.0.1'), 'connect'),
      },
      {
        name: 'gateway',
        port: port(gateway.url),
        open: () => opened(tlsConnect({ port: port(gateway.url), host: '127.0.0.1', ca: tls.cert, servername: 'localhost' }), 'secureConnect'),
      },
    );
  });
  after(async () => {
    await gateway.close();
    await server.close();
    await upstream.close();
    dir.remove();
  });

  const malformed: [string, string, number, string][] = [
    ['two Content-Length headers', 'POST /v1/organization/certificates HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', 400, 'bad_request'],
    ['a bare LF inside a header line', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\nb\r\n\r\n', 400, 'bad_request'],
    ['a 20 KB header', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large'],
    ['not HTTP at all', '\u0000\u0001\u0002 nonsense\r\n\r\n', 400, 'bad_request'],
  ];
  for (const [label, bytes, status, code] of malformed) {
    it(`answers ${label} in the envelope, on both servers`, async () => {
      for (const target of targets) {
        const { text } = await exchange(target, bytes);
        assert.deepEqual(envelopeOf(text), { status, code }, `${target.name}: ${text.slice(0, 120)}`);
      }
    });
  }

  it('answers an undecodable path and an over-long path parameter in the envelope (admin API)', async () => {
    const [admin] = targets;
    const auth = `Authorization: Bearer ${ADMIN_KEY}\r\n`;
    const bad = await exchange(admin!, `GET /v1/organization/certificates/%ff%fe HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`);
    assert.deepEqual(envelopeOf(bad.text), { status: 400, code: 'bad_request' });
    const long = await exchange(admin!, `GET /v1/organization/certificates/${'c'.repeat(1100)} HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`);
    assert.deepEqual(envelopeOf(long.text), { status: 414, code: 'uri_too_long' });
    const longish = await exchange(admin!, `GET /v1/organization/certificates/${'c'.repeat(500)} HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`);
    assert.deepEqual(envelopeOf(longish.text), { status: 404, code: 'certificate_not_found' });
  });

  it('closes a connection that sends nothing within the headers timeout', async () => {
    for (const target of targets) {
      const { closedAfterMs } = await exchange(target, '');
      assert.ok(closedAfterMs < 2000, `${target.name}: still open after ${closedAfterMs} ms`);
    }
  });

  it('answers 408 in the envelope to headers or a body that trickle in too slowly', async () => {
    for (const target of targets) {
      for (const [what, first] of [
        ['slow headers', 'GET /healthz HTTP/1.1\r\nHost: x\r\n'],
        ['slow body', `POST /v1/organization/certificates HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`],
      ]) {
        const socket = await target.open();
        const done = new Promise<{ text: string; ms: number }>((resolve) => {
          const start = performance.now();
          let text = '';
          socket.on('data', (d) => (text += d.toString()));
          socket.on('error', () => undefined);
          socket.on('close', () => resolve({ text, ms: performance.now() - start }));
        });
        socket.write(first!);
        const drip = setInterval(() => socket.writable && socket.write(what === 'slow body' ? ' ' : 'X-Drip: 1\r\n'), 200);
        const { text, ms } = await done;
        clearInterval(drip);
        assert.ok(ms < 2500, `${target.name} ${what}: closed after ${ms} ms`);
        if (target.name === 'gateway' && what === 'slow body') {
          // the gateway refuses the admin key at once (401) and then drops the request that never finishes
          assert.match(text, /^HTTP\/1\.1 401/);
        } else {
          assert.deepEqual(envelopeOf(text), { status: 408, code: 'request_timeout' }, `${target.name} ${what}`);
        }
      }
    }
  });

  it('closes a kept-alive connection after the idle timeout', async () => {
    for (const target of targets) {
      const { text, closedAfterMs } = await exchange(target, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(text, /^HTTP\/1\.1 200/);
      assert.ok(closedAfterMs < 2000, `${target.name}: kept open ${closedAfterMs} ms`);
    }
  });

  it('drops a TLS client that never finishes its handshake (gateway)', async () => {
    const plain = await new Promise<Socket>((resolve) => {
      const s = netConnect(targets[1]!.port, '127.0.0.1', () => resolve(s));
    });
    const closed = await new Promise<number>((resolve) => {
      const start = performance.now();
      plain.on('error', () => undefined);
      plain.on('close', () => resolve(performance.now() - start));
      plain.write('\u0016\u0003\u0001'); // the first bytes of a ClientHello, and no more
    });
    assert.ok(closed < 2000, `open for ${closed} ms`);
  });

  it('keeps answering /healthz and a working client while 120 idle connections sit at a cap of 40', async () => {
    for (const target of targets) {
      const working = await target.open();
      assert.match(await ask(working), /^HTTP\/1\.1 200/);
      const flood: Socket[] = [];
      let answered = 0;
      let failures = 0;
      let flooding = true;
      // the working client keeps asking, one request at a time, all through the flood
      const client = (async () => {
        while (flooding) {
          await ask(working).then(
            () => answered++,
            () => failures++,
          );
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      try {
        for (let i = 0; i < 120; i++) {
          const s = await target.open().catch(() => undefined);
          if (s) flood.push(s);
        }
        const started = performance.now();
        const fresh = await exchange(target, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 1000);
        assert.match(fresh.text, /^HTTP\/1\.1 200/, `${target.name}: /healthz on a new connection`);
        assert.ok(performance.now() - started < 1000);
      } finally {
        flooding = false;
        await client;
        for (const s of flood) s.destroy();
        working.destroy();
      }
      assert.equal(failures, 0, `${target.name}: the working client went unanswered ${failures} time(s)`);
      assert.ok(answered > 0);
    }
  });
});
