import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Verdict } from '../domain/checks/client.js';
import { ApiError } from '../domain/errors.js';
import { ORGANIZATION_SCOPE } from '../domain/model.js';
import { CERTIFICATE_ID_HEADER, clientId, forwardedClientCert, FORWARDED_CLIENT_CERT, PROJECT_ID_HEADER, type ClientIdSource } from '../domain/identity.js';
import { answerClientError, capConnections, DEFAULT_LIMITS, serverOptions, type ConnectionLimits } from '../http/connections.js';
import { sendError, toApiError } from '../http/envelope.js';
import { newRequestId } from '../http/request-id.js';
import { NONE } from '../metrics/decisions.js';
import type { GatewayMetrics } from '../metrics/gateway.js';
import type { Runtime } from '../runtime.js';
import { admitRequest, type Presented } from '../services/admission.js';
import { DEFAULT_HANDSHAKE_BUDGET, HandshakeBudget, type HandshakeBudgetOptions } from '../state/handshake-budget.js';
import { SessionChains } from '../state/session-chains.js';
import { TrafficRecorder } from '../state/traffic.js';
import type { BlockList } from 'node:net';
import { failureReason, firstRawHeader, Upstream } from './proxy.js';
import { originTarget } from './target.js';

/** Set upstream on a request let through in observe mode: the code enforcing would have answered. */
export const WOULD_REFUSE_HEADER = 'x-certgate-would-refuse';

export interface GatewayOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: { readonly cert: string; readonly key: string };
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

/** A target's path for a log line: never its query (keys travel there), nor an absolute form's authority. */
function pathOf(target: string): string | undefined {
  if (target.charCodeAt(0) !== 0x2f) return undefined;
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}

/** The TCP connection under a TLS socket (where the source address is kept once the TLS socket has failed). */
type Accepted = Socket & { [sourceAddress]?: string | undefined; [heldToken]?: boolean };
const sourceAddress = Symbol('certgate.sourceAddress');
const heldToken = Symbol('certgate.heldToken');
const tcpOf = (socket: TLSSocket) => ((socket as TLSSocket & { _parent?: Accepted })._parent ?? (socket as Accepted)) as Accepted;

/** The data plane: authenticate → project → anchors → admission → forward, every decision made by admitRequest. */
export class Gateway {
  private readonly upstream: Upstream;
  private readonly traffic: TrafficRecorder;
  private readonly chains: SessionChains;
  private readonly budget: HandshakeBudget | undefined;
  readonly server: Server;

