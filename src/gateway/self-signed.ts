import 'reflect-metadata';
import { webcrypto, X509Certificate } from 'node:crypto';
import { chmodSync, linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { ConfigError } from '../config.js';
import { pemBlocks, toPem } from '../domain/x509/pem.js';
import { makeDataDir, PRIVATE_FILE_MODE } from '../store/data-dir.js';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** How long the kept certificate is valid: it is made once, and clients trust that very file. */
const VALIDITY_DAYS = 3650;

/** A server certificate for localhost and its key, made in memory. */
export async function selfSignedLocalhost(validityDays = 365): Promise<{ cert: string; key: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: `01${Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex')}`,
    name: 'CN=localhost',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + validityDays * 86_400_000),
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

/** The gateway's certificate alone, for clients to trust (`ca`): public, 0644. */
export const GATEWAY_CERT_FILE = 'gateway-cert.pem';
/** The gateway's private key followed by its certificate, as one file made once: 0600. */
export const GATEWAY_KEY_FILE = 'gateway-key.pem';
const CERT_FILE_MODE = 0o644;

export interface KeptCertificate {
  readonly cert: string;
  readonly key: string;
  /** <dir>/gateway-cert.pem, the file clients pass as `ca` */
  readonly certFile: string;
  readonly keyFile: string;
  /** whether this call made the pair (false: an earlier start, or another process starting now, made it) */
  readonly made: boolean;
  readonly notAfter: Date;
}

// The pair is one file, gateway-key.pem, and that file is the commit point: it is written whole under a name of this
// process's own and linked into place, which fails if the name exists (link(2) never replaces). Of two processes
// starting at once, one links its pair; the other finds the name taken, drops its own pair and reads the winner's. A
// file once there is never written again. gateway-cert.pem is a copy of the certificate in it, for clients: whoever
// writes it writes the same bytes, so it is written (whole, by rename) only when it differs — missing, or the
// per-run certificate an earlier certgate left there without its key.

/**
 * The self-signed certificate and key kept in the data directory for a gateway with no --tls-cert/--tls-key: read
 * if an earlier start (or another process) made them, made once otherwise. A pair that is not usable is an error,
 * never replaced.
 */
export async function keptCertificate(dir: string): Promise<KeptCertificate> {
  makeDataDir(dir);
  const keyFile = join(dir, GATEWAY_KEY_FILE);
  const certFile = join(dir, GATEWAY_CERT_FILE);
  let made = false;
  let text = readIfThere(keyFile);
  if (text === undefined) {
    const fresh = await selfSignedLocalhost(VALIDITY_DAYS);
    made = linkWhole(dir, GATEWAY_KEY_FILE, `${fresh.key}${fresh.cert}`, PRIVATE_FILE_MODE);
    text = readFileSync(keyFile, 'utf8');
  }
  const pair = readPair(text, keyFile);
  if (readIfThere(certFile) !== pair.cert) replaceWhole(dir, GATEWAY_CERT_FILE, pair.cert, CERT_FILE_MODE);
  return { ...pair, certFile, keyFile, made, notAfter: new Date(new X509Certificate(pair.cert).validTo) };
}

/** What the operator hears about the self-signed certificate a gateway serves without --tls-cert/--tls-key. */
export function keptCertificateLine(kept: KeptCertificate): string {
  const expired = kept.notAfter.getTime() <= Date.now() ? ` It EXPIRED on ${kept.notAfter.toISOString()}: remove both files to have a new pair made.` : '';
  return `no CERTGATE_TLS_CERT/CERTGATE_TLS_KEY given: serving the self-signed certificate for localhost kept in the data directory (${kept.made ? 'made now' : 'made at an earlier start'}); clients trust it with ca: ${kept.certFile}.${expired}`;
}

function readIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The key and certificate of gateway-key.pem, checked to belong together. */
function readPair(text: string, file: string): { cert: string; key: string } {
  const blocks = pemBlocks(text);
  const key = blocks.find((b) => b.label === 'PRIVATE KEY');
  const cert = blocks.find((b) => b.label === 'CERTIFICATE');
  const unusable = (why: string) =>
    new ConfigError(`${file} is not a usable key and certificate (${why}); certgate never replaces it: remove it and ${GATEWAY_CERT_FILE} to have a new pair made, or pass --tls-cert/--tls-key`);
  if (!key || !cert) throw unusable('it should hold a PRIVATE KEY and a CERTIFICATE');
  const pair = { key: toPem('PRIVATE KEY', key.der), cert: toPem('CERTIFICATE', cert.der) };
  try {
    createSecureContext(pair); // fails when the key is not the certificate's
  } catch (err) {
    throw unusable((err as Error).message);
  }
  return pair;
}

/** A private name next to the target, for a file written whole before it gets its real name. */
function partialName(dir: string, name: string): string {
  return join(dir, `.${name}.${process.pid}.${Buffer.from(webcrypto.getRandomValues(new Uint8Array(6))).toString('hex')}.tmp`);
}

function writePartial(file: string, text: string, mode: number): void {
  writeFileSync(file, text, { mode, flag: 'wx' });
  chmodSync(file, mode); // whatever the umask
}

/** Gives dir/name the text unless the name exists; answers whether this call gave it. */
function linkWhole(dir: string, name: string, text: string, mode: number): boolean {
  const partial = partialName(dir, name);
  writePartial(partial, text, mode);
  try {
    linkSync(partial, join(dir, name));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(partial);
  }
}

function replaceWhole(dir: string, name: string, text: string, mode: number): void {
  const partial = partialName(dir, name);
  writePartial(partial, text, mode);
  try {
    renameSync(partial, join(dir, name));
  } catch (err) {
    unlinkSync(partial);
    throw err;
  }
}
