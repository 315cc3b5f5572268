import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ApiError } from '../domain/errors.js';
import { sendError, toApiError } from '../http/envelope.js';
import { newRequestId } from '../http/request-id.js';

/**
 * The gateway's metrics on a plain-HTTP port of their own: GET /metrics and
 * nothing else. It asks for no key, so it listens on loopback unless told
 * otherwise; the data plane's port never serves metrics.
 */
export class MetricsListener {
  readonly server: Server;

  constructor(
    private readonly registry: Registry,
    private readonly host: string,
    private readonly port: number,
  ) {
    this.server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
      const requestId = newRequestId();
      const path = (req.url ?? '/').split('?')[0];
      req.resume();
      if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
        return sendError(res, new ApiError('unknown_url', `Invalid URL (${req.method} ${path}). This port serves GET /metrics only.`), requestId);
      }
      this.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': this.registry.contentType, 'content-length': Buffer.byteLength(text), 'x-request-id': requestId });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (err: unknown) => sendError(res, toApiError(err), requestId),
      );
    });
    this.server.keepAliveTimeout = 5_000;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${port}/metrics`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
