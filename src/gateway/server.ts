import type { X509Certificate } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ApiError } from '../domain/errors.js';
import { ORGANIZATION_SCOPE } from '../domain/model.js';
import type { ClientIdSource } from '../domain/identity.js';
import { answerClientError, capConnections, DEFAULT_LIMITS, ingressServerOptions, serverOptions, type ConnectionLimits } from '../http/connections.js';
import { sendError, toApiError } from '../http/envelope.js';
import { newRequestId } from '../http/request-id.js';
import type { GatewayMetrics } from '../metrics/gateway.js';
import type { Runtime } from '../runtime.js';
import type { Presented } from '../services/admission.js';
import type { IngressFront } from '../authz/front.js';
import { DEFAULT_HANDSHAKE_BUDGET, HandshakeBudget, type HandshakeBudgetOptions } from '../state/handshake-budget.js';
import { SessionChains } from '../state/session-chains.js';
import type { BlockList } from 'node:net';
import { admitRequest } from '../services/admission.js';
import { Admissions, identityHeaderNames, pathOf } from './admissions.js';
import { failureReason, firstRawHeader, Upstream } from './proxy.js';
import { originTarget } from './target.js';

export { WOULD_REFUSE_HEADER } from './admissions.js';

export interface GatewayOptions {
  readonly host: string;
  readonly port: number;
  /** a Unix socket to listen on instead of host and port (behind an ingress) */
  readonly socket?: string | undefined;
  /** the server's certificate; absent behind an ingress (`ingress`) */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** terminated mode (gateway --behind-ingress): plain HTTP, the client's certificate read from the ingress's headers */
  readonly ingress?: IngressFront;
  readonly upstreamUrl: string;
  readonly upstreamApiKey: string | undefined;
  /** told of each refusal (never a key, header or certificate) */
  readonly log?: (entry: Record<string, unknown>) => void;
  readonly limits?: ConnectionLimits;
  /** one more header carrying the verified client's id (e.g. x-mtls-client-id for LiteLLM), and what it holds */
  readonly clientIdHeader?: { readonly name: string; readonly from: ClientIdSource };
  /** counts each decision and times it */
  readonly metrics?: GatewayMetrics;
  /** peers whose X-Forwarded-For and Forwarded are appended to rather than replaced (--trusted-proxies) */
  readonly trustedProxies?: BlockList;
  /** what one source may cost in hostile handshakes (rate 0: unlimited) */
  readonly handshakeBudget?: HandshakeBudgetOptions;
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

/** Whether the client sent more certificates than the gateway reads (MAX_CHAIN). */
function longerThanRead(leaf: X509Certificate): boolean {
  const seen = new Set([leaf.fingerprint256]);
  let next = leaf.issuerCertificate;
  for (let n = 1; next && !seen.has(next.fingerprint256); next = next.issuerCertificate) {
    if (++n > MAX_CHAIN) return true;
    seen.add(next.fingerprint256);
  }
  return false;
}

/**
 * What the TLS connection presented, read lazily: most requests reuse their connection's verdict and read nothing.
 * A resumed session reports the leaf alone; it is judged on the chain its full handshake presented (`chains`).
 */
function presentedOn(socket: TLSSocket, chains: SessionChains, read: X509Certificate | undefined | null = null): Presented {
  // Read once: a second getPeerX509Certificate() no longer links to the intermediates the client sent.
  let leaf: X509Certificate | undefined | null = read;
  let fingerprint: string | undefined | null = null;
  let chain: readonly Buffer[] | null = null;
  const peer = () => (leaf === null ? (leaf = socket.getPeerX509Certificate()) : leaf);
  // as in x-forwarded-client-cert: lowercase hex, no colons
  const leafFingerprint = () => (fingerprint === null ? (fingerprint = peer()?.fingerprint256.replace(/:/g, '').toLowerCase()) : fingerprint);
  return {
    connection: socket,
    chain: () => {
      if (chain !== null) return chain;
      chain = peerChain(peer());
      if (chain.length === 1 && socket.isSessionReused()) chain = chains.recall(leafFingerprint()!) ?? chain;
      return chain;
    },
    leafFingerprint,
  };
}

/** The TCP connection under a TLS socket: the one the handshake budget accepted. */
const tcpOf = (socket: TLSSocket): Socket => (socket as TLSSocket & { _parent?: Socket })._parent ?? socket;


/**
 * The data plane: authenticate → project → anchors → admission → forward, every decision made by admitRequest.
 * Over TLS, the client's chain is read from the handshake; behind an ingress (`ingress`), on plain HTTP, from the
 * ingress's headers, and the rest is the same.
 */
export class Gateway {
  private readonly upstream: Upstream;
  private readonly admissions: Admissions;
  private readonly chains: SessionChains;
  private readonly budget: HandshakeBudget | undefined;
  private readonly ingress: IngressFront | undefined;
  readonly server: Server;

