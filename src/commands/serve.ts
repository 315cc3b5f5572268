import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/app.js';
import type { ServeConfig } from '../config.js';
import { DEFAULT_ORGANIZATION_ID, type Actor } from '../domain/model.js';
import { createAdminKey, ensureConfiguredKey } from '../services/admin-keys.js';
import { isLead } from '../metrics/cluster.js';
import { listenError } from '../http/listen-error.js';
import { openRuntime, type Runtime, type RuntimeOptions } from '../runtime.js';
import { startExpiryAlerts } from '../services/expiry-alerts.js';

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
function storeFlags(config: ServeConfig): string {
  if (config.databaseUrl) return '--database-url "$CERTGATE_DATABASE_URL"';
  return `--data-dir ${/^[\w./-]+$/.test(config.dataDir) ? config.dataDir : JSON.stringify(config.dataDir)}`;
}

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly rt: Runtime;
  close(): Promise<void>;
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

export async function startServer(
  config: ServeConfig,
  options: RuntimeOptions & { logger?: boolean | object; announce?: (text: string) => void; prepared?: boolean } = {},
): Promise<RunningServer> {
  const rt = await openRuntime(config, options);
  const announce = options.announce ?? ((text: string) => process.stdout.write(text));
  // a worker's primary has seeded the keys already (workers doing it at once would each make one)
  if (!options.prepared) await seedAdminKey(rt, config.adminKey, announce, announce, storeFlags(config));
  const app = await buildApp({ rt, logger: options.logger ?? { level: config.logLevel }, limits: config.limits });
  const stopAlerts = isLead() ? await startExpiryAlerts(rt, config.expiryWarningDays, app.log) : () => undefined;
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    stopAlerts();
    await app.close();
    await rt.close();
    throw listenError(err, config.host, config.port);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    app,
    rt,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    async close() {
      stopAlerts();
      await app.close();
      await rt.close();
    },
  };
}
