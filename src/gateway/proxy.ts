import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { Pool } from './upstream-pool.js';

// Headers that describe one hop, not the message: never forwarded either way (RFC 9110 §7.6.1).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The header names a Connection header lists: they are hop-by-hop too (none beyond the usual keep-alive or close). */
function namedBy(connection: string): Set<string> | undefined {
  if (connection === 'keep-alive' || connection === 'close' || connection === 'Keep-Alive' || connection === 'Close') return undefined;
  const named = new Set<string>();
  for (const token of connection.split(',')) named.add(token.trim().toLowerCase());
  return named;
}

/** The first value of a request header, from Node's raw list (the value Node itself reports for singular headers). */
export function firstRawHeader(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) return raw[i + 1];
  return undefined;
}

/**
 * The request's end-to-end headers as a flat [name, value, …] list straight
 * from Node's raw headers: hop-by-hop ones, those the Connection header names,
 * `drop` and every Authorization left out (the caller adds the one it decided).
 */
function requestHeaders(raw: readonly string[], drop: ReadonlySet<string>): string[] {
  let named: Set<string> | undefined;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === 'connection') named = namedBy(raw[i + 1]!);
    if (HOP_BY_HOP.has(name) || drop.has(name) || name === 'authorization') continue;
    out.push(name, raw[i + 1]!);
  }
  if (!named) return out;
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) if (!named.has(out[i]!)) kept.push(out[i]!, out[i + 1]!);
  return kept;
}

/** The upstream response's end-to-end headers, as the flat list `writeHead` takes, byte for byte (latin1 both ways). */
function responseHeaders(raw: readonly Buffer[], requestId: string): string[] {
  let named: Set<string> | undefined;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const lower = name.toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    if (lower === 'connection') named = namedBy(value);
    if (HOP_BY_HOP.has(lower) || lower === 'x-request-id') continue;
    out.push(name, value);
  }
  out.push('x-request-id', requestId);
  if (!named) return out;
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) if (!named.has(out[i]!.toLowerCase())) kept.push(out[i]!, out[i + 1]!);
  return kept;
}

export interface UpstreamOptions {
  readonly url: string;
  /** replaces the client's Authorization when set */
  readonly apiKey: string | undefined;
  readonly connections?: number;
  /** request headers that are the gateway's to set: any copy a client sends is removed */
  readonly owned?: readonly string[];
}

/** Told once per forwarded request: with no error once the response head is written, or with the error that kept it from being written. */
export type Forwarded = (err?: Error) => void;

/**
 * One request forwarded on undici's dispatcher: the upstream's raw head goes
 * to the client without building header objects, and the body is written
 * chunk by chunk (server-sent events pass through unbuffered). A small body
 * that arrives whole with its Content-Length is sent with the head in one
 * write. The client's connection going away aborts the upstream request.
 */
class Forwarding implements Dispatcher.DispatchHandler {
  private abortUpstream: ((err?: Error) => void) | null = null;
  private started = false;
  private finished = false;
  /** bytes of the body still expected by Content-Length (-1: unknown) */
  private remaining = -1;
  private resume: (() => void) | null = null;

  constructor(
    private readonly res: ServerResponse,
    private readonly requestId: string,
    private readonly done: Forwarded,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: the final head follows
    const headers = responseHeaders(rawHeaders, this.requestId);
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i]!.length === 14 && headers[i]!.toLowerCase() === 'content-length') this.remaining = Number(headers[i + 1]);
    }
    this.res.writeHead(statusCode, headers);
    this.started = true;
    this.done();
    this.resume = resume;
    if (this.remaining === 0) return this.end();
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.finished) return true;
    if (this.remaining > 0 && chunk.length === this.remaining) {
      // the whole rest of the body: one write with the head, if nothing was written yet
      this.remaining = 0;
      return this.end(chunk);
    }
    if (this.remaining > 0) this.remaining -= chunk.length;
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.resume!);
    return false;
  }

  onComplete(): void {
    this.end();
  }

  private end(chunk?: Buffer): boolean {
    if (!this.finished) {
      this.finished = true;
      this.res.end(chunk);
    }
    return true;
  }

  onError(err: Error): void {
    this.finished = true;
    if (!this.started) this.done(err);
    else this.res.destroy(err);
  }

  /** The client went away: stop the upstream request (a long completion stream included). */
  clientGone(): void {
    if (this.finished) return;
    this.finished = true;
    this.abortUpstream?.(new Error('the client closed the connection'));
  }
}

/** Forwards accepted requests to the upstream over a keep-alive pool, streaming both bodies. */
export class Upstream {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly drop: ReadonlySet<string>;
  private readonly authorization: string | undefined;
  /** the request being forwarded on each client connection (HTTP/1.1 answers one at a time) */
  private readonly current = new WeakMap<Socket, Forwarding>();

  constructor(options: UpstreamOptions) {
    this.drop = new Set(['host', ...(options.owned ?? []).map((n) => n.toLowerCase())]);
    const url = new URL(options.url);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.authorization = options.apiKey ? `Bearer ${options.apiKey}` : undefined;
    this.pool = new Pool(url.origin, { connections: options.connections ?? 256, keepAliveTimeout: 30_000 });
  }

  /**
   * Sends the request upstream with the gateway's own headers (`add`) and the
   * upstream key in place of the client's; `done` is told once the response
   * head has been written to the client, or why it could not be.
   */
  forward(req: IncomingMessage, res: ServerResponse, requestId: string, add: readonly string[] | undefined, done: Forwarded): void {
    const headers = requestHeaders(req.rawHeaders, this.drop);
    if (add) for (let i = 0; i < add.length; i++) headers.push(add[i]!);
    headers.push('x-request-id', requestId);
    const authorization = this.authorization ?? firstRawHeader(req.rawHeaders, 'authorization');
    if (authorization !== undefined) headers.push('authorization', authorization);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const forwarding = new Forwarding(res, requestId, done);
    const socket = req.socket;
    if (!this.current.has(socket)) socket.once('close', () => this.current.get(socket)?.clientGone());
    this.current.set(socket, forwarding);
    try {
      this.pool.dispatch({ method: req.method as Dispatcher.HttpMethod, path: this.basePath + (req.url ?? '/'), headers, body: hasBody ? req : null }, forwarding);
    } catch (err) {
      forwarding.onError(err as Error);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
