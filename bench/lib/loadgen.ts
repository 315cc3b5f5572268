// A small closed-loop HTTP/1.1 load generator over raw sockets (plain or TLS),
// run as its own process by the benchmarks: `node loadgen.js '<LoadSpec JSON>'`.
//
// Each of `connections` virtual users has at most one request outstanding:
//   keepalive  one connection per user, reused for every request (reconnects if the server closes it);
//   handshake  a new TCP+TLS connection per request (full handshake: no session is ever offered
//              for resumption), one GET, then the socket is destroyed.
// A warm-up runs first and is discarded; then requests completing inside the measured window are
// counted. Stdout carries JSON lines: {"event":"window-start"}, {"event":"window-end"}, then the result.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';

export type LoadMode = 'keepalive' | 'handshake';

export interface LoadSpec {
  readonly label: string;
  readonly host: string;
  readonly port: number;
  /** file paths; null for plain HTTP */
  readonly tls: null | { readonly caFile: string; readonly certFile?: string; readonly keyFile?: string; readonly servername: string };
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly mode: LoadMode;
  readonly connections: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

export interface LoadResult {
  readonly label: string;
  readonly mode: LoadMode;
  readonly connections: number;
  readonly windowS: number;
  /** responses completed inside the window, whatever their status */
  readonly responses: number;
  /** 2xx responses per second inside the window */
  readonly rps: number;
  readonly statuses: Readonly<Record<string, number>>;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  /** connections opened inside the window */
  readonly connectionsOpened: number;
  /** TLS sessions resumed inside the window: must stay 0 in handshake mode */
  readonly sessionsResumed: number;
  /** microseconds; handshake mode: from connect() to the full response, keepalive: from write to the full response */
  readonly latencyUs: LatencySummary;
}

export function summarize(samples: Float64Array, n: number): LatencySummary {
  if (n === 0) return { p50: NaN, p90: NaN, p99: NaN, mean: NaN, min: NaN, max: NaN };
  const sorted = samples.slice(0, n).sort();
  const at = (q: number) => sorted[Math.min(n - 1, Math.floor(q * n))]!;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const round = (x: number) => Math.round(x * 10) / 10;
  return { p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), mean: round(sum / n), min: round(sorted[0]!), max: round(sorted[n - 1]!) };
}

/**
 * Reads one HTTP/1.1 response at a time (no pipelining, so nothing can follow it
 * on the wire until the next request is written). Handles Content-Length and
 * chunked bodies; a body delimited by the connection's end completes on close.
 */
class ResponseReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private headerEnd = -1;
  private contentLength = -1;
  private chunked = false;
  status = 0;
  closeAfter = false;

  reset(): void {
    this.chunks = [];
    this.length = 0;
    this.headerEnd = -1;
    this.contentLength = -1;
    this.chunked = false;
    this.status = 0;
    this.closeAfter = false;
  }

  /** true once a whole response has arrived */
  feed(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    this.length += chunk.length;
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
    this.chunks = [buf];
    if (this.headerEnd < 0) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return false;
      this.headerEnd = end + 4;
      const head = buf.toString('latin1', 0, end);
      this.status = Number(head.slice(9, 12));
      const cl = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
      if (cl) this.contentLength = Number(cl[1]);
      else if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) this.chunked = true;
      else if (this.status === 204 || this.status === 304 || (this.status >= 100 && this.status < 200)) this.contentLength = 0;
      this.closeAfter = /\r\nconnection:[ \t]*close/i.test(head) || head.startsWith('HTTP/1.0');
    }
    if (this.contentLength >= 0) return buf.length >= this.headerEnd + this.contentLength;
    if (this.chunked) return chunkedComplete(buf, this.headerEnd);
    this.closeAfter = true;
    return false; // read until close
  }

  get headerSeen(): boolean {
    return this.headerEnd >= 0;
  }
}

function chunkedComplete(buf: Buffer, from: number): boolean {
  let pos = from;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', pos);
    if (lineEnd < 0) return false;
    const size = parseInt(buf.toString('latin1', pos, lineEnd), 16);
    if (Number.isNaN(size)) throw new Error('bad chunk size');
    if (size === 0) return buf.indexOf('\r\n\r\n', lineEnd) >= 0 || buf.length >= lineEnd + 4;
    pos = lineEnd + 2 + size + 2;
    if (pos > buf.length) return false;
  }
}

