import type { ServeConfig } from '../config.js';
import { DEFAULT_ORGANIZATION_ID, type Actor } from '../domain/model.js';
import { openRuntime, type Runtime } from '../runtime.js';
import { createAdminKey, ensureConfiguredKey } from '../services/admin-keys.js';

// What `serve` does once per deployment before it answers: in a single process, at its start; with --workers,
// in the primary, which loads only this (not the admin API) before it forks.

/** What a server starting on its own acts as, in the audit log. */
const SERVE: Actor = { organizationId: DEFAULT_ORGANIZATION_ID, key: null, local: 'certgate serve' };

/**
 * Makes sure the default organization has an owner key: the one given in the
 * configuration, or, when there is none at all, a new one that is printed
 * once and stored only as a hash. Both are ordinary keys: listed, deletable.
 */
export async function seedAdminKey(
  rt: Runtime,
  adminKey: string | undefined,
  announce: (text: string) => void,
  warn: (text: string) => void = announce,
  storeFlags = '--data-dir DIR',
): Promise<void> {
  if (adminKey) {
    const outcome = await ensureConfiguredKey(rt, SERVE, adminKey);
    if (outcome === 'deleted') warn('certgate: CERTGATE_ADMIN_KEY names a key that was deleted through the API; it stays deleted and does not work. Set another value, or unset it.\n');
    return;
  }
  if ((await rt.store.adminKeys(DEFAULT_ORGANIZATION_ID)).length > 0) {
    announce(`Admin keys exist; the first one was printed at first start. Lost it? Run \`certgate admin-keys create ${storeFlags}\` (or set CERTGATE_ADMIN_KEY).\n`);
    return;
  }
  const { value } = await createAdminKey(rt, SERVE, { name: 'generated owner key' });
  announce(
    `No admin key was configured, so certgate made one. It is shown only this once; store it now:\n\n    ${value}\n\nUse it as: Authorization: Bearer <key>  (SDK: new OpenAI({ adminAPIKey, baseURL: 'http://HOST:PORT/v1' }))\n`,
  );
}

/** The flags that name this store, for a command line to show: never the database URL itself (it may hold a password). */
export function storeFlags(config: ServeConfig): string {
  if (config.databaseUrl) return '--database-url "$CERTGATE_DATABASE_URL"';
  return `--data-dir ${/^[\w./-]+$/.test(config.dataDir) ? config.dataDir : JSON.stringify(config.dataDir)}`;
}

/** What a deployment does once before it serves, in the process that starts first: the store migrated, the first key made. */
export async function prepareStore(config: ServeConfig, announce: (text: string) => void = (text) => process.stdout.write(text)): Promise<void> {
  const rt = await openRuntime(config);
  try {
    await seedAdminKey(rt, config.adminKey, announce, announce, storeFlags(config));
  } finally {
    await rt.close();
  }
}

