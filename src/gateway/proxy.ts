import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlockList, Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { FORWARDING_HEADERS, hopFrom, peerAddress, type Hop } from './forwarded.js';
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

/** Request headers the gateway answers itself and never forwards: Expect (a 100 Continue is the gateway's to send). */
const ANSWERED_HERE = 'expect';

/** Names in the gateway's own namespace: whatever a client sends under it is dropped, whatever the gateway sets is its own. */
const OWN_PREFIX = 'x-certgate-';

/**
 * The request's end-to-end headers as a flat [name, value, …] list straight
 * from Node's raw headers, with everything that is the gateway's to say left
 * out: hop-by-hop ones and those the Connection header names, Expect, every
 * Authorization (the caller adds the one it decided), `drop`, anything under
 * x-certgate-, any name with an underscore (which CGI-style servers fold into
 * the same variable as its dashed twin), and the forwarding headers of an
 * untrusted peer. Then the hop's own X-Forwarded-For, Forwarded and
 * X-Forwarded-Proto, appended to a trusted peer's.
 */
function requestHeaders(raw: readonly string[], drop: ReadonlySet<string>, hop: Hop): string[] {
  let named: Set<string> | undefined;
  let out: string[] = [];
  let forwardedFor: string | undefined;
  let forwarded: string | undefined;
  let proto = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === 'connection') named = namedBy(raw[i + 1]!);
    if (HOP_BY_HOP.has(name) || drop.has(name) || name === 'authorization' || name === ANSWERED_HERE || name.includes('_') || name.startsWith(OWN_PREFIX)) continue;
    if (FORWARDING_HEADERS.has(name)) {
      if (!hop.trusted) continue;
      const value = raw[i + 1]!;
      if (name === 'x-forwarded-for') {
        forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
        continue;
      }
      if (name === 'forwarded') {
        forwarded = forwarded === undefined ? value : `${forwarded}, ${value}`;
        continue;
      }
      if (name === 'x-forwarded-proto') proto = true;
    }
    out.push(name, raw[i + 1]!);
  }
  if (named) {
    const kept: string[] = [];
    for (let i = 0; i < out.length; i += 2) if (!named.has(out[i]!)) kept.push(out[i]!, out[i + 1]!);
    out = kept;
  }
  // after the Connection header's names are removed: a client cannot have the gateway's own values dropped
  out.push('x-forwarded-for', forwardedFor === undefined ? hop.forwardedFor : `${forwardedFor}, ${hop.forwardedFor}`);
  out.push('forwarded', forwarded === undefined ? hop.forwarded : `${forwarded}, ${hop.forwarded}`);
  if (!proto) out.push('x-forwarded-proto', 'https');
  return out;
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
  /** peers whose X-Forwarded-For, Forwarded and X-Forwarded-* are passed on (appended to); nobody's when absent */
  readonly trustedProxies?: BlockList;
}

/** Headers that choose the upstream account's project or organization: the client's only while it sends its own key. */
const UPSTREAM_ACCOUNT_HEADERS = ['openai-project', 'openai-organization'];

/** The client's connection closed before the upstream's response head came: not the upstream's fault. */
class ClientGone extends Error {
  constructor() {
    super('the client closed the connection');
  }
}

/**
 * Why a request could not be forwarded, as a metrics label from a fixed list:
 * client_closed, connection_refused, connection_reset, timeout, dns, tls,
 * invalid_request (undici refused what the gateway built) or other.
 */
export function failureReason(err: Error): string {
  if (err instanceof ClientGone) return 'client_closed';
  const code = (err as NodeJS.ErrnoException).code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection_refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'connection_reset';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timeout';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'dns';
    case 'UND_ERR_INVALID_ARG':
    case 'UND_ERR_NOT_SUPPORTED':
      return 'invalid_request';
  }
  if (/CERT|^ERR_TLS|^ERR_SSL|SELF_SIGNED|UNABLE_TO/.test(code)) return 'tls';
  return 'other';
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
    this.abortUpstream?.(new ClientGone());
  }
}

/** Forwards accepted requests to the upstream over a keep-alive pool, streaming both bodies. */
export class Upstream {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly drop: ReadonlySet<string>;
  private readonly authorization: string | undefined;
  private readonly trustedProxies: BlockList | undefined;
  /** the request being forwarded on each client connection (HTTP/1.1 answers one at a time) */
  private readonly current = new WeakMap<Socket, Forwarding>();
  /** each client connection's peer, as the forwarding headers name it */
  private readonly hops = new WeakMap<Socket, Hop>();

  constructor(options: UpstreamOptions) {
    // the client's request id is replaced by the gateway's; with a shared upstream key the upstream account is the operator's to choose
    this.drop = new Set([
      'host',
      'x-request-id',
      ...(options.apiKey ? UPSTREAM_ACCOUNT_HEADERS : []),
      ...(options.owned ?? []).map((n) => n.toLowerCase()),
    ]);
    this.trustedProxies = options.trustedProxies;
    const url = new URL(options.url);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.authorization = options.apiKey ? `Bearer ${options.apiKey}` : undefined;
    this.pool = new Pool(url.origin, { connections: options.connections ?? 256, keepAliveTimeout: 30_000 });
  }

  /**
   * Sends the request upstream to `target` (origin form, see originTarget)
   * under the base path, with the gateway's own headers (`add`) and the
   * upstream key in place of the client's; `done` is told once the response
   * head has been written to the client, or why it could not be.
   */
  forward(req: IncomingMessage, res: ServerResponse, target: string, requestId: string, add: readonly string[] | undefined, done: Forwarded): void {
    const socket = req.socket;
    let hop = this.hops.get(socket);
    if (!hop) this.hops.set(socket, (hop = hopFrom(peerAddress(socket), this.trustedProxies)));
    const headers = requestHeaders(req.rawHeaders, this.drop, hop);
    if (add) for (let i = 0; i < add.length; i++) headers.push(add[i]!);
    headers.push('x-request-id', requestId);
    const authorization = this.authorization ?? firstRawHeader(req.rawHeaders, 'authorization');
    if (authorization !== undefined) headers.push('authorization', authorization);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const forwarding = new Forwarding(res, requestId, done);
    if (!this.current.has(socket)) socket.once('close', () => this.current.get(socket)?.clientGone());
    this.current.set(socket, forwarding);
    try {
      this.pool.dispatch({ method: req.method as Dispatcher.HttpMethod, path: this.basePath + target, headers, body: hasBody ? req : null }, forwarding);
    } catch (err) {
      forwarding.onError(err as Error);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
