import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { bearerToken, invalidKey, missingKey } from '../api/auth.js';
import { newRequestId } from '../api/app.js';
import { unavailable } from '../api/errors.js';
import { isStoreUnavailable } from '../store/store.js';
import { ApiError } from '../domain/errors.js';
import { verifyClientChain, type TrustAnchor, type Verdict } from '../domain/verify.js';
import type { Core } from '../service/core.js';
import { KeyResolver } from '../service/keys.js';
import { Upstream } from './proxy.js';

export interface GatewayOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: { readonly cert: string; readonly key: string };
  readonly upstreamUrl: string;
  readonly upstreamApiKey: string | undefined;
  /** told of each refusal (never a key, header or certificate) */
  readonly log?: (entry: Record<string, unknown>) => void;
}

const MAX_CHAIN = 10;

/**
 * The leaf and the intermediates the client sent, as DER, leaf first. (Read
 * through getPeerX509Certificate: once it has been called, the older
 * getPeerCertificate(true) no longer reports the client's intermediates.)
 */
export function peerChain(leaf: X509Certificate | undefined): Buffer[] {
  if (!leaf) return [];
  const chain = [leaf.raw];
  const seen = new Set([leaf.fingerprint256]);
  for (let next = leaf.issuerCertificate; next && !seen.has(next.fingerprint256) && chain.length < MAX_CHAIN; next = next.issuerCertificate) {
    seen.add(next.fingerprint256);
    chain.push(next.raw);
  }
  return chain;
}

/**
 * A connection's certificate does not change, so its verdict is kept on the
 * connection, but only for the very anchor list it was reached with: any
 * change of the anchors in force makes a new list, and so a new verdict.
 */
const perConnection = new WeakMap<TLSSocket, { anchors: readonly TrustAnchor[]; verdict: Verdict }>();

/**
 * Clients reconnect with the same certificate, so an acceptance is also shared
 * across connections, keyed by the leaf's fingerprint under the same anchor
 * list. Only leaves issued directly by an anchor qualify: a verdict reached
 * through intermediates depends on what else the client sends.
 */
const acceptedLeaves = new WeakMap<readonly TrustAnchor[], Map<string, Verdict>>();
const MAX_SHARED_VERDICTS = 10_000;

function verdictFor(socket: TLSSocket, anchors: readonly TrustAnchor[], now: Date): Verdict {
  const kept = perConnection.get(socket);
  if (kept && kept.anchors === anchors && now.getTime() <= kept.verdict.until) return kept.verdict;
  const leaf = socket.getPeerX509Certificate();
  let shared = acceptedLeaves.get(anchors);
  let verdict = leaf ? shared?.get(leaf.fingerprint256) : undefined;
  if (!verdict || now.getTime() > verdict.until) {
    verdict = verifyClientChain(peerChain(leaf), anchors, now);
    if (leaf && verdict.accepted && verdict.direct) {
      if (!shared) acceptedLeaves.set(anchors, (shared = new Map()));
      if (shared.size >= MAX_SHARED_VERDICTS) shared.clear();
      shared.set(leaf.fingerprint256, verdict);
    }
  }
  perConnection.set(socket, { anchors, verdict });
  return verdict;
}

function sendError(res: ServerResponse, err: ApiError, requestId: string): void {
  const body = JSON.stringify(err.toBody());
  res.writeHead(err.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': requestId });
  res.end(body);
}

export class Gateway {
  private readonly keys: KeyResolver;
  private readonly upstream: Upstream;
  readonly server: Server;

  constructor(
    private readonly core: Core,
    private readonly options: GatewayOptions,
  ) {
    this.keys = new KeyResolver(core.store, core.snapshots);
    this.upstream = new Upstream({ url: options.upstreamUrl, apiKey: options.upstreamApiKey });
    this.server = createServer(
      {
        cert: options.tls.cert,
        key: options.tls.key,
        // Ask for a client certificate but do not demand one at the handshake:
        // whether one is needed depends on the request's key and scope.
        requestCert: true,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
      },
      (req, res) => {
        this.handle(req, res).catch((err) => this.fail(res, err));
      },
    );
    this.server.keepAliveTimeout = 30_000;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `https://${host}:${port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    (res as ServerResponse & { requestId?: string }).requestId = requestId;
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': requestId });
      res.end('{"status":"ok"}');
      return;
    }
    if (req.url === '/readyz') {
      if (!this.core.store.ready()) return sendError(res, new ApiError('not_ready', 'The database connection is down; the gateway enforces the anchors it last knew and is reconnecting.'), requestId);
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': requestId });
      res.end('{"status":"ready"}');
      return;
    }
    const token = bearerToken(req.headers.authorization);
    if (!token) return this.refuse(req, res, requestId, missingKey(), 'no_key');
    const owner = await this.keys.projectKey(token);
    if (!owner) return this.refuse(req, res, requestId, invalidKey('a project key (sk-svcacct-...) of a project behind this gateway'), 'unknown_key');
    let snapshot = await this.core.snapshots.get(owner.organizationId);
    if (!snapshot.project(owner.projectId)) snapshot = await this.core.snapshots.reload(owner.organizationId);
    const project = snapshot.project(owner.projectId);
    if (!project || project.archivedAt !== null) {
      return this.refuse(req, res, requestId, new ApiError('invalid_api_key', 'The project of this key is archived; its keys can no longer be used.'), 'archived_project');
    }
    const anchors = this.core.trust.inForce(snapshot, owner.projectId);
    if (anchors.length > 0) {
      const verdict = verdictFor(req.socket as TLSSocket, anchors, this.core.clock());
      if (verdict.refusal) {
        const { code, reason, message } = verdict.refusal;
        return this.refuse(req, res, requestId, new ApiError(code, `${message} (reason: ${reason})`, null, 403), reason);
      }
    }
    try {
      await this.upstream.forward(req, res, requestId);
    } catch {
      if (!res.headersSent) sendError(res, new ApiError('upstream_unavailable', 'The upstream API could not be reached.'), requestId);
      else res.destroy();
    }
  }

  private refuse(req: IncomingMessage, res: ServerResponse, requestId: string, err: ApiError, reason: string): void {
    this.options.log?.({ msg: 'request refused', requestId, method: req.method, path: req.url?.split('?')[0], status: err.status, code: err.code, reason });
    // The request body is not wanted; drain it so the connection stays usable.
    req.resume();
    sendError(res, err, requestId);
  }

  private fail(res: ServerResponse, err: unknown): void {
    const requestId = (res as ServerResponse & { requestId?: string }).requestId ?? newRequestId();
    const known =
      err instanceof ApiError ? err : isStoreUnavailable(err) ? unavailable() : new ApiError('internal_error', 'The gateway had an error while processing the request.');
    if (!(err instanceof ApiError)) this.options.log?.({ msg: 'gateway error', requestId, error: err instanceof Error ? err.message : String(err) });
    if (!res.headersSent) sendError(res, known, requestId);
    else res.destroy();
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
    await this.upstream.close();
  }
}
