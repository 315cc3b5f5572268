import type { RefusalCode, Verdict } from '../domain/checks/client.js';
import { ApiError } from '../domain/errors.js';
import type { ProjectKeyOwner } from '../domain/model.js';
import { projectNotFound } from '../domain/projects.js';
import { bearerToken, invalidKey, missingKey } from '../http/bearer.js';
import type { Runtime } from '../runtime.js';
import type { OrganizationSnapshot } from '../state/snapshot.js';
import type { Presented } from '../state/verdicts.js';

// The one admission decision. The gateway, the verify endpoint and
// `certgate verify` all ask it, so they cannot disagree:
//   bearer key → project → anchors in force (project's, then organization's)
//   → client-certificate checks → the accepting anchor's filter → verdict.
// What it reads (keys, snapshots, verdicts) comes from the runtime's state,
// which decides what may be served from memory and when it must catch up.

export type { Presented } from '../state/verdicts.js';

/** In a scope in observe mode: the scope counted, and the code enforcing would have answered (null: it would admit). */
export interface Observed {
  readonly scope: string;
  readonly wouldRefuse: RefusalCode | null;
}

export type Admission =
  | { readonly admitted: true; readonly verdict: Verdict; readonly owner: ProjectKeyOwner | null; readonly observed?: Observed }
  | { readonly admitted: false; readonly error: ApiError; readonly reason: string; readonly verdict: Verdict | null; readonly owner?: ProjectKeyOwner | null };

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

const UNKNOWN_KEY = 'a project key (sk-svcacct-...) of a project behind this gateway';

/** A request at the gateway: its Authorization header names the project. */
export async function admitRequest(rt: Runtime, authorization: string | undefined, presented: Presented): Promise<Admission> {
  const key = await rt.state.projectKey(authorization, presented.connection, bearerToken);
  if (key === 'no_key') return refused(missingKey(), 'no_key');
  if (key === 'unknown_key') return refused(invalidKey(UNKNOWN_KEY), 'unknown_key');
  const { owner, snapshot } = key;
  const project = snapshot.project(owner.projectId);
  if (!project || project.archivedAt !== null) return unusableProject(ARCHIVED, owner);
  // a project key lives and dies with its service account: gone from the snapshot, it is refused (outages included)
  if (!snapshot.serviceAccount(owner.serviceAccountId)) return refused(invalidKey(UNKNOWN_KEY), 'unknown_key');
  const verdict = rt.state.verdicts.of(presented, rt.anchors.inForce(snapshot, owner.projectId), rt.now());
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
  if (scope.projectId !== null && !snapshot.project(scope.projectId)) throw projectNotFound(scope.projectId);
  return admitInSnapshot(rt, snapshot, scope.projectId, presented);
}

/**
 * The same decision against a snapshot the caller holds: the lockout preview asks it of the organization as it is
 * and as a change would leave it. A project that is not in the snapshot, or archived, admits nothing.
 */
export function admitInSnapshot(rt: Runtime, snapshot: OrganizationSnapshot, projectId: string | null, presented: Presented): Admission {
  if (projectId !== null) {
    const project = snapshot.project(projectId);
    if (!project || project.archivedAt !== null) return unusableProject(`Project ${projectId} is ${project ? 'archived' : 'deleted'}; its keys can no longer be used.`);
  }
  const admission = judged(rt.state.verdicts.of(presented, rt.anchors.inForce(snapshot, projectId), rt.now()), null);
  if (projectId === null || !admission.verdict) return admission;
  const project = { name: 'project_usable', passed: true, message: `Project ${projectId} is active.` };
  return { ...admission, verdict: { ...admission.verdict, checks: [project, ...admission.verdict.checks] } };
}

/** The verdict of an admission that reached the checks; the error of one that did not (no key, unknown key). */
export function verdictOf(admission: Admission): Verdict {
  if (admission.verdict) return admission.verdict;
  throw (admission as { error: ApiError }).error;
}
