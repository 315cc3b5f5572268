import { readFileSync } from 'node:fs';
import pino from 'pino';
import type { GatewayConfig } from '../config.js';
import { Core } from '../service/core.js';
import { openStore } from '../store/open.js';
import { Gateway } from './server.js';
import { selfSignedLocalhost } from './self-signed.js';

export interface RunningGateway {
  readonly url: string;
  readonly gateway: Gateway;
  close(): Promise<void>;
}

/** certgate gateway: the data plane over the same store as certgate serve. */
export async function startGateway(config: GatewayConfig, options: { quiet?: boolean } = {}): Promise<RunningGateway> {
  const log = pino({ level: options.quiet ? 'silent' : config.logLevel });
  let tls: { cert: string; key: string };
  if (config.tlsCert && config.tlsKey) {
    tls = { cert: readFileSync(config.tlsCert, 'utf8'), key: readFileSync(config.tlsKey, 'utf8') };
  } else {
    tls = await selfSignedLocalhost();
    log.warn('no CERTGATE_TLS_CERT/CERTGATE_TLS_KEY given: serving a self-signed certificate for localhost, made for this run only');
  }
  const store = await openStore(config);
  const core = new Core(store);
  const gateway = new Gateway(core, {
    host: config.host,
    port: config.port,
    tls,
    upstreamUrl: config.upstreamUrl,
    upstreamApiKey: config.upstreamApiKey,
    log: (entry) => log.info(entry),
  });
  const url = await gateway.listen();
  log.info({ url, upstream: new URL(config.upstreamUrl).origin }, 'gateway listening');
  return {
    url,
    gateway,
    async close() {
      await gateway.close();
      core.close();
      await store.close();
    },
  };
}
