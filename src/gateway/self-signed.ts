import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { toPem } from '../domain/x509/pem.js';
import { writePrivateFile } from '../store/data-dir.js';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A throwaway server certificate for localhost, made in memory when no TLS files are configured. */
export async function selfSignedLocalhost(): Promise<{ cert: string; key: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex'),
    name: 'CN=localhost',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 365 * 86_400_000),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { cert: cert.toString('pem'), key: toPem('PRIVATE KEY', pkcs8) };
}

/** Where the gateway leaves its generated certificate for clients to trust (`ca`), in the data directory. */
export const GATEWAY_CERT_FILE = 'gateway-cert.pem';

/**
 * Writes the generated certificate (never its key) into dir, whole or not at all, and answers its path: the file
 * a client passes as `ca` (curl --cacert, undici's connect.ca) to reach this gateway without -k.
 */
export function saveGatewayCertificate(dir: string, cert: string): string {
  // like every file of the data directory, 0600 in a 0700 directory: the user certgate runs as reads it
  return writePrivateFile(dir, GATEWAY_CERT_FILE, cert);
}
