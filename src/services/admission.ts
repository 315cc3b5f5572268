import { verifyClient, type RefusalCode, type Verdict } from '../domain/checks/client.js';
import { OVER_BUDGET } from '../domain/checks/filter.js';
import { ApiError } from '../domain/errors.js';
import type { ProjectKeyOwner } from '../domain/model.js';
import { projectNotFound } from '../domain/projects.js';
import type { TrustAnchor } from '../domain/trust-anchor.js';
import { bearerToken, invalidKey, missingKey } from '../http/bearer.js';
import type { Runtime } from '../runtime.js';

// The one admission decision. The gateway, the verify endpoint and
// `certgate verify` all ask it, so they cannot disagree:
//   bearer key → project → anchors in force (project's, then organization's)
//   → client-certificate checks → the accepting anchor's filter → verdict.
// Verdicts are cached here and nowhere else, keyed on everything they depend
// on: the anchor list (rebuilt whenever an activation, a certificate or a
// filter changes), the connection or the leaf, and the clock.

/** A client certificate as presented: the chain, and where it came from. */
export interface Presented {
  /** leaf first, DER */
  chain(): readonly Buffer[];
  /** the TLS connection it arrived on: its certificate cannot change, so its verdict is kept on it */
  readonly connection?: object;
  /** SHA-256 of the leaf, to share direct acceptances across a client's connections */
  leafFingerprint?(): string | undefined;
}

/** In a scope in observe mode: the scope counted, and the code enforcing would have answered (null: it would admit). */
export interface Observed {
  readonly scope: string;
  readonly wouldRefuse: RefusalCode | null;
}

export type Admission =
  | { readonly admitted: true; readonly verdict: Verdict; readonly owner: ProjectKeyOwner | null; readonly observed?: Observed }
  | { readonly admitted: false; readonly error: ApiError; readonly reason: string; readonly verdict: Verdict | null; readonly owner?: ProjectKeyOwner | null };

const perConnection = new WeakMap<object, { anchors: readonly TrustAnchor[]; verdict: Verdict }>();
/** A kept-alive connection sends the same Authorization header request after request: resolved once per key generation. */
const keyOnConnection = new WeakMap<object, { header: string; generation: number; owner: ProjectKeyOwner }>();
const sharedAcceptances = new WeakMap<readonly TrustAnchor[], Map<string, Verdict>>();
const MAX_SHARED_VERDICTS = 10_000;

function cachedVerdict(presented: Presented, anchors: readonly TrustAnchor[], now: Date): Verdict {
  const at = now.getTime();
  const kept = presented.connection && perConnection.get(presented.connection);
  if (kept && kept.anchors === anchors && at <= kept.verdict.until) return kept.verdict;
  const fingerprint = presented.leafFingerprint?.();
  let shared = sharedAcceptances.get(anchors);
  let verdict = fingerprint ? shared?.get(fingerprint) : undefined;
  if (!verdict || at > verdict.until) {
    verdict = verifyClient(presented.chain(), anchors, now);
    // Only a leaf an anchor issued directly is judged by the leaf alone; a path through intermediates depends on what else was sent.
    if (fingerprint && verdict.accepted && verdict.direct) {
      if (!shared) sharedAcceptances.set(anchors, (shared = new Map()));
      if (shared.size >= MAX_SHARED_VERDICTS) shared.clear();
      shared.set(fingerprint, verdict);
    }
  }
  // A transient failure is asked again on the next request, never remembered; a filter over its budget of work is not
  // transient (the same leaf and filter always are), so it is kept like a refusal.
  const transient = verdict.refusal?.code === 'authentication_temporarily_unavailable' && !verdict.refusal.message.includes(OVER_BUDGET);
  if (presented.connection && !transient) {
    perConnection.set(presented.connection, { anchors, verdict });
  }
  return verdict;
}

function judged(verdict: Verdict, owner: ProjectKeyOwner | null): Admission {
  if (!verdict.refusal) return { admitted: true, verdict, owner };
  const { code, reason, message } = verdict.refusal;
  return { admitted: false, error: new ApiError(code, `${message} (reason: ${reason})`), reason, verdict, owner };
}

const refused = (error: ApiError, reason: string): Admission => ({ admitted: false, error, reason, verdict: null });

