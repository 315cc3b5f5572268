import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ApiError } from '../domain/errors.js';
import { ORGANIZATION_SCOPE } from '../domain/model.js';
import type { ClientIdSource } from '../domain/identity.js';
import { answerClientError, capConnections, DEFAULT_LIMITS, ingressServerOptions, type ConnectionLimits } from '../http/connections.js';
import { toApiError } from '../http/envelope.js';
import { newRequestId } from '../http/request-id.js';
import type { GatewayMetrics } from '../metrics/gateway.js';
import type { Runtime } from '../runtime.js';
import { admitRequest } from '../services/admission.js';
import { Admissions } from '../gateway/admissions.js';
import { firstRawHeader } from '../gateway/proxy.js';
import { listenOn } from '../gateway/server.js';
import { IngressFront, type IngressOptions } from './front.js';
import { INGRESS_SECRET_HEADER } from './trust.js';

// certgate decide: the decision service an ingress asks before it forwards a request (nginx auth_request, Caddy
// forward_auth, Envoy's HTTP ext_authz, Traefik ForwardAuth). Every request is a question about the client's
// request, asked with its Authorization and the certificate headers the ingress adds: 200 and the identity
// headers to copy upstream, or OpenAI's refusal. Nothing is proxied and no body is read.

/** A refusal's status and envelope again as headers, for ingresses that do not pass the decision's body on (nginx). */
export const STATUS_HEADER = 'x-certgate-status';
export const ERROR_HEADER = 'x-certgate-error';

export interface DecisionServiceOptions {
  readonly host: string;
  readonly port: number;
  /** a Unix socket to listen on instead of host and port */
  readonly socket?: string | undefined;
  readonly ingress: IngressOptions;
  /** told of each refusal (never a key, header value or certificate) */
  readonly log?: (entry: Record<string, unknown>) => void;
  readonly limits?: ConnectionLimits;
  readonly clientIdHeader?: { readonly name: string; readonly from: ClientIdSource } | undefined;
  readonly metrics?: GatewayMetrics | undefined;
}


/** JSON with everything outside printable ASCII as \uXXXX: a header value every ingress passes on unchanged. */
export function asciiJson(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** How many Authorization header lines a request has. */
function authorizationCount(raw: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === 'authorization') count++;
  return count;
}

export class DecisionService {
  readonly server: Server;
  private readonly front: IngressFront;
  private readonly admissions: Admissions;

  constructor(
    private readonly rt: Runtime,
    private readonly options: DecisionServiceOptions,
  ) {
    this.front = new IngressFront(rt, options.ingress);
    this.admissions = new Admissions(rt, { log: options.log, metrics: options.metrics, clientIdHeader: options.clientIdHeader });
    const limits = options.limits ?? DEFAULT_LIMITS;
    const serverLimits = ingressServerOptions(limits);
    this.server = createServer(serverLimits, (req, res) => {
      const requestId = newRequestId();
      this.handle(req, res, requestId).catch((err: unknown) => this.fail(res, err, requestId));
    });
    capConnections(this.server, limits.maxConnections);
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket, serverLimits.maxHeaderSize));
  }

  listen(): Promise<string> {
    return listenOn(this.server, this.options, 'http');
  }

  private async handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    // forward-auth sends no body; whatever comes is not read
    req.resume();
    const target = req.url ?? '/';
    const path = target.split('?', 1)[0];
    if ((path === '/healthz' || path === '/readyz') && this.healthCheck(req)) {
      if (path === '/healthz' || this.rt.store.ready()) return this.health(res, requestId, path === '/healthz' ? '{"status":"ok"}' : '{"status":"ready"}');
      return this.answerRefusal(res, requestId, new ApiError('not_ready', 'The database connection is down; certgate decides on the anchors it last knew and is reconnecting.'));
    }
    const started = performance.now();
    const from = this.front.present(req);
    if ('error' in from) {
      const peer = from.reason === 'untrusted_certificate_source' ? (req.socket.remoteAddress ?? 'unix socket') : undefined;
      this.answerRefusal(res, requestId, from.error);
      return this.admissions.refused(req, requestId, from.error, from.reason, ORGANIZATION_SCOPE, started, target, peer);
    }
    // the ingress passes the client's own Authorization headers on: with several, the upstream might use another one than was decided on
    const keys = authorizationCount(req.rawHeaders);
    if (keys > 1) {
      const error = new ApiError('invalid_api_key', `The request carries ${keys} Authorization headers; send exactly one.`);
      this.answerRefusal(res, requestId, error);
      return this.admissions.refused(req, requestId, error, 'several_keys', ORGANIZATION_SCOPE, started, target);
    }
    const judged = this.admissions.judged(req, target, requestId, from, await admitRequest(this.rt, firstRawHeader(req.rawHeaders, 'authorization'), from));
    if (!judged.admitted) {
      this.answerRefusal(res, requestId, judged.error);
      return this.admissions.refused(req, requestId, judged.error, judged.reason, judged.scope, started, target);
    }
    const headers = judged.headers ? [...judged.headers] : [];
    headers.push('x-request-id', requestId, 'content-length', '0');
    res.writeHead(200, headers);
    res.end();
    this.admissions.let(judged, started);
  }

  /**
   * /healthz and /readyz are health checks only when they carry nothing a decision is asked with (Authorization,
   * the ingress secret, a certificate header): a client's own request for /healthz, passed on by an ingress that
   * asks with the client's path (Envoy's ext_authz without a path_prefix), is decided like any other.
   */
  private healthCheck(req: IncomingMessage): boolean {
    const asked = new Set(['authorization', INGRESS_SECRET_HEADER, ...this.front.consumedHeaders]);
    for (let i = 0; i < req.rawHeaders.length; i += 2) if (asked.has(req.rawHeaders[i]!.toLowerCase())) return false;
    return true;
  }

  private health(res: ServerResponse, requestId: string, body: string): void {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, 'x-request-id': requestId });
    res.end(body);
  }

  /** OpenAI's status and envelope, and both again in x-certgate-status and x-certgate-error. */
  private answerRefusal(res: ServerResponse, requestId: string, error: ApiError): void {
    const body = JSON.stringify(error.toBody());
    res.writeHead(error.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-request-id': requestId,
      [STATUS_HEADER]: String(error.status),
      [ERROR_HEADER]: asciiJson(body),
    });
    res.end(body);
  }

  private fail(res: ServerResponse, err: unknown, requestId: string): void {
    const known = toApiError(err);
    if (known.cause !== undefined) {
      const cause = known.cause instanceof Error ? known.cause.message : String(known.cause);
      this.options.log?.({ msg: 'decision error', requestId, code: known.code, error: cause });
    }
    if (!res.headersSent) this.answerRefusal(res, requestId, known);
    else res.destroy();
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
    await this.admissions.close();
  }
}