  constructor(
    private readonly rt: Runtime,
    private readonly options: GatewayOptions,
  ) {
    this.ingress = options.ingress;
    this.upstream = new Upstream({
      url: options.upstreamUrl,
      apiKey: options.upstreamApiKey,
      // behind an ingress, its secret and certificate headers are certgate's alone too
      owned: [...identityHeaderNames(options.clientIdHeader), ...(this.ingress?.consumedHeaders ?? [])],
      ...(options.trustedProxies ? { trustedProxies: options.trustedProxies } : {}),
    });
    this.admissions = new Admissions(rt, { log: options.log, metrics: options.metrics, clientIdHeader: options.clientIdHeader });
    const limits = options.limits ?? DEFAULT_LIMITS;
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      const requestId = newRequestId();
      this.handle(req, res, requestId).catch((err) => this.fail(res, err, requestId));
    };
    if (this.ingress) {
      this.server = createHttpServer(ingressServerOptions(limits), onRequest);
    } else {
      if (!options.tls) throw new Error('a TLS gateway needs its certificate and key');
      this.server = createServer(
        {
          ...serverOptions(limits),
          handshakeTimeout: limits.handshakeTimeoutMs,
          cert: options.tls.cert,
          key: options.tls.key,
          // Ask for a client certificate but do not demand one at the handshake:
          // whether one is needed depends on the request's key and scope.
          requestCert: true,
          rejectUnauthorized: false,
          minVersion: 'TLSv1.2',
          // sessions resume (TLS 1.3 and 1.2 tickets) and are judged on the chain of their full handshake (SessionChains)
        },
        onRequest,
      );
    }
    // Expect: 100-continue is answered here, never forwarded: 100 Continue only once the request is admitted
    this.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      const requestId = newRequestId();
      this.handle(req, res, requestId, true).catch((err) => this.fail(res, err, requestId));
    });
    // a full handshake's chain, kept for the sessions resumed from it; emptied with a new ticket key, so no ticket outlives its chain
    this.chains = new SessionChains(() => (this.server as import('node:https').Server).setTicketKeys(randomBytes(48)));
    const budget = options.handshakeBudget ?? DEFAULT_HANDSHAKE_BUDGET;
    // behind an ingress there is no handshake here to budget
    this.budget = budget.ratePerSecond > 0 && !this.ingress ? new HandshakeBudget(budget) : undefined;
    // before capConnections: a source out of budget is closed at accept, before it costs any TLS work or a slot
    if (!this.ingress) {
      const budget = this.budget;
      if (budget) this.server.on('connection', (socket: Socket) => budget.connectionAccepted(socket, socket.remoteAddress) || socket.destroy());
    }
    capConnections(this.server, limits.maxConnections);
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      // a renegotiation attempt gets no HTTP answer: the connection is closed at once
      if (err.code === 'ERR_TLS_RENEGOTIATION_DISABLED' || err.code === 'ERR_TLS_SESSION_ATTACK') socket.destroy();
      else answerClientError(err, socket, (this.ingress ? ingressServerOptions(limits) : serverOptions(limits)).maxHeaderSize);
    });
    if (this.ingress) return;
    this.server.on('secureConnection', (socket: TLSSocket) => this.secured(socket));
    // a client that cannot finish its handshake in time is dropped (an 'error' on an unauthenticated socket);
    // one that failed after sending something (a chain, say) is charged to its source
    this.server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      const tcp = tcpOf(socket);
      // only a TLS protocol failure is charged: a client that went away (a reset, a timeout) is what a busy server and
      // a pool of ordinary clients behind one address produce too, and charging it locked a benchmark's clients out
      this.budget?.handshakeEnded(tcp, tcp.bytesRead > 0 && typeof err.code === 'string' && err.code.startsWith('ERR_SSL'));
      socket.destroy();
    });
  }

  /** A handshake completed: no renegotiation ever; a full handshake's chain kept for its resumptions, and charged if overlong. */
  private secured(socket: TLSSocket): void {
    // client-initiated renegotiation (TLS 1.2) is refused: the attempt is a TLS error, and the connection is closed
    socket.disableRenegotiation();
    const tcp = tcpOf(socket);
    if (socket.isSessionReused()) return this.budget?.handshakeEnded(tcp, false);
    const leaf = socket.getPeerX509Certificate();
    // the presentation gets the leaf read here: a second read would lose the intermediates
    const presented = this.rt.state.verdicts.presentedOn(socket, (s) => presentedOn(s, this.chains, leaf));
    const chain = leaf?.issuerCertificate ? presented.chain() : [];
    this.budget?.handshakeEnded(tcp, chain.length >= MAX_CHAIN && longerThanRead(leaf!));
    if (chain.length > 1) this.chains.remember(presented.leafFingerprint!()!, chain);
  }

  async listen(): Promise<string> {
    return listenOn(this.server, this.options, this.ingress ? 'http' : 'https');
  }

  /**
   * One request: refused, or admitted and forwarded. `expectsContinue`: the
   * client waits for 100 Continue before sending its body; it gets one only
   * once admitted, else the final status and the connection closed (the body
   * it may still send is never read).
   */
  private async handle(req: IncomingMessage, res: ServerResponse, requestId: string, expectsContinue = false): Promise<void> {
    const target = originTarget(req.url ?? '/');
    if (expectsContinue && (target === '/healthz' || target === '/readyz')) res.setHeader('connection', 'close');
    if (target === '/healthz') return this.status(res, requestId, '{"status":"ok"}');
    if (target === '/readyz') {
      if (this.rt.store.ready()) return this.status(res, requestId, '{"status":"ready"}');
      return sendError(res, new ApiError('not_ready', 'The database connection is down; the gateway enforces the anchors it last knew and is reconnecting.'), requestId);
    }
    const started = performance.now();
    if (target === undefined) {
      const error = new ApiError('bad_request', 'The request target must be a path (or an absolute URL) whose dot-segments stay within the API; it has none or climbs above the root.');
      return this.refuse(req, res, requestId, error, 'invalid_target', ORGANIZATION_SCOPE, started, expectsContinue);
    }
    let presented: Presented;
    if (this.ingress) {
      const from = this.ingress.present(req);
      if ('error' in from) {
        const peer = from.reason === 'untrusted_certificate_source' ? (req.socket.remoteAddress ?? 'unix socket') : undefined;
        return this.refuse(req, res, requestId, from.error, from.reason, ORGANIZATION_SCOPE, started, expectsContinue, target, peer);
      }
      presented = from;
    } else presented = this.rt.state.verdicts.presentedOn(req.socket as TLSSocket, (s) => presentedOn(s, this.chains));
    const judged = this.admissions.judged(req, target, requestId, presented, await admitRequest(this.rt, firstRawHeader(req.rawHeaders, 'authorization'), presented));
    if (!judged.admitted) return this.refuse(req, res, requestId, judged.error, judged.reason, judged.scope, started, expectsContinue, target);
    if (expectsContinue) res.writeContinue();
    this.upstream.forward(req, res, target, requestId, judged.headers, (err) => {
      if (err) {
        // the cause, never the request's headers or query
        const reason = failureReason(err);
        this.options.log?.({ msg: 'request not forwarded', requestId, method: req.method, path: pathOf(target), reason, error: err.message, errorCode: (err as NodeJS.ErrnoException).code });
        if (!res.headersSent) sendError(res, new ApiError('upstream_unavailable', 'The upstream API could not be reached.'), requestId);
        else res.destroy();
        this.admissions.counted('forward_failed', 'upstream_unavailable', reason, judged.scope, started);
      } else this.admissions.let(judged, started);
    });
  }

  /** A refusal: logged (never a key, header or certificate), answered in OpenAI's envelope, counted. */
  private refuse(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    error: ApiError,
    reason: string,
    scope: string,
    started: number,
    expectsContinue: boolean,
    target?: string,
    peer?: string,
  ): void {
    // No 100 Continue was sent: the client may or may not send its body, so the connection ends with this answer.
    if (expectsContinue) res.setHeader('connection', 'close');
    // The request body is not wanted; drain it so the connection stays usable (or closes cleanly).
    req.resume();
    sendError(res, error, requestId);
    this.admissions.refused(req, requestId, error, reason, scope, started, target, peer);
  }

  private status(res: ServerResponse, requestId: string, body: string): void {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, 'x-request-id': requestId });
    res.end(body);
  }

  private fail(res: ServerResponse, err: unknown, requestId: string): void {
    const known = toApiError(err);
    if (known.cause !== undefined) {
      const cause = known.cause instanceof Error ? known.cause.message : String(known.cause);
      this.options.log?.({ msg: 'gateway error', requestId, code: known.code, error: cause });
    }
    if (!res.headersSent) sendError(res, known, requestId);
    else res.destroy();
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
    await this.upstream.close();
    await this.admissions.close();
  }
}

/**
 * Listens on a Unix socket (mode 0660: the ingress's group may connect, nobody else) or on host and port, and
 * gives the address as the start line shows it.
 */
export async function listenOn(server: Server, at: { host: string; port: number; socket?: string | undefined }, scheme: 'http' | 'https'): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (at.socket) server.listen(at.socket, () => resolve());
    else server.listen(at.port, at.host, () => resolve());
  });
  if (at.socket) {
    chmodSync(at.socket, 0o660);
    return `unix:${at.socket}`;
  }
  const { port } = server.address() as AddressInfo;
  const host = at.host.includes(':') ? `[${at.host}]` : at.host;
  return `${scheme}://${host}:${port}`;
}
