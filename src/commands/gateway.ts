import { readFileSync } from 'node:fs';
import pino from 'pino';
import type { GatewayConfig } from '../config.js';
import { Gateway } from '../gateway/server.js';
import { saveGatewayCertificate, selfSignedLocalhost } from '../gateway/self-signed.js';
import { listenError } from '../http/listen-error.js';
import { openRuntime, type Runtime, type RuntimeOptions } from '../runtime.js';

export interface RunningGateway {
  readonly url: string;
  readonly gateway: Gateway;
  readonly rt: Runtime;
  close(): Promise<void>;
}

/** certgate gateway: the data plane over the same store as certgate serve. */
export async function startGateway(config: GatewayConfig, options: RuntimeOptions & { quiet?: boolean; tls?: { cert: string; key: string } } = {}): Promise<RunningGateway> {
  const log = pino({ level: options.quiet ? 'silent' : config.logLevel });
  let tls = options.tls;
  let caFile: string | undefined;
  if (!tls && config.tlsCert && config.tlsKey) {
    tls = { cert: readFileSync(config.tlsCert, 'utf8'), key: readFileSync(config.tlsKey, 'utf8') };
  } else if (!tls) {
    tls = await selfSignedLocalhost();
    try {
      caFile = saveGatewayCertificate(config.dataDir, tls.cert);
    } catch (err) {
      log.warn({ dataDir: config.dataDir, error: (err as Error).message }, 'could not write the generated certificate into the data directory');
    }
    log.warn(
      { ca: caFile },
      `no CERTGATE_TLS_CERT/CERTGATE_TLS_KEY given: serving a self-signed certificate for localhost, made for this run only${caFile ? `; clients trust it with ca: ${caFile}` : ''}`,
    );
  }
  const rt = await openRuntime(config, options);
  const gateway = new Gateway(rt, {
    host: config.host,
    port: config.port,
    tls,
    upstreamUrl: config.upstreamUrl,
    upstreamApiKey: config.upstreamApiKey,
    log: (entry) => log.info(entry),
    limits: config.limits,
    ...(config.clientIdHeader ? { clientIdHeader: config.clientIdHeader } : {}),
  });
  let url: string;
  try {
    url = await gateway.listen();
  } catch (err) {
    await gateway.close().catch(() => undefined);
    await rt.close();
    throw listenError(err, config.host, config.port);
  }
  log.info({ url, upstream: new URL(config.upstreamUrl).origin, ...(caFile ? { ca: caFile } : {}) }, caFile ? `gateway listening; its certificate for clients' ca is ${caFile}` : 'gateway listening');
  return {
    url,
    gateway,
    rt,
    async close() {
      await gateway.close();
      await rt.close();
    },
  };
}
