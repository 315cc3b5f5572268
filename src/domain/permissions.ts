import { ApiError } from './errors.js';
import { PERMISSIONS, type AdminKeyRecord, type Permission } from './model.js';

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

/** OpenAI's answer to a key that lacks a scope: 401, no code, the scope named. */
export function missingPermission(permission: Permission): ApiError {
  return new ApiError(
    'insufficient_permissions',
    `You have insufficient permissions for this operation. Missing scopes: ${permission}. Check that you have the correct role in your organization, and if you're using a restricted API key, that it has the necessary scopes.`,
  );
}
