import { readFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { ApiError, type ErrorCode } from '../domain/errors.js';

// Connection hygiene, the same for both servers: bounded time to send
// headers and a whole request, a bounded keep-alive idle time, a bounded TLS
// handshake (gateway), and a cap on open connections. At the cap an idle
// keep-alive connection is closed to make room, as nginx does; only when
// every connection is busy is the new one refused. So a flood of idle or
// slow connections cannot keep /healthz or a working client out.

export interface ConnectionLimits {
  /** a request's headers must arrive within this (from the connection's start or the previous response) */
  readonly headersTimeoutMs: number;
  /** a whole request, body included, must arrive within this */
  readonly requestTimeoutMs: number;
  /** a kept-alive connection with no request in flight is closed after this */
  readonly idleTimeoutMs: number;
  /** the TLS handshake must finish within this (gateway) */
  readonly handshakeTimeoutMs: number;
  /** open connections per process */
  readonly maxConnections: number;
}

/** Three quarters of the soft limit on open files (the rest is for the database, logs and the upstream), at most 20,000. */
export function defaultMaxConnections(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    if (Number.isFinite(soft) && soft > 0) return Math.max(64, Math.min(20_000, Math.floor(soft * 0.75)));
  } catch {
    // not Linux: fall through
  }
  return 4096;
}

/** Every request's header limit (Node's own default); a listener behind an ingress adds INGRESS_HEADER_ALLOWANCE. */
const DEFAULT_MAX_HEADER_SIZE = 16 * 1024;

export const DEFAULT_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  handshakeTimeoutMs: 10_000,
  maxConnections: defaultMaxConnections(),
};

/** Options for http.createServer / https.createServer that apply the limits. */
export function serverOptions(limits: ConnectionLimits) {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    // how often node checks the two timeouts above (its default, 30 s, would let them run late by that much)
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    maxHeaderSize: DEFAULT_MAX_HEADER_SIZE,
  };
}

const lastActive = Symbol('certgate.lastActive');
const httpSocket = Symbol('certgate.httpSocket');
type HttpSocket = Socket & { _httpMessage?: unknown; _parent?: TrackedSocket };
/** The TCP connection; on the gateway, HTTP runs on a TLS socket over it (its _parent). */
type TrackedSocket = Socket & { [lastActive]?: number; [httpSocket]?: HttpSocket };

/** A connection with no request in flight (node keeps the response being written in _httpMessage). */
const idle = (socket: TrackedSocket) => !(socket[httpSocket] ?? (socket as HttpSocket))._httpMessage;

/**
 * Caps open connections on a server. At the cap, an idle connection makes room for the new one: first one that
 * has never sent a request (what a flood of idle connections is made of), oldest first; else the least recently
 * active. A client that uses its kept-alive connection is the last to go.
 */
export function capConnections(server: HttpServer, maxConnections: number): void {
  const open = new Set<TrackedSocket>();
  server.on('connection', (socket: TrackedSocket) => {
    if (open.size >= maxConnections) {
      // a scan, but only at the cap; the cost of a normal request is one timestamp
      let victim: TrackedSocket | undefined;
      for (const candidate of open) {
        if (!idle(candidate)) continue;
        if (!candidate[httpSocket]) {
          victim = candidate; // never used; the set is in age order, so this is the oldest such
          break;
        }
        if (!victim || (candidate[lastActive] ?? 0) < (victim[lastActive] ?? 0)) victim = candidate;
      }
      if (!victim) {
        socket.destroy();
        return;
      }
      victim.destroy();
      open.delete(victim);
    }
    socket[lastActive] = performance.now();
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  server.on('request', (req) => {
    const http = req.socket as HttpSocket;
    const tcp = http._parent ?? (http as TrackedSocket);
    tcp[lastActive] = performance.now();
    tcp[httpSocket] = http;
  });
}

/** What certificate headers from an ingress may take beyond every request's header limit (forwarded-certificates.ts's bound). */
export const INGRESS_HEADER_ALLOWANCE = 64 * 1024;

/** The options of a plain-HTTP listener behind an ingress: room for the certificate headers it adds. */
export function ingressServerOptions(limits: ConnectionLimits): ReturnType<typeof serverOptions> {
  const options = serverOptions(limits);
  return { ...options, maxHeaderSize: options.maxHeaderSize + INGRESS_HEADER_ALLOWANCE };
}

const tooLarge = (maxHeaderSize: number) => `The request headers are too large (at most ${Math.floor(maxHeaderSize / 1024)} KiB).`;
const CLIENT_ERRORS: Record<string, (maxHeaderSize: number) => [ErrorCode, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: () => ['request_timeout', 'The request was not received in time; send the headers and body promptly.'],
  HPE_HEADER_OVERFLOW: (max) => ['headers_too_large', tooLarge(max)],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: (max) => ['headers_too_large', tooLarge(max)],
};

/**
 * What the HTTP parser rejected (malformed framing, two Content-Lengths, a
 * bare LF, oversized headers, a timeout), answered in OpenAI's envelope and
 * the connection closed. Nothing of the request reached a handler.
 */
export function answerClientError(err: NodeJS.ErrnoException & { code?: string }, socket: Socket, maxHeaderSize = DEFAULT_MAX_HEADER_SIZE): void {
  if (!socket.writable || (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const [code, message] = CLIENT_ERRORS[err.code ?? '']?.(maxHeaderSize) ?? ['bad_request', 'The request is not valid HTTP/1.1 and could not be read.'];
  const error = new ApiError(code, message);
  const body = JSON.stringify(error.toBody());
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_TEXT[error.status] ?? 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };
