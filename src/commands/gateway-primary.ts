import pino from 'pino';
import { WORKER_TLS_FROM_PRIMARY, type GatewayConfig, type IngressConfig } from '../config.js';
import { listenError } from '../http/listen-error.js';
import type { WorkerTls } from './workers.js';

// The gateway's primary (--workers N) loads only this before it forks: not the data plane, and prom-client or
// @peculiar/x509 only when it serves the metrics or makes the certificate.

/**
 * What a gateway's primary does for its workers (--workers N): reads (or makes, once) the self-signed certificate
 * they all serve, when none is configured, and listens for the metrics of all of them.
 */
export async function prepareGateway(
  config: Pick<GatewayConfig, 'logLevel' | 'dataDir' | 'metrics'> & { tlsCert?: string | undefined; tlsKey?: string | undefined; ingress: IngressConfig | undefined },
): Promise<{ env: Record<string, string>; tls: WorkerTls | undefined; close(): Promise<void> }> {
  const log = pino({ level: config.logLevel });
  const env: Record<string, string> = {};
  let shared: WorkerTls | undefined;
  // behind an ingress (decide, gateway --behind-ingress) there is no certificate to make, and a stale socket to clear
  if (config.ingress?.socket) await (await import('./ingress.js')).freeSocket(config.ingress.socket);
  if (!config.ingress && !(config.tlsCert && config.tlsKey)) {
    const { keptCertificate, keptCertificateLine } = await import('../gateway/self-signed.js');
    const kept = await keptCertificate(config.dataDir);
    log.warn({ ca: kept.certFile, key: kept.keyFile, made: kept.made, not_after: kept.notAfter.toISOString() }, keptCertificateLine(kept));
    const tls = { cert: kept.cert, key: kept.key };
    // the key goes to each worker over IPC when it asks (workers.ts); the environment only says to ask
    env[WORKER_TLS_FROM_PRIMARY] = '1';
    shared = tls;
  }
  if (!config.metrics) return { env, tls: shared, close: async () => undefined };
  const [{ aggregatedSource }, { MetricsListener }] = await Promise.all([import('../metrics/cluster.js'), import('../metrics/listener.js')]);
  const listener = new MetricsListener(aggregatedSource(), config.metrics.host, config.metrics.port);
  const url = await listener.listen().catch((err: unknown) => {
    throw listenError(err, config.metrics!.host, config.metrics!.port, { host: '--metrics-host', port: '--metrics-port' });
  });
  log.info({ metrics: url }, 'metrics of every worker listening (plain HTTP, no authentication: keep it on a private address)');
  return { env, tls: shared, close: () => listener.close() };
}

