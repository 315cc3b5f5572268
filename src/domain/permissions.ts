import { ApiError } from './errors.js';
import { PERMISSIONS, type Actor, type AdminKeyRecord, type Permission } from './model.js';

// What an admin key may do. A key holds a list of OpenAI-style scope names, or
// none at all, which makes it an owner key with every permission. Write grants
// read of the same thing, as OpenAI's console does when "Write" is chosen.

const IMPLIED: Partial<Record<Permission, Permission>> = {
  'api.mtls.write': 'api.mtls.read',
  'api.management.write': 'api.management.read',
};

/** Every permission a key's stored list grants (null: all). */
export function grantedBy(permissions: readonly Permission[] | null): ReadonlySet<Permission> {
  if (permissions === null) return new Set(PERMISSIONS);
  const granted = new Set<Permission>(permissions);
  for (const p of permissions) {
    const implied = IMPLIED[p];
    if (implied) granted.add(implied);
  }
  return granted;
}

export function isOwnerKey(key: Pick<AdminKeyRecord, 'permissions'>): boolean {
  return key.permissions === null || PERMISSIONS.every((p) => grantedBy(key.permissions).has(p));
}

/** A create request's `permissions`: known names, at least one, each once. */
export function checkPermissions(value: readonly string[]): Permission[] {
  if (value.length === 0) throw new ApiError('invalid_value', 'permissions must name at least one permission; leave it out for an owner key with all of them.', 'permissions');
  const seen = new Set<string>();
  for (const p of value) {
    if (!(PERMISSIONS as readonly string[]).includes(p)) {
      throw new ApiError('invalid_value', `Unknown permission ${JSON.stringify(p.slice(0, 80))}: use ${PERMISSIONS.join(', ')}.`, 'permissions');
    }
    if (seen.has(p)) throw new ApiError('invalid_value', `The permission ${p} is named twice.`, 'permissions');
    seen.add(p);
  }
  return value as Permission[];
}

/** OpenAI's answer to a key that lacks scopes: 401, no code, the scopes named; `why`, when given, says which rule. */
export function missingPermission(permission: Permission | readonly Permission[], why = ''): ApiError {
  const missing = typeof permission === 'string' ? permission : permission.join(', ');
  return new ApiError(
    'insufficient_permissions',
    `You have insufficient permissions for this operation. Missing scopes: ${missing}. ${why}Check that you have the correct role in your organization, and if you're using a restricted API key, that it has the necessary scopes.`,
  );
}

/** What an actor may do: an admin key's permissions; a local operator (the server, the CLI on the store) holds the store itself. */
export function heldBy(by: Actor): ReadonlySet<Permission> {
  if (by.key === null) return grantedBy(null);
  return by.permissions ?? new Set(); // a key whose permissions were not passed along may do nothing here
}

/**
 * Permissions cannot grow: a key may create or delete only a key whose permissions (with what they imply) are all
 * its own. A key with no `permissions` holds them all, so only an owner key makes or removes an owner key, as only
 * organization owners manage admin keys at OpenAI.
 */
export function checkMayManageKey(by: Actor, target: readonly Permission[] | null, action: 'create' | 'delete'): void {
  const held = heldBy(by);
  const missing = PERMISSIONS.filter((p) => grantedBy(target).has(p) && !held.has(p));
  if (missing.length === 0) return;
  const what = target === null ? 'an owner key (every permission)' : 'a key with permissions';
  throw missingPermission(missing, `To ${action} ${what} a key must hold every permission it grants. `);
}
