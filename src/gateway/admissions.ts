import type { IncomingMessage } from 'node:http';
import type { RefusalCode, Verdict } from '../domain/checks/client.js';
import type { ApiError } from '../domain/errors.js';
import { ORGANIZATION_SCOPE } from '../domain/model.js';
import { CERTIFICATE_ID_HEADER, clientId, forwardedClientCert, FORWARDED_CLIENT_CERT, PROJECT_ID_HEADER, type ClientIdSource } from '../domain/identity.js';
import { NONE, type Decision } from '../metrics/decisions.js';
import type { GatewayMetrics } from '../metrics/gateway.js';
import type { Runtime } from '../runtime.js';
import type { Admission, Presented } from '../services/admission.js';
import type { Verdicts } from '../state/verdicts.js';
import { TrafficRecorder } from '../state/traffic.js';

/** Set on a request let through in observe mode (upstream, or in a decision's answer): the code enforcing would have answered. */
export const WOULD_REFUSE_HEADER = 'x-certgate-would-refuse';

/** The headers that carry the verified identity: certgate's to set, every copy a client sends removed. */
export function identityHeaderNames(clientIdHeader: { readonly name: string } | undefined): string[] {
  return [FORWARDED_CLIENT_CERT, PROJECT_ID_HEADER, CERTIFICATE_ID_HEADER, WOULD_REFUSE_HEADER, ...(clientIdHeader ? [clientIdHeader.name] : [])];
}

export interface AdmissionsOptions {
  /** told of each refusal (never a key, header or certificate) */
  readonly log?: ((entry: Record<string, unknown>) => void) | undefined;
  /** counts each decision and times it */
  readonly metrics?: GatewayMetrics | undefined;
  /** one more header carrying the verified client's id (e.g. x-mtls-client-id for LiteLLM), and what it holds */
  readonly clientIdHeader?: { readonly name: string; readonly from: ClientIdSource } | undefined;
}

/** What a front does with a request after admission: send it on with these identity headers, or refuse it. */
export type Judged =
  | {
      readonly admitted: true;
      /** the identity headers, as a flat [name, value, …] list (none when no certificate was verified) */
      readonly headers: readonly string[] | undefined;
      readonly scope: string;
      /** observe mode: the code enforcing would have answered, and why */
      readonly wouldRefuse: RefusalCode | null;
      readonly wouldRefuseReason: string | undefined;
    }
  | { readonly admitted: false; readonly error: ApiError; readonly reason: string; readonly scope: string };

/** A target's path for a log line: never its query (keys travel there), nor an absolute form's authority. */
export function pathOf(target: string): string | undefined {
  if (target.charCodeAt(0) !== 0x2f) return undefined;
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}

/**
 * What every front (the TLS gateway, the gateway behind an ingress, the decision service) does around the one
 * admission decision: asks it, records the client for the lockout preview and observe mode's counts, builds the
 * identity headers, logs refusals and would-be refusals (never a key, header value or certificate), and counts.
 */
export class Admissions {
  private readonly traffic: TrafficRecorder;

  constructor(
    private readonly rt: Runtime,
    private readonly options: AdmissionsOptions,
  ) {
    this.traffic = new TrafficRecorder(rt.store, () => rt.nowSeconds());
  }

  /**
   * What a front does with the admission decision `admitRequest` gave for this request. Synchronous, so that a kept-alive
   * request pays for one asynchronous step less: the caller awaits the decision itself.
   */
  judged(req: IncomingMessage, target: string, requestId: string, presented: Presented, admission: Admission): Judged {
    const scope = admission.owner?.projectId ?? ORGANIZATION_SCOPE;
    if (!admission.admitted) return { admitted: false, error: admission.error, reason: admission.reason, scope };
    let headers = identityHeaders(this.rt.state.verdicts, admission.verdict, admission.owner?.projectId, this.options.clientIdHeader);
    if (admission.owner) {
      const { organizationId, projectId, serviceAccountId } = admission.owner;
      this.traffic.sawClient(organizationId, projectId, serviceAccountId, presented.leafFingerprint?.(), presented.chain, admission.verdict.certificateId);
    }
    const observed = admission.observed;
    let wouldRefuse: RefusalCode | null = null;
    if (observed && admission.owner) {
      this.traffic.count(admission.owner.organizationId, observed.scope, observed.wouldRefuse !== null);
      if (observed.wouldRefuse) {
        wouldRefuse = observed.wouldRefuse;
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
    return { admitted: true, headers, scope, wouldRefuse, wouldRefuseReason: admission.verdict.refusal?.reason };
  }

  /** A refusal, logged (never a key, header or certificate) and counted; `peer` only for a refusal about where the request came from. */
  refused(req: IncomingMessage, requestId: string, error: ApiError, reason: string, scope: string, started: number, target?: string, peer?: string): void {
    this.options.log?.({
      msg: 'request refused',
      requestId,
      method: req.method,
      path: pathOf(target ?? req.url ?? ''),
      status: error.status,
      code: error.code,
      reason,
      ...(peer === undefined ? {} : { peer }),
    });
    this.options.metrics?.decided('refused', error.code, reason, scope, started);
  }

  /** An admission (or observe mode's let-through) counted once its answer is under way. */
  let(judged: Judged & { admitted: true }, started: number): void {
    if (judged.wouldRefuse) this.counted('would_refuse', judged.wouldRefuse, judged.wouldRefuseReason ?? NONE, judged.scope, started);
    else this.counted('admitted', NONE, NONE, judged.scope, started);
  }

  counted(decision: Decision, code: string, reason: string, scope: string, started: number): void {
    this.options.metrics?.decided(decision, code, reason, scope, started);
  }

  close(): Promise<void> {
    return this.traffic.close();
  }
}

/**
 * x-forwarded-client-cert (Envoy's format) and certgate's ids, for a request admitted with a verified certificate:
 * built once per verdict as a flat [name, value, …] list (a verdict is shared by every request it admits).
 */
export function identityHeaders(
  verdicts: Verdicts,
  verdict: Verdict,
  projectId: string | undefined,
  configured: { readonly name: string; readonly from: ClientIdSource } | undefined,
): string[] | undefined {
  if (!verdict.leaf || !verdict.certificateId || !projectId) return undefined;
  const headers = verdicts.derivedFrom(verdict, (v) => {
    const made = [FORWARDED_CLIENT_CERT, forwardedClientCert(v.leaf!), PROJECT_ID_HEADER, projectId, CERTIFICATE_ID_HEADER, v.certificateId!];
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
