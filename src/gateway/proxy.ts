import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { Pool } from 'undici';

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

function endToEnd(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>, drop: readonly string[] = []): Record<string, string | string[]> {
  const listed = new Set(drop);
  const connection = headers.connection;
  if (connection) for (const token of String(connection).split(',')) listed.add(token.trim().toLowerCase());
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

export interface UpstreamOptions {
  readonly url: string;
  /** replaces the client's Authorization when set */
  readonly apiKey: string | undefined;
  readonly connections?: number;
}

/** Forwards accepted requests to the upstream over a keep-alive pool, streaming both bodies. */
export class Upstream {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(private readonly options: UpstreamOptions) {
    const url = new URL(options.url);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, { connections: options.connections ?? 256, keepAliveTimeout: 30_000 });
  }

  /** Resolves once the response has started streaming; rejects when the upstream cannot be reached. */
  async forward(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const headers = endToEnd(req.headers, ['host']);
    headers['x-request-id'] = requestId;
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const upstream = await this.pool.request({
      method: req.method as 'GET',
      path: this.basePath + (req.url ?? '/'),
      headers,
      body: hasBody ? req : null,
    });
    const out = endToEnd(upstream.headers);
    out['x-request-id'] = requestId;
    res.writeHead(upstream.statusCode, out);
    // Each chunk is written as it arrives: server-sent events pass through unbuffered.
    pipeline(upstream.body, res, () => undefined);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
