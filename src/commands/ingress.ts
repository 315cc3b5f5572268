import { lstatSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { ConfigError, type IngressConfig } from '../config.js';
import type { IngressOptions } from '../authz/front.js';

/** What the ingress front needs of the configuration. */
export function ingressFrontOptions(config: IngressConfig): IngressOptions {
  return { certHeader: config.certHeader, chainHeader: config.chainHeader, secret: config.secret, socket: config.socket !== undefined, loopback: config.trustLoopback };
}

/** What the start line says of the ingress set-up: header names and how the ingress is known, never the secret. */
export function ingressLine(config: IngressConfig): Record<string, unknown> {
  const trust = [...(config.secret ? ['secret'] : []), ...(config.socket ? ['socket'] : []), ...(config.trustLoopback ? ['loopback'] : [])];
  return { certHeader: config.certHeader, chainHeader: config.chainHeader, ingressTrust: trust };
}

/**
 * Makes way for a Unix socket: a socket file nobody listens on (left by a process that died) is removed; one a
 * live process listens on, or a file that is not a socket, is an error.
 */
export async function freeSocket(path: string): Promise<void> {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new ConfigError(`--socket ${JSON.stringify(path)} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new ConfigError(`--socket ${JSON.stringify(path)} is in use by another process`);
  unlinkSync(path);
}
