import { serviceAccountNotFound } from '../domain/service-accounts.js';
import { idSeconds, newId } from '../domain/ids.js';
import type { Actor, ServiceAccountRecord } from '../domain/model.js';
import { paginate, type Page, type PageRequest } from '../domain/pagination.js';
import { checkName } from '../domain/names.js';
import { projectNotFound, requireUsableProject } from '../domain/projects.js';
import type { Runtime } from '../runtime.js';
import { recordAudit } from './audit-logs.js';
import { generateKey, hashKey, redactKey } from '../state/keys.js';

export interface CreatedServiceAccount {
  readonly account: ServiceAccountRecord;
  /** the key in clear, returned once and never stored */
  readonly apiKey: { readonly id: string; readonly value: string } | null;
}


/** A service account with a project key (sk-svcacct-…), or without one when asked. */
export async function createServiceAccount(
  rt: Runtime,
  by: Actor,
  projectId: string,
  input: { name: string; create_service_account_only?: boolean | null },
): Promise<CreatedServiceAccount> {
  const id = newId('svc_acct');
  const keyless = input.create_service_account_only === true;
  const account: ServiceAccountRecord = {
    id,
    projectId,
    name: checkName(input.name),
    role: keyless ? 'none' : 'member',
    createdAt: idSeconds(id),
  };
  const value = keyless ? null : generateKey('sk-svcacct-');
  const key = value === null ? null : { id: newId('key'), keyHash: hashKey(value), redactedValue: redactKey(value) };
  await rt.write(by, async (tx) => {
    const project = requireUsableProject(projectId, await tx.project(projectId));
    await tx.insertServiceAccount(account, key);
    await recordAudit(tx, { type: 'service_account.created', project, resourceIds: [id], details: { id, data: { role: account.role } } });
  });
  return { account, apiKey: key && value ? { id: key.id, value } : null };
}

async function projectAccounts(rt: Runtime, organizationId: string, projectId: string) {
  const snapshot = await rt.snapshot(organizationId);
  if (!snapshot.project(projectId)) throw projectNotFound(projectId);
  return snapshot.serviceAccounts.filter((a) => a.projectId === projectId);
}

export async function listServiceAccounts(rt: Runtime, organizationId: string, projectId: string, page: PageRequest): Promise<Page<ServiceAccountRecord>> {
  return paginate(await projectAccounts(rt, organizationId, projectId), page);
}

export async function getServiceAccount(rt: Runtime, organizationId: string, projectId: string, id: string): Promise<ServiceAccountRecord> {
  const found = (await projectAccounts(rt, organizationId, projectId)).find((a) => a.id === id);
  if (!found) throw serviceAccountNotFound(id);
  return found;
}

/** Only the name and the role (member or owner) change. */
export async function updateServiceAccount(
  rt: Runtime,
  by: Actor,
  projectId: string,
  id: string,
  input: { name?: string; role?: 'member' | 'owner' },
): Promise<ServiceAccountRecord> {
  return rt.write(by, async (tx) => {
    const project = requireUsableProject(projectId, await tx.project(projectId));
    const found = await tx.serviceAccount(id);
    if (!found || found.projectId !== projectId) throw serviceAccountNotFound(id);
    const patch: { name?: string; role?: string } = {};
    if (input.name !== undefined) patch.name = checkName(input.name);
    if (input.role !== undefined) patch.role = input.role;
    await tx.updateServiceAccount(id, patch);
    await recordAudit(tx, { type: 'service_account.updated', project, resourceIds: [id], details: { id, changes_requested: patch } });
    return { ...found, ...patch };
  });
}

/** Deleting a service account deletes its key with it: the key stops working at once. */
export async function deleteServiceAccount(rt: Runtime, by: Actor, projectId: string, id: string): Promise<void> {
  await rt.write(by, async (tx) => {
    const project = await tx.project(projectId);
    if (!project) throw projectNotFound(projectId);
    const found = await tx.serviceAccount(id);
    if (!found || found.projectId !== projectId) throw serviceAccountNotFound(id);
    await tx.deleteServiceAccount(id);
    await recordAudit(tx, { type: 'service_account.deleted', project, resourceIds: [id], details: { id } });
  });
}
