import { DEFAULT_ORGANIZATION_ID, PERMISSIONS, type Actor } from '../../domain/model.js';
import { openRuntime } from '../../runtime.js';
import { createAdminKey } from '../../services/admin-keys.js';
import { StoreMissing } from '../../store/store.js';
import { CliError } from './context.js';

// `certgate admin-keys create --data-dir DIR | --database-url URL`: for an operator locked out of the API (every
// owner key lost), a new key written straight into the store, with its `api_key.created` event. No server call.

const CLI: Actor = { organizationId: DEFAULT_ORGANIZATION_ID, key: null, local: 'certgate admin-keys create' };

export async function createKeyInStore(
  place: { dataDir?: string | undefined; databaseUrl?: string | undefined },
  key: { name: string; expiresInSeconds?: number | undefined; permissions?: string[] | undefined },
) {
  // A mistyped directory must not quietly become a new, empty store whose key opens nothing.
  const rt = await openRuntime({ dataDir: place.dataDir ?? '', databaseUrl: place.databaseUrl }, { existing: true }).catch((err: unknown) => {
    throw err instanceof StoreMissing ? new CliError(err.message) : err;
  });
  try {
    const { record, value } = await createAdminKey(rt, CLI, key);
    return {
      object: 'organization.admin_api_key',
      id: record.id,
      name: record.name,
      redacted_value: record.redactedValue,
      created_at: record.createdAt,
      expires_at: record.expiresAt,
      last_used_at: record.lastUsedAt,
      permissions: record.permissions ?? [...PERMISSIONS],
      value,
    };
  } finally {
    await rt.close();
  }
}
