import type { FastifyInstance } from 'fastify';
import { buildApp } from './api/app.js';
import type { ServeConfig } from './config.js';
import { newId } from './domain/ids.js';
import { Core } from './service/core.js';
import { generateKey, hashKey, redactKey } from './service/keys.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';

export const DEFAULT_ORGANIZATION_ID = 'org-default';

/**
 * Makes sure the default organization exists and has an owner key: the one
 * given in the configuration, or, when there is none at all, a new one that is
 * printed once and stored only as a hash.
 */
export async function seedOrganization(store: Store, adminKey: string | undefined, announce: (text: string) => void): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  await store.ensureOrganization(DEFAULT_ORGANIZATION_ID, 'Default organization', now);
  let key = adminKey;
  if (!key) {
    if ((await store.countAdminKeys(DEFAULT_ORGANIZATION_ID)) > 0) return;
    key = generateKey('sk-admin-');
    announce(
      `No admin key was configured, so certgate made one. It is shown only this once; store it now:\n\n    ${key}\n\nUse it as: Authorization: Bearer <key>  (SDK: new OpenAI({ adminAPIKey, baseURL: 'http://HOST:PORT/v1' }))\n`,
    );
  }
  await store.addAdminKey({
    id: newId('key'),
    organizationId: DEFAULT_ORGANIZATION_ID,
    name: adminKey ? 'configured owner key' : 'generated owner key',
    keyHash: hashKey(key),
    redactedValue: redactKey(key),
    createdAt: now,
  });
}

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly url: string;
  close(): Promise<void>;
}

export async function startServer(config: ServeConfig, options: { logger?: boolean | object; announce?: (text: string) => void } = {}): Promise<RunningServer> {
  const store = await openStore(config);
  await seedOrganization(store, config.adminKey, options.announce ?? ((text) => process.stdout.write(text)));
  const core = new Core(store);
  const app = await buildApp({ core, logger: options.logger ?? { level: config.logLevel } });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    app,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    async close() {
      await app.close();
      core.close();
      await store.close();
    },
  };
}
