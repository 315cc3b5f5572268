import pino from 'pino';
import type { DecideConfig } from '../config.js';
import { DecisionService } from '../authz/decide.js';
import { listenError } from '../http/listen-error.js';
import type { GatewayMetrics } from '../metrics/gateway.js';
import type { MetricsListener } from '../metrics/listener.js';
import { isLead, isWorker } from '../metrics/roles.js';
import { openRuntime, type Runtime, type RuntimeOptions } from '../runtime.js';
import { startExpiryAlerts } from '../services/expiry-alerts.js';
import { watchUnusableAnchors } from '../services/unusable-anchors.js';
import { warmAnchors } from './gateway.js';
import { freeSocket, ingressFrontOptions, ingressLine } from './ingress.js';
import { startLine } from './start-line.js';

export interface RunningDecisionService {
  readonly url: string;
  readonly metricsUrl: string | undefined;
  readonly service: DecisionService;
  readonly rt: Runtime;
  close(): Promise<void>;
}

/** certgate decide: the decision service for an ingress's forward-auth, over the same store as certgate serve. */
export async function startDecisionService(config: DecideConfig, options: RuntimeOptions & { quiet?: boolean } = {}): Promise<RunningDecisionService> {
  const log = pino({ level: options.quiet ? 'silent' : config.logLevel });
  const rt = await openRuntime(config, options);
  await warmAnchors(rt).catch((err: unknown) => log.warn({ error: (err as Error).message }, 'could not read the trust anchors ahead of the first request'));
  // one line per anchor this version cannot read, at start and on every change (one process of a set of workers)
  const stopWatch = isLead() ? await watchUnusableAnchors(rt, log) : () => undefined;
  const expiryAlerts = isLead() ? await startExpiryAlerts(rt, config.expiryWarningDays, log) : () => undefined;
  const stopAlerts = () => {
    expiryAlerts();
    stopWatch();
  };
  let gatewayMetrics: GatewayMetrics | undefined;
  let metrics: MetricsListener | undefined;
  if (config.metrics) {
    const [{ runtimeRegistry }, { shareMetrics }, { GatewayMetrics }, { MetricsListener }] = await Promise.all([
      import('../metrics/registry.js'),
      import('../metrics/cluster.js'),
      import('../metrics/gateway.js'),
      import('../metrics/listener.js'),
    ]);
    const registry = runtimeRegistry(rt);
    shareMetrics(registry);
    gatewayMetrics = new GatewayMetrics(registry);
    // with --workers, the primary listens for the metrics of all of them
    if (!isWorker()) metrics = new MetricsListener(registry, config.metrics.host, config.metrics.port);
  }
  // with --workers the primary made way for the socket before forking
  if (config.ingress.socket && !isWorker()) await freeSocket(config.ingress.socket);
  const service = new DecisionService(rt, {
    host: config.host,
    port: config.port,
    socket: config.ingress.socket,
    ingress: ingressFrontOptions(config.ingress),
    log: (entry) => log.info(entry),
    limits: config.limits,
    clientIdHeader: config.clientIdHeader,
    metrics: gatewayMetrics,
  });
  const metricsUrl = await metrics?.listen().catch(async (err: unknown) => {
    stopAlerts();
    await rt.close();
    throw listenError(err, config.metrics!.host, config.metrics!.port, { host: '--metrics-host', port: '--metrics-port' });
  });
  if (metricsUrl) log.info({ metrics: metricsUrl }, 'metrics listening (plain HTTP, no authentication: keep it on a private address)');
  let url: string;
  try {
    url = await service.listen();
  } catch (err) {
    stopAlerts();
    await metrics?.close();
    await service.close().catch(() => undefined);
    await rt.close();
    throw listenError(err, config.host, config.port);
  }
  log.info(startLine(config, url, { ...ingressLine(config.ingress), ...(metricsUrl ? { metrics: metricsUrl } : {}) }), 'decision service listening');
  return {
    url,
    metricsUrl,
    service,
    rt,
    async close() {
      stopAlerts();
      await metrics?.close();
      await service.close();
      await rt.close();
    },
  };
}
