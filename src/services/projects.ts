import { idSeconds, newId } from '../domain/ids.js';
import type { Actor, ProjectRecord } from '../domain/model.js';
import { paginate, type Page, type PageRequest } from '../domain/pagination.js';
import { ApiError } from '../domain/errors.js';
import { checkName, checkText } from '../domain/names.js';
import { projectNotFound, requireUsableProject } from '../domain/projects.js';
import type { Runtime } from '../runtime.js';
import { recordAudit } from './audit-logs.js';

export async function createProject(
  rt: Runtime,
  by: Actor,
  input: { name: string; external_key_id?: string | null | undefined },
): Promise<ProjectRecord> {
  const id = newId('proj');
  const record: ProjectRecord = {
    id,
    name: checkName(input.name),
    externalKeyId: input.external_key_id == null ? null : checkText(input.external_key_id, 'external_key_id'),
    createdAt: idSeconds(id),
    archivedAt: null,
  };
  await rt.write(by, async (tx) => {
    await tx.insertProject(record);
    await recordAudit(tx, { type: 'project.created', project: record, resourceIds: [id], details: { id, data: { name: record.name, title: record.name } } });
  });
  return record;
}

export async function listProjects(
  rt: Runtime,
  organizationId: string,
  page: PageRequest,
  includeArchived: boolean,
): Promise<Page<ProjectRecord>> {
  const snapshot = await rt.snapshot(organizationId);
  const projects = includeArchived ? snapshot.projects : snapshot.projects.filter((p) => p.archivedAt === null);
  return paginate(projects, page);
}

export async function getProject(rt: Runtime, organizationId: string, id: string): Promise<ProjectRecord> {
  const found = (await rt.snapshot(organizationId)).project(id);
  if (!found) throw projectNotFound(id);
  return found;
}

export async function updateProject(
  rt: Runtime,
  by: Actor,
  id: string,
  input: { name?: string | null | undefined; external_key_id?: string | null | undefined },
): Promise<ProjectRecord> {
  return rt.write(by, async (tx) => {
    const project = requireUsableProject(id, await tx.project(id));
    const patch: { name?: string; externalKeyId?: string | null } = {};
    if (input.name === null) throw new ApiError('invalid_value', 'A project always has a name: name cannot be null.', 'name');
    if (input.name !== undefined) patch.name = checkName(input.name);
    if (input.external_key_id !== undefined) patch.externalKeyId = input.external_key_id === null ? null : checkText(input.external_key_id, 'external_key_id');
    await tx.updateProject(id, patch);
    const updated = { ...project, ...patch };
    const changes: Record<string, unknown> = {};
    if (patch.name !== undefined) changes.title = patch.name;
    if (patch.externalKeyId !== undefined) changes.external_key_id = patch.externalKeyId;
    await recordAudit(tx, { type: 'project.updated', project: updated, resourceIds: [id], details: { id, changes_requested: changes } });
    return updated;
  });
}

/**
 * Archiving is final. An archived project can no longer be used, so its
 * certificate activations are removed in the same transaction: nothing is
 * left enforcing, and its certificates can be deleted.
 */
export async function archiveProject(rt: Runtime, by: Actor, id: string): Promise<ProjectRecord> {
  const archivedAt = rt.nowSeconds();
  return rt.write(by, async (tx) => {
    const project = await tx.project(id);
    if (!project) throw projectNotFound(id);
    await recordAudit(tx, { type: 'project.archived', project, resourceIds: [id], details: { id } });
    if (project.archivedAt !== null) return project;
    await tx.updateProject(id, { archivedAt });
    await tx.deactivateScope(id);
    return { ...project, archivedAt };
  });
}
