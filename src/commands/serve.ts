import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/app.js';
import type { ServeConfig } from '../config.js';
import { isLead } from '../metrics/roles.js';
import { listenError } from '../http/listen-error.js';
import { openRuntime, type Runtime, type RuntimeOptions } from '../runtime.js';
import { startLine } from './start-line.js';
import { startAuditRetention } from '../services/audit-retention.js';
import { startExpiryAlerts } from '../services/expiry-alerts.js';
import { watchUnusableAnchors } from '../services/unusable-anchors.js';
import { dataDirWarning } from '../store/data-dir.js';
import { seedAdminKey, storeFlags } from './seed.js';
import { readServerTls } from './tls-files.js';
import { probePort } from './workers.js';

export { seedAdminKey } from './seed.js';


export interface RunningServer {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly rt: Runtime;
  close(): Promise<void>;
}

export async function startServer(
  config: ServeConfig,
  options: RuntimeOptions & {
    logger?: boolean | object;
    announce?: (text: string) => void;
    prepared?: boolean;
    /** where `announce` writes is a terminal, so a generated key may be shown (default: whether stdout is one) */
    terminal?: boolean;
  } = {},
): Promise<RunningServer> {
  const tls = config.tlsCert && config.tlsKey ? readServerTls(config.tlsCert, config.tlsKey) : undefined;
  // nothing is created or printed (the store, a first key) before the port is known to be free; a worker's primary checked it
  if (!options.prepared) await probePort(config.host, config.port);
  const rt = await openRuntime(config, options);
  const announce = options.announce ?? ((text: string) => process.stdout.write(text));
  // a worker's primary has seeded the keys already (workers doing it at once would each make one)
  const terminal = options.terminal ?? process.stdout.isTTY === true;
  if (!options.prepared) await seedAdminKey(rt, config.adminKey, announce, announce, storeFlags(config), { dataDir: config.dataDir, terminal });
  const app = await buildApp({ rt, logger: options.logger ?? { level: config.logLevel }, limits: config.limits, tls });
  const loose = isLead() && !config.databaseUrl ? dataDirWarning(config.dataDir) : undefined;
  if (loose) app.log.warn({ dataDir: config.dataDir }, loose);
  const stopAlerts = isLead() ? await startExpiryAlerts(rt, config.expiryWarningDays, app.log) : () => undefined;
  // one line per anchor this version cannot read, at start and on every change (one process of a set of workers)
  const stopWatch = isLead() ? await watchUnusableAnchors(rt, app.log) : () => undefined;
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    stopAlerts();
    stopWatch();
    await app.close();
    await rt.close();
    throw listenError(err, config.host, config.port);
  }
  // one process of a set of workers prunes (the others would only find the same rows gone)
  const stopRetention = isLead() && config.auditRetentionDays !== undefined ? startAuditRetention(rt, config.auditRetentionDays, app.log) : async () => undefined;
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `${tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  app.log.info(startLine(config, url), 'certgate serve started');
  return {
    app,
    rt,
    url,
    async close() {
      stopAlerts();
      stopWatch();
      await stopRetention();
      await app.close();
      await rt.close();
    },
  };
}
