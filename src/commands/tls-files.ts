import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../config.js';

/** The certificate and key files --tls-cert and --tls-key name, read before anything else is done. */
export function readServerTls(certFile: string, keyFile: string): { cert: string; key: string } {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read the ${what} ${JSON.stringify(file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const tls = { cert: read(certFile, 'TLS certificate (--tls-cert)'), key: read(keyFile, 'TLS key (--tls-key)') };
  try {
    createSecureContext(tls);
  } catch (err) {
    throw new ConfigError(`--tls-cert and --tls-key are not a usable certificate and key: ${(err as Error).message}`);
  }
  return tls;
}