const ARCHIVED = 'The project is archived or deleted; its keys can no longer be used.';

/** Project stage, the same for every caller: a project that is gone or archived admits nothing (OpenAI answers 401 for its keys). */
function unusableProject(message: string, owner: ProjectKeyOwner | null = null): Admission {
  const verdict: Verdict = {
    required: true,
    accepted: false,
    scope: null,
    certificateId: null,
    refusal: { code: 'invalid_api_key', reason: 'archived_project', message },
    checks: [{ name: 'project_usable', passed: false, message }],
    until: Infinity,
    direct: false,
    leaf: null,
  };
  return { admitted: false, error: new ApiError('invalid_api_key', message), reason: 'archived_project', verdict, owner };
}

/** The project key a request carries, resolved once per connection and key generation; or the refusal. */
async function projectKeyOf(rt: Runtime, authorization: string | undefined, connection: object | undefined): Promise<{ owner: ProjectKeyOwner; generation: number } | Admission> {
  const generation = rt.keys.generation;
  const kept = connection && keyOnConnection.get(connection);
  if (kept && kept.header === authorization && kept.generation === generation) return { owner: kept.owner, generation };
  const token = bearerToken(authorization);
  if (!token) return refused(missingKey(), 'no_key');
  const owner = await rt.keys.projectKey(token);
  if (!owner) return refused(invalidKey('a project key (sk-svcacct-...) of a project behind this gateway'), 'unknown_key');
  if (connection) keyOnConnection.set(connection, { header: authorization!, generation, owner });
  return { owner, generation };
}

/** A request at the gateway: its Authorization header names the project. */
export async function admitRequest(rt: Runtime, authorization: string | undefined, presented: Presented): Promise<Admission> {
  let key = await projectKeyOf(rt, authorization, presented.connection);
  if ('admitted' in key) return key;
  let snapshot = await rt.snapshot(key.owner.organizationId);
  if (key.generation !== rt.keys.generation) {
    // bringing the snapshot up to date found keys changed: the key is asked about again
    key = await projectKeyOf(rt, authorization, presented.connection);
    if ('admitted' in key) return key;
    snapshot = await rt.snapshot(key.owner.organizationId);
  }
  const owner = key.owner;
  if (!snapshot.project(owner.projectId)) snapshot = await rt.reload(owner.organizationId);
  const project = snapshot.project(owner.projectId);
  if (!project || project.archivedAt !== null) return unusableProject(ARCHIVED, owner);
  const verdict = cachedVerdict(presented, rt.anchors.inForce(snapshot, owner.projectId), rt.now());
  const { mode, scope } = snapshot.modeFor(owner.projectId);
  if (mode === 'observe' && verdict.required) {
    // the whole pipeline ran; in observe mode its refusal is reported, not enforced
    return { admitted: true, verdict, owner, observed: { scope, wouldRefuse: verdict.refusal?.code ?? null } };
  }
  return judged(verdict, owner);
}

/**
 * "Would this chain be admitted here?": the verify endpoint and the CLI name
 * the scope themselves. An unknown project id is the caller's mistake (404
 * project_not_found); an archived project gets the gateway's own answer.
 */
export async function admitInScope(rt: Runtime, scope: { organizationId: string; projectId: string | null }, presented: Presented): Promise<Admission> {
  const snapshot = await rt.snapshot(scope.organizationId);
  if (scope.projectId !== null) {
    const project = snapshot.project(scope.projectId);
    if (!project) throw projectNotFound(scope.projectId);
    if (project.archivedAt !== null) return unusableProject(`Project ${scope.projectId} is archived; its keys can no longer be used.`);
  }
  const admission = judged(cachedVerdict(presented, rt.anchors.inForce(snapshot, scope.projectId), rt.now()), null);
  if (scope.projectId === null || !admission.verdict) return admission;
  const project = { name: 'project_usable', passed: true, message: `Project ${scope.projectId} is active.` };
  return { ...admission, verdict: { ...admission.verdict, checks: [project, ...admission.verdict.checks] } };
}

/** The verdict of an admission that reached the checks; the error of one that did not (no key, unknown key). */
export function verdictOf(admission: Admission): Verdict {
  if (admission.verdict) return admission.verdict;
  throw (admission as { error: ApiError }).error;
}
