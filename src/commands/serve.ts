import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/app.js';
import type { ServeConfig } from '../config.js';
import { newId } from '../domain/ids.js';
import { DEFAULT_ORGANIZATION_ID } from '../domain/model.js';
import { openRuntime, type Runtime, type RuntimeOptions } from '../runtime.js';
import { startExpiryAlerts } from '../services/expiry-alerts.js';
import { generateKey, hashKey, redactKey } from '../state/keys.js';

/**
 * Makes sure the default organization has an owner key: the one given in the
 * configuration, or, when there is none at all, a new one that is printed
 * once and stored only as a hash.
 */
export async function seedAdminKey(rt: Runtime, adminKey: string | undefined, announce: (text: string) => void): Promise<void> {
  let key = adminKey;
  if (!key) {
    if ((await rt.store.countAdminKeys(DEFAULT_ORGANIZATION_ID)) > 0) return;
    key = generateKey('sk-admin-');
    announce(
      `No admin key was configured, so certgate made one. It is shown only this once; store it now:\n\n    ${key}\n\nUse it as: Authorization: Bearer <key>  (SDK: new OpenAI({ adminAPIKey, baseURL: 'http://HOST:PORT/v1' }))\n`,
    );
  }
  await rt.store.addAdminKey({
    id: newId('key'),
    organizationId: DEFAULT_ORGANIZATION_ID,
    name: adminKey ? 'configured owner key' : 'generated owner key',
    keyHash: hashKey(key),
    redactedValue: redactKey(key),
    createdAt: rt.nowSeconds(),
  });
}

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly rt: Runtime;
  close(): Promise<void>;
}

export async function startServer(
  config: ServeConfig,
  options: RuntimeOptions & { logger?: boolean | object; announce?: (text: string) => void } = {},
): Promise<RunningServer> {
  const rt = await openRuntime(config, options);
  await seedAdminKey(rt, config.adminKey, options.announce ?? ((text) => process.stdout.write(text)));
  const app = await buildApp({ rt, logger: options.logger ?? { level: config.logLevel }, limits: config.limits });
  const stopAlerts = await startExpiryAlerts(rt, config.expiryWarningDays, app.log);
  await app.listen({ host: config.host, port: config.port });
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
