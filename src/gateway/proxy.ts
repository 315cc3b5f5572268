import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
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

const NONE: ReadonlySet<string> = new Set();

/** The end-to-end headers: hop-by-hop ones, those the Connection header names, and `drop` left out. */
function endToEnd(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>, drop: ReadonlySet<string> = NONE): Record<string, string | string[]> {
  let named: Set<string> | undefined;
  const connection = headers.connection;
  if (connection) {
    named = new Set();
    for (const token of String(connection).split(',')) named.add(token.trim().toLowerCase());
  }
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || drop.has(name) || named?.has(name)) continue;
    out[name] = value;
  }
  return out;
}

export interface UpstreamOptions {
  readonly url: string;
  /** replaces the client's Authorization when set */
  readonly apiKey: string | undefined;
  readonly connections?: number;
  /** request headers that are the gateway's to set: any copy a client sends is removed */
  readonly owned?: readonly string[];
}

/** Forwards accepted requests to the upstream over a keep-alive pool, streaming both bodies. */
export class Upstream {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly drop: ReadonlySet<string>;

  constructor(private readonly options: UpstreamOptions) {
    this.drop = new Set(['host', ...(options.owned ?? [])]);
    const url = new URL(options.url);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, { connections: options.connections ?? 256, keepAliveTimeout: 30_000 });
  }

  /**
   * Resolves once the upstream's response head has been written to the client;
   * rejects when the upstream cannot be reached. The body is then written into
   * `res` chunk by chunk as it arrives: server-sent events pass through unbuffered.
   */
  forward(req: IncomingMessage, res: ServerResponse, requestId: string, add?: Readonly<Record<string, string>>): Promise<void> {
    const headers = endToEnd(req.headers, this.drop);
    if (add) Object.assign(headers, add);
    headers['x-request-id'] = requestId;
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    return new Promise<void>((resolve, reject) => {
      let started = false;
      this.pool
        .stream(
          { method: req.method as 'GET', path: this.basePath + (req.url ?? '/'), headers, body: hasBody ? req : null },
          ({ statusCode, headers: upstreamHeaders }) => {
            const out = endToEnd(upstreamHeaders);
            out['x-request-id'] = requestId;
            res.writeHead(statusCode, out);
            started = true;
            resolve();
            return res;
          },
        )
        .catch((err: unknown) => {
          if (!started) reject(err);
          else res.destroy();
        });
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
