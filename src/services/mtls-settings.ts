import { ApiError } from '../domain/errors.js';
import { ORGANIZATION_SCOPE, type Actor, type MtlsMode, type Observations } from '../domain/model.js';
import { projectNotFound, requireUsableProject } from '../domain/projects.js';
import type { Runtime } from '../runtime.js';
import { recordAudit } from './audit-logs.js';

// Observe mode per scope (a certgate extension): in observe, the gateway runs the whole admission and lets
// through what it would have refused, marked and counted, so a rollout can be watched before it bites.

export interface MtlsSettings {
  readonly mode: MtlsMode;
  /** a project without its own setting follows the organization */
  readonly inherited: boolean;
  readonly observations: Observations;
}

export async function getSettings(rt: Runtime, organizationId: string, projectId: string | null): Promise<MtlsSettings> {
  const snapshot = await rt.snapshot(organizationId);
  if (projectId !== null && !snapshot.project(projectId)) throw projectNotFound(projectId);
  const { mode, scope } = snapshot.modeFor(projectId);
  return { mode, inherited: projectId !== null && scope !== projectId, observations: await rt.store.observations(organizationId, scope) };
}

/** Sets a scope's mode; a project's `null` returns it to the organization's. */
export async function setMode(rt: Runtime, by: Actor, projectId: string | null, mode: MtlsMode | null): Promise<MtlsSettings> {
  if (mode === null && projectId === null) throw new ApiError('invalid_value', "The organization's mode is enforce or observe; only a project's may be null (follow the organization).", 'mode');
  const now = rt.nowSeconds();
  await rt.write(by, async (tx) => {
    const project = projectId === null ? null : requireUsableProject(projectId, await tx.project(projectId));
    await tx.setMode(projectId ?? ORGANIZATION_SCOPE, mode, now);
    await recordAudit(tx, { type: 'mtls_settings.updated', project, resourceIds: project ? [project.id] : [], details: { scope: projectId ?? ORGANIZATION_SCOPE, mode } });
  });
  return getSettings(rt, by.organizationId, projectId);
}
