// HTTP/1.1 over a raw TLS socket, for what a well-behaved client library will not send: absolute-form targets,
// dot-segments as written, header names with underscores, Expect without a body. And an upstream that records
// each request's raw header list, in order and with every duplicate, as the bytes arrived.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import type { Issued } from './pki.js';

export interface RawResponse {
  readonly status: number;
  /** header names lowercased; repeated ones joined with ', ' */
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Every response in `text` (1xx interim ones included), in order; bodies by Content-Length or to the end. */
export function parseResponses(text: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = text;
  while (rest.length > 0) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd === -1) throw new Error(`an incomplete response head: ${JSON.stringify(rest.slice(0, 200))}`);
    const [statusLine, ...lines] = rest.slice(0, headEnd).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    rest = rest.slice(headEnd + 4);
    let body = '';
    if (status >= 200) {
      const length = headers['content-length'] === undefined ? rest.length : Number(headers['content-length']);
      body = rest.slice(0, length);
      rest = rest.slice(length);
    }
    out.push({ status, headers, body });
  }
  return out;
}

export interface RawConnection {
  readonly socket: TLSSocket;
  write(data: string | Buffer): void;
  /** everything received so far (latin1) */
  received(): string;
  /** resolves with everything received once it matches, or rejects after `timeoutMs` */
  until(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** resolves with everything received once the server closes the connection */
  ended(timeoutMs?: number): Promise<string>;
  close(): void;
}

/** A TLS connection to a gateway (servername localhost), with the client's certificate and chain when given. */
export async function rawTls(gateway: { url: string; ca: string }, client?: Issued, chain: Issued[] = []): Promise<RawConnection> {
  const { hostname, port } = new URL(gateway.url);
  const socket = connect({
    host: hostname,
    port: Number(port),
    servername: 'localhost',
    ca: gateway.ca,
    ...(client ? { cert: [client.pem, ...chain.map((c) => c.pem)].join(''), key: client.keyPem } : {}),
  });
  await once(socket, 'secureConnect');
  let text = '';
  let closed = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    wake();
  });
  socket.on('close', () => {
    closed = true;
    wake();
  });
  socket.on('error', () => undefined);
  const wait = (done: () => boolean, what: string, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        if (!done()) return false;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(text);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${what} within ${timeoutMs} ms; received: ${JSON.stringify(text.slice(0, 500))}`));
      }, timeoutMs);
      if (!check()) waiters.add(check);
    });
  return {
    socket,
    write: (data) => socket.write(data),
    received: () => text,
    until: (pattern, timeoutMs = 5000) => wait(() => pattern.test(text), `no ${pattern}`, timeoutMs),
    ended: (timeoutMs = 5000) => wait(() => closed, 'the connection was not closed', timeoutMs),
    close: () => socket.destroy(),
  };
}

/** One request written as given (the head's lines, CRLF added) on a new connection closed by the server after it; the final response. */
export async function rawRequest(gateway: { url: string; ca: string }, head: string[], options: { client?: Issued; body?: string } = {}): Promise<RawResponse> {
  const connection = await rawTls(gateway, options.client);
  try {
    connection.write(`${[...head, 'Connection: close'].join('\r\n')}\r\n\r\n${options.body ?? ''}`);
    const responses = parseResponses(await connection.ended());
    return responses[responses.length - 1]!;
  } finally {
    connection.close();
  }
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  /** Node's raw list: [name, value, …] as received */
  readonly rawHeaders: string[];
  readonly body: Buffer;
}

/** An upstream that records every request (raw headers, target, body) and answers 200 with a small JSON body. */
export async function startRecordingUpstream(): Promise<{ url: string; seen: RecordedRequest[]; close(): Promise<void> }> {
  const seen: RecordedRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    seen.push({ method: req.method!, url: req.url!, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) });
    const body = JSON.stringify({ ok: true, url: req.url });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Every value of a header (any case) in a raw list, in order. */
export function rawValues(raw: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
}
