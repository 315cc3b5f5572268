import { ApiError } from '../domain/errors.js';
import { idSeconds, newId, shownId } from '../domain/ids.js';
import { PERMISSIONS, type Actor, type AdminKeyRecord } from '../domain/model.js';
import { checkName } from '../domain/names.js';
import { paginate, type Page, type PageRequest } from '../domain/pagination.js';
import { checkMayManageKey, checkPermissions, isOwnerKey } from '../domain/permissions.js';
import type { Runtime } from '../runtime.js';
import { recordAudit } from './audit-logs.js';
import { generateKey, hashKey, redactKey } from '../state/keys.js';

// Admin API keys, as OpenAI shapes them, plus certgate's `permissions`. A key is
// stored only as a hash; its value is returned once, when it is made.

/** The longest expiry a key may be given: ten years. */
export const MAX_EXPIRES_IN_SECONDS = 10 * 365 * 24 * 3600;

export interface NewAdminKey {
  readonly name: string;
  readonly expiresInSeconds?: number | undefined;
  /** absent: an owner key, with every permission */
  readonly permissions?: readonly string[] | undefined;
  /** a value chosen by the operator (CERTGATE_ADMIN_KEY); absent: a new random one */
  readonly value?: string | undefined;
}

export function adminKeyNotFound(id: string): ApiError {
  return new ApiError('admin_api_key_not_found', `No admin API key found with id ${shownId('key', id)}.`, 'key_id');
}

function checkExpiry(seconds: number | undefined): void {
  if (seconds === undefined) return;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_EXPIRES_IN_SECONDS) {
    throw new ApiError('invalid_value', `expires_in_seconds must be a whole number of seconds from 1 to ${MAX_EXPIRES_IN_SECONDS} (ten years).`, 'expires_in_seconds');
  }
}

/** Makes a key, within the actor's own permissions, and records `api_key.created` in the same transaction. Returns the record and the value, shown once. */
export async function createAdminKey(rt: Runtime, by: Actor, input: NewAdminKey): Promise<{ record: AdminKeyRecord; value: string }> {
  checkExpiry(input.expiresInSeconds);
  const permissions = input.permissions === undefined ? null : checkPermissions(input.permissions);
  checkMayManageKey(by, permissions, 'create');
  const value = input.value ?? generateKey('sk-admin-');
  const id = newId('key');
  const createdAt = idSeconds(id);
  const record: AdminKeyRecord = {
    id,
    name: checkName(input.name),
    redactedValue: redactKey(value),
    createdAt,
    expiresAt: input.expiresInSeconds === undefined ? null : rt.nowSeconds() + input.expiresInSeconds,
    lastUsedAt: null,
    permissions,
  };
  await rt.write(by, async (tx) => {
    await tx.insertAdminKey(record, hashKey(value));
    await recordAudit(tx, { type: 'api_key.created', resourceIds: [id], details: { id, data: { scopes: permissions ?? [...PERMISSIONS] } } });
  });
  return { record, value };
}

/**
 * Stores an operator's configured key (CERTGATE_ADMIN_KEY) unless a key with
 * that value was ever stored: a configured key that was deleted stays deleted.
 * Returns whether it was added.
 */
export async function ensureConfiguredKey(rt: Runtime, by: Actor, value: string): Promise<'added' | 'present' | 'deleted'> {
  const hash = hashKey(value);
  if (await rt.store.adminKeyByHash(hash)) return 'present';
  let outcome: 'added' | 'deleted' = 'added';
  const id = newId('key');
  await rt.write(by, async (tx) => {
    if (await tx.adminKeyHashKnown(hash)) {
      outcome = 'deleted';
      return;
    }
    const record: AdminKeyRecord = { id, name: 'configured owner key', redactedValue: redactKey(value), createdAt: idSeconds(id), expiresAt: null, lastUsedAt: null, permissions: null };
    await tx.insertAdminKey(record, hash);
    await recordAudit(tx, { type: 'api_key.created', resourceIds: [id], details: { id, data: { scopes: [...PERMISSIONS] } } });
  });
  return outcome;
}

export async function listAdminKeys(rt: Runtime, organizationId: string, page: PageRequest): Promise<Page<AdminKeyRecord>> {
  return paginate(await rt.store.adminKeys(organizationId), page);
}

export async function getAdminKey(rt: Runtime, organizationId: string, id: string): Promise<AdminKeyRecord> {
  const found = (await rt.store.adminKeys(organizationId)).find((k) => k.id === id);
  if (!found) throw adminKeyNotFound(id);
  return found;
}

/** Deletes a key at once, if the actor holds every permission it grants; the last owner key cannot go, so the organization is never left without one. */
export async function deleteAdminKey(rt: Runtime, by: Actor, id: string): Promise<void> {
  const now = rt.nowSeconds();
  await rt.write(by, async (tx) => {
    const found = await tx.adminKey(id);
    if (!found) throw adminKeyNotFound(id);
    checkMayManageKey(by, found.permissions, 'delete');
    if (isOwnerKey(found)) {
      const owners = (await tx.adminKeys()).filter((k) => isOwnerKey(k) && (k.expiresAt === null || k.expiresAt > now));
      if (owners.length <= 1 && owners[0]?.id === id) {
        throw new ApiError('last_owner_key', `Admin key ${id} is the organization's last owner key; create another owner key before deleting this one.`, 'key_id');
      }
    }
    await tx.deleteAdminKey(id, now);
    await recordAudit(tx, { type: 'api_key.deleted', resourceIds: [id], details: { id } });
  });
}