export async function runLoad(spec: LoadSpec, emit: (event: string) => void = () => undefined): Promise<LoadResult> {
  const request = Buffer.from(
    `GET ${spec.path} HTTP/1.1\r\nHost: ${spec.tls?.servername ?? spec.host}\r\n` +
      Object.entries(spec.headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      (spec.mode === 'handshake' ? 'Connection: close\r\n' : '') +
      '\r\n',
    'latin1',
  );
  const context = spec.tls
    ? tls.createSecureContext({
        ca: readFileSync(spec.tls.caFile),
        ...(spec.tls.certFile ? { cert: readFileSync(spec.tls.certFile), key: readFileSync(spec.tls.keyFile!) } : {}),
      })
    : null;

  let running = true;
  let measuring = false;
  let responses = 0;
  let ok = 0;
  let errors = 0;
  let opened = 0;
  let resumed = 0;
  const statuses: Record<string, number> = {};
  const errorSamples: string[] = [];
  let samples = new Float64Array(1 << 16);
  let n = 0;
  const record = (us: number, status: number) => {
    if (!measuring) return;
    responses++;
    if (status >= 200 && status < 300) ok++;
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (n === samples.length) {
      const bigger = new Float64Array(samples.length * 2);
      bigger.set(samples);
      samples = bigger;
    }
    samples[n++] = us;
  };
  const fail = (what: string) => {
    if (!measuring) return;
    errors++;
    if (errorSamples.length < 5 && !errorSamples.includes(what)) errorSamples.push(what);
  };

  const sockets = new Set<net.Socket>();

  class User {
    private socket: net.Socket | null = null;
    private readonly reader = new ResponseReader();
    private started = 0;
    private connectStarted = 0;
    private outstanding = false;

    open(): void {
      if (!running) return;
      this.reader.reset();
      this.connectStarted = performance.now();
      const socket = context
        ? tls.connect({ host: spec.host, port: spec.port, servername: spec.tls!.servername, secureContext: context, rejectUnauthorized: true })
        : net.connect({ host: spec.host, port: spec.port });
      this.socket = socket;
      sockets.add(socket);
      socket.setNoDelay(true);
      if (measuring) opened++;
      socket.once(context ? 'secureConnect' : 'connect', () => {
        if (context && (socket as tls.TLSSocket).isSessionReused() && measuring) resumed++;
        this.send();
      });
      socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
      socket.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
      socket.on('close', () => this.onClose(socket));
    }

    private send(): void {
      if (!running || !this.socket) return;
      this.reader.reset();
      this.outstanding = true;
      this.started = spec.mode === 'handshake' ? this.connectStarted : performance.now();
      this.socket.write(request);
    }

    private onData(socket: net.Socket, chunk: Buffer): void {
      if (socket !== this.socket) return;
      let complete: boolean;
      try {
        complete = this.reader.feed(chunk);
      } catch (err) {
        fail(`parse: ${(err as Error).message}`);
        socket.destroy();
        return;
      }
      if (!complete) return;
      this.outstanding = false;
      record((performance.now() - this.started) * 1000, this.reader.status);
      if (spec.mode === 'handshake' || this.reader.closeAfter || !running) socket.destroy();
      else this.send();
    }

    private onClose(socket: net.Socket): void {
      sockets.delete(socket);
      if (socket !== this.socket) return;
      this.socket = null;
      if (this.outstanding) {
        this.outstanding = false;
        if (this.reader.closeAfter && this.reader.headerSeen) record((performance.now() - this.started) * 1000, this.reader.status);
        else fail('connection closed before a full response');
      }
      if (!running) return;
      // back off a little after a failure, so a dead server does not spin the loop
      if (this.reader.status === 0) setTimeout(() => this.open(), 5);
      else setImmediate(() => this.open());
    }
  }

  const users = Array.from({ length: spec.connections }, () => new User());
  for (const user of users) user.open();

  await new Promise((r) => setTimeout(r, spec.warmupMs));
  measuring = true;
  const windowStart = performance.now();
  emit('window-start');
  await new Promise((r) => setTimeout(r, spec.durationMs));
  const windowS = (performance.now() - windowStart) / 1000;
  measuring = false;
  running = false;
  emit('window-end');
  for (const socket of sockets) socket.destroy();

  return {
    label: spec.label,
    mode: spec.mode,
    connections: spec.connections,
    windowS: Math.round(windowS * 1000) / 1000,
    responses,
    rps: Math.round((ok / windowS) * 10) / 10,
    statuses,
    errors,
    errorSamples,
    connectionsOpened: opened,
    sessionsResumed: resumed,
    latencyUs: summarize(samples, n),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;
  const emit = (event: string) => process.stdout.write(JSON.stringify({ event }) + '\n');
  runLoad(spec, emit).then(
    (result) => {
      process.stdout.write(JSON.stringify({ event: 'result', result }) + '\n', () => process.exit(0));
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
