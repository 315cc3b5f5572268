import { readFileSync } from 'node:fs';
import pino from 'pino';
import type { GatewayConfig } from '../config.js';
import { parseTrustedProxies } from '../gateway/forwarded.js';
import { Gateway } from '../gateway/server.js';
import { startLine } from './start-line.js';
import { IngressFront } from '../authz/front.js';
import { freeSocket, ingressFrontOptions, ingressLine } from './ingress.js';
import { listenError } from '../http/listen-error.js';
import type { GatewayMetrics } from '../metrics/gateway.js';
import type { MetricsListener } from '../metrics/listener.js';
import { isLead, isWorker } from '../metrics/roles.js';
import { openRuntime, type Runtime, type RuntimeOptions } from '../runtime.js';
import { startExpiryAlerts } from '../services/expiry-alerts.js';
import { watchUnusableAnchors } from '../services/unusable-anchors.js';

export interface RunningGateway {
  readonly url: string;
  /** the metrics listener's URL, when --metrics-port is set */
  readonly metricsUrl: string | undefined;
  readonly gateway: Gateway;
  readonly rt: Runtime;
  close(): Promise<void>;
}

/** Reads every anchor in force (CRLs included) of every organization, before the first request. */
export async function warmAnchors(rt: Runtime): Promise<void> {
  for (const organizationId of await rt.store.organizationIds()) await rt.anchors.warm(await rt.snapshot(organizationId));
}

/** certgate gateway: the data plane over the same store as certgate serve. */
export async function startGateway(config: GatewayConfig, options: RuntimeOptions & { quiet?: boolean; tls?: { cert: string; key: string } } = {}): Promise<RunningGateway> {
  const log = pino({ level: options.quiet ? 'silent' : config.logLevel });
  let tls = options.tls;
  let caFile: string | undefined;
  if (config.ingress) {
    // behind an ingress: plain HTTP, no certificate of its own
    tls = undefined;
  } else if (!tls && config.tlsCert && config.tlsKey) {
    tls = { cert: readFileSync(config.tlsCert, 'utf8'), key: readFileSync(config.tlsKey, 'utf8') };
  } else if (!tls) {
    // a port in use is found before the data directory gains a certificate
    const [{ probePort }, { keptCertificate, keptCertificateLine }] = await Promise.all([import('./workers.js'), import('../gateway/self-signed.js')]);
    await probePort(config.host, config.port);
    const kept = await keptCertificate(config.dataDir);
    tls = kept;
    caFile = kept.certFile;
    log.warn({ ca: caFile, key: kept.keyFile, made: kept.made, not_after: kept.notAfter.toISOString() }, keptCertificateLine(kept));
  }
  const rt = await openRuntime(config, options);
  // every anchor in force read (CRLs included) before the first client is taken: the first request is answered as
  // fast as the hundredth. A store that cannot be read now is left to the requests, which serve what they can.
  await warmAnchors(rt).catch((err: unknown) => log.warn({ error: (err as Error).message }, 'could not read the trust anchors ahead of the first request'));
  // one line per anchor this version cannot read, at start and on every change (one process of a set of workers)
  const stopWatch = isLead() ? await watchUnusableAnchors(rt, log) : () => undefined;
  const expiryAlerts = isLead() ? await startExpiryAlerts(rt, config.expiryWarningDays, log) : () => undefined;
  const stopAlerts = () => {
    expiryAlerts();
    stopWatch();
  };
  // metrics cost the data plane nothing unless they are asked for: prom-client is not even loaded
  let registry: import('prom-client').Registry | undefined;
  let gatewayMetrics: GatewayMetrics | undefined;
  let metrics: MetricsListener | undefined;
  if (config.metrics) {
    const [{ runtimeRegistry }, { shareMetrics }, { GatewayMetrics }, { MetricsListener }] = await Promise.all([
      import('../metrics/registry.js'),
      import('../metrics/cluster.js'),
      import('../metrics/gateway.js'),
      import('../metrics/listener.js'),
    ]);
    registry = runtimeRegistry(rt);
    shareMetrics(registry);
    gatewayMetrics = new GatewayMetrics(registry);
    // with --workers, the primary listens for the metrics of all of them
    if (!isWorker()) metrics = new MetricsListener(registry, config.metrics.host, config.metrics.port);
  }
  // with --workers the primary made way for the socket before forking (the socket it then listens on is live)
  if (config.ingress?.socket && !isWorker()) await freeSocket(config.ingress.socket);
  const gateway = new Gateway(rt, {
    host: config.host,
    port: config.port,
    socket: config.ingress?.socket,
    ...(tls ? { tls } : {}),
    ...(config.ingress ? { ingress: new IngressFront(rt, ingressFrontOptions(config.ingress)) } : {}),
    upstreamUrl: config.upstreamUrl,
    upstreamApiKey: config.upstreamApiKey,
    log: (entry) => log.info(entry),
    limits: config.limits,
    handshakeBudget: config.handshakeBudget,
    ...(config.clientIdHeader ? { clientIdHeader: config.clientIdHeader } : {}),
    ...(gatewayMetrics ? { metrics: gatewayMetrics } : {}),
    ...(config.trustedProxies ? { trustedProxies: parseTrustedProxies(config.trustedProxies) } : {}),
  });
  const metricsUrl = await metrics?.listen().catch(async (err: unknown) => {
    stopAlerts();
    await rt.close();
    throw listenError(err, config.metrics!.host, config.metrics!.port, { host: '--metrics-host', port: '--metrics-port' });
  });
  if (metricsUrl) log.info({ metrics: metricsUrl }, 'metrics listening (plain HTTP, no authentication: keep it on a private address)');
  let url: string;
  try {
    url = await gateway.listen();
  } catch (err) {
    stopAlerts();
    await metrics?.close();
    await gateway.close().catch(() => undefined);
    await rt.close();
    throw listenError(err, config.host, config.port);
  }
  const mode = config.ingress ? { behindIngress: true, ...ingressLine(config.ingress) } : {};
  log.info(
    startLine(config, url, { upstream: new URL(config.upstreamUrl).origin, ...mode, ...(metricsUrl ? { metrics: metricsUrl } : {}), ...(caFile ? { ca: caFile } : {}) }),
    caFile ? `gateway listening; its certificate for clients' ca is ${caFile}` : config.ingress ? 'gateway listening behind an ingress (plain HTTP)' : 'gateway listening',
  );
  return {
    url,
    metricsUrl,
    gateway,
    rt,
    async close() {
      stopAlerts();
      await metrics?.close();
      await gateway.close();
      await rt.close();
    },
  };
}
