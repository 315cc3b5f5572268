import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ServeConfig } from '../config.js';
import { DEFAULT_ORGANIZATION_ID, type Actor } from '../domain/model.js';
import { openRuntime, type Runtime } from '../runtime.js';
import { createAdminKey, ensureConfiguredKey } from '../services/admin-keys.js';
import { writePrivateFile } from '../store/data-dir.js';

// What `serve` does once per deployment before it answers: in a single process, at its start; with --workers,
// in the primary, which loads only this (not the admin API) before it forks.

/** What a server starting on its own acts as, in the audit log. */
const SERVE: Actor = { organizationId: DEFAULT_ORGANIZATION_ID, key: null, local: 'certgate serve' };

/** Where a generated key goes when standard output is not a terminal: a 0600 file in the data directory. */
export const INITIAL_KEY_FILE = 'initial-admin-key';

/** How a generated key reaches the operator: `terminal`, printed there; otherwise written to dataDir/initial-admin-key. */
export interface KeyDelivery {
  readonly dataDir: string;
  readonly terminal: boolean;
}

/**
 * Makes sure the default organization has an owner key: the one given in the configuration, or, when there is
 * none at all, a new one stored only as a hash. The new key is printed only to a terminal: standard output
 * piped to `docker logs`, journald or a file would keep it among the log lines, so there it is written to a
 * 0600 file whose path is announced instead. Both are ordinary keys: listed, deletable.
 */
export async function seedAdminKey(
  rt: Runtime,
  adminKey: string | undefined,
  announce: (text: string) => void,
  warn: (text: string) => void = announce,
  storeFlags = '--data-dir DIR',
  delivery: KeyDelivery = { dataDir: '', terminal: false },
): Promise<void> {
  if (adminKey) {
    const outcome = await ensureConfiguredKey(rt, SERVE, adminKey);
    if (outcome === 'deleted') warn('certgate: CERTGATE_ADMIN_KEY names a key that was deleted through the API; it stays deleted and does not work. Set another value, or unset it.\n');
    return;
  }
  const keyFile = join(delivery.dataDir, INITIAL_KEY_FILE);
  if ((await rt.store.adminKeys(DEFAULT_ORGANIZATION_ID)).length > 0) {
    const where = existsSync(keyFile) ? `, or written to ${keyFile} (delete that file once the key is stored elsewhere)` : '';
    announce(`Admin keys exist; the first one was printed at first start${where}. Lost it? Run \`certgate admin-keys create ${storeFlags}\` (or set CERTGATE_ADMIN_KEY).\n`);
    return;
  }
  const { value } = await createAdminKey(rt, SERVE, { name: 'generated owner key' });
  const use = "Use it as: Authorization: Bearer <key>  (SDK: new OpenAI({ adminAPIKey, baseURL: 'http://HOST:PORT/v1' }))\n";
  if (delivery.terminal) {
    announce(`No admin key was configured, so certgate made one. It is shown only this once; store it now:\n\n    ${value}\n\n${use}`);
    return;
  }
  const file = writePrivateFile(delivery.dataDir || '.', INITIAL_KEY_FILE, `${value}\n`);
  announce(`No admin key was configured, so certgate made one. Standard output is not a terminal, so the key is not shown here: it is in ${file} (mode 0600). Store it, then delete the file. ${use}`);
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
    await seedAdminKey(rt, config.adminKey, announce, announce, storeFlags(config), { dataDir: config.dataDir, terminal: process.stdout.isTTY === true });
  } finally {
    await rt.close();
  }
}