  constructor(
    private readonly rt: Runtime,
    private readonly options: GatewayOptions,
  ) {
    this.upstream = new Upstream({
      url: options.upstreamUrl,
      apiKey: options.upstreamApiKey,
      owned: [FORWARDED_CLIENT_CERT, PROJECT_ID_HEADER, CERTIFICATE_ID_HEADER, WOULD_REFUSE_HEADER, ...(options.clientIdHeader ? [options.clientIdHeader.name] : [])],
      ...(options.trustedProxies ? { trustedProxies: options.trustedProxies } : {}),
    });
    this.traffic = new TrafficRecorder(rt.store, () => rt.nowSeconds());
    const limits = options.limits ?? DEFAULT_LIMITS;
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
      (req, res) => {
        const requestId = newRequestId();
        this.handle(req, res, requestId).catch((err) => this.fail(res, err, requestId));
      },
    );
    // Expect: 100-continue is answered here, never forwarded: 100 Continue only once the request is admitted
    this.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      const requestId = newRequestId();
      this.handle(req, res, requestId, true).catch((err) => this.fail(res, err, requestId));
    });
    // a full handshake's chain, kept for the sessions resumed from it; emptied with a new ticket key, so no ticket outlives its chain
    this.chains = new SessionChains(() => this.server.setTicketKeys(randomBytes(48)));
    const budget = options.handshakeBudget ?? DEFAULT_HANDSHAKE_BUDGET;
    this.budget = budget.ratePerSecond > 0 ? new HandshakeBudget(budget) : undefined;
    // before capConnections: a source out of budget is closed at accept, before it costs any TLS work or a slot
    this.server.on('connection', (socket: Accepted) => {
      socket[sourceAddress] = socket.remoteAddress;
      if (!this.budget) return;
      const admitted = this.budget.accept(socket.remoteAddress);
      if (admitted === 'refused') socket.destroy();
      else socket[heldToken] = admitted === 'held';
    });
    capConnections(this.server, limits.maxConnections);
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      // a renegotiation attempt gets no HTTP answer: the connection is closed at once
      if (err.code === 'ERR_TLS_RENEGOTIATION_DISABLED' || err.code === 'ERR_TLS_SESSION_ATTACK') socket.destroy();
      else answerClientError(err, socket);
    });
    this.server.on('secureConnection', (socket: TLSSocket) => this.secured(socket));
    // a client that cannot finish its handshake in time is dropped (an 'error' on an unauthenticated socket);
    // one that failed after sending something (a chain, say) is charged to its source
    this.server.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
      const tcp = tcpOf(socket);
      // only a TLS protocol failure is charged: a client that went away (a reset, a timeout) is what a busy server and
      // a pool of ordinary clients behind one address produce too, and charging it locked a benchmark's clients out
      this.budget?.settle(tcp[sourceAddress], tcp[heldToken] === true, tcp.bytesRead > 0 && typeof err.code === 'string' && err.code.startsWith('ERR_SSL'));
      socket.destroy();
    });
  }

  /** A handshake completed: no renegotiation ever; a full handshake's chain kept for its resumptions, and charged if overlong. */
  private secured(socket: TLSSocket): void {
    // client-initiated renegotiation (TLS 1.2) is refused: the attempt is a TLS error, and the connection is closed
    socket.disableRenegotiation();
    const tcp = tcpOf(socket);
    if (socket.isSessionReused()) return this.budget?.settle(tcp[sourceAddress], tcp[heldToken] === true, false);
    const leaf = socket.getPeerX509Certificate();
    // the presentation gets the leaf read here: a second read would lose the intermediates
    const presented = this.rt.state.verdicts.presentedOn(socket, (s) => presentedOn(s, this.chains, leaf));
    const chain = leaf?.issuerCertificate ? presented.chain() : [];
    this.budget?.settle(tcp[sourceAddress], tcp[heldToken] === true, chain.length >= MAX_CHAIN && longerThanRead(leaf!));
    if (chain.length > 1) this.chains.remember(presented.leafFingerprint!()!, chain);
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
    const socket = req.socket as TLSSocket;
    const presented = this.rt.state.verdicts.presentedOn(socket, (s) => presentedOn(s, this.chains));
    const admission = await admitRequest(this.rt, firstRawHeader(req.rawHeaders, 'authorization'), presented);
    if (!admission.admitted) {
      return this.refuse(req, res, requestId, admission.error, admission.reason, admission.owner?.projectId ?? ORGANIZATION_SCOPE, started, expectsContinue, target);
    }
    let headers = this.identity(admission.verdict, admission.owner?.projectId);
    if (admission.owner) {
      const { organizationId, projectId, serviceAccountId } = admission.owner;
      this.traffic.sawClient(organizationId, projectId, serviceAccountId, presented.leafFingerprint?.(), presented.chain, admission.verdict.certificateId);
    }
    const observed = admission.observed;
    if (observed && admission.owner) {
      this.traffic.count(admission.owner.organizationId, observed.scope, observed.wouldRefuse !== null);
      if (observed.wouldRefuse) {
        headers = [...(headers ?? []), WOULD_REFUSE_HEADER, observed.wouldRefuse];
        this.options.log?.({
          msg: 'request would be refused (observe mode)',
          requestId,
          method: req.method,
          path: pathOf(target),
          code: observed.wouldRefuse,
          reason: admission.verdict.refusal?.reason,
        });
      }
    }
    const scope = admission.owner?.projectId ?? ORGANIZATION_SCOPE;
    if (expectsContinue) res.writeContinue();
    this.upstream.forward(req, res, target, requestId, headers, (err) => {
      if (err) {
        // the cause, never the request's headers or query
        const reason = failureReason(err);
        this.options.log?.({ msg: 'request not forwarded', requestId, method: req.method, path: pathOf(target), reason, error: err.message, errorCode: (err as NodeJS.ErrnoException).code });
        if (!res.headersSent) sendError(res, new ApiError('upstream_unavailable', 'The upstream API could not be reached.'), requestId);
        else res.destroy();
        this.options.metrics?.decided('forward_failed', 'upstream_unavailable', reason, scope, started);
      } else if (observed?.wouldRefuse) this.options.metrics?.decided('would_refuse', observed.wouldRefuse, admission.verdict.refusal?.reason ?? NONE, scope, started);
      else this.options.metrics?.decided('admitted', NONE, NONE, scope, started);
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
  ): void {
    this.options.log?.({
      msg: 'request refused',
      requestId,
      method: req.method,
      path: pathOf(target ?? req.url ?? ''),
      status: error.status,
      code: error.code,
      reason,
    });
    // No 100 Continue was sent: the client may or may not send its body, so the connection ends with this answer.
    if (expectsContinue) res.setHeader('connection', 'close');
    // The request body is not wanted; drain it so the connection stays usable (or closes cleanly).
    req.resume();
    sendError(res, error, requestId);
    this.options.metrics?.decided('refused', error.code, reason, scope, started);
  }

  /**
   * x-forwarded-client-cert (Envoy's format) and certgate's ids, for a request admitted with a verified certificate:
   * built once per verdict as a flat [name, value, …] list (a verdict is shared by every request it admits).
   */
  private identity(verdict: Verdict, projectId: string | undefined): string[] | undefined {
    if (!verdict.leaf || !verdict.certificateId || !projectId) return undefined;
    const headers = this.rt.state.verdicts.derivedFrom(verdict, (v) => {
      const made = [FORWARDED_CLIENT_CERT, forwardedClientCert(v.leaf!), PROJECT_ID_HEADER, projectId, CERTIFICATE_ID_HEADER, v.certificateId!];
      const configured = this.options.clientIdHeader;
      const id = configured && clientId(v.leaf!, configured.from);
      if (configured && id !== undefined) made.push(configured.name, id);
      return made;
    });
    // verdicts are reached per project (each project has its own list of anchors in force), so this is the request's project
    if (headers[3] === projectId) return headers;
    const other = [...headers];
    other[3] = projectId;
    return other;
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
    await this.traffic.close();
  }
}
