// A test PKI, made at test time: CAs, intermediates and client certificates
// with exactly the extensions a test wants. Nothing here is ever written to
// the repository.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { toPem } from '../../src/domain/x509/pem.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const DAY = 24 * 60 * 60 * 1000;

export type KeyKind = 'ec' | 'rsa';

export interface Issued {
  readonly cert: x509.X509Certificate;
  /** the certificate as PEM */
  readonly pem: string;
  /** PKCS#8 private key as PEM, for TLS clients in tests */
  readonly keyPem: string;
  readonly keys: CryptoKeyPair;
  readonly kind: KeyKind;
}

export interface CertOptions {
  /** common name */
  name?: string;
  /** signed by this one; self-signed when absent */
  issuer?: Issued;
  /** Basic Constraints CA flag; null leaves the extension out */
  ca?: boolean | null;
  keyUsage?: number | null;
  /** Extended Key Usage OIDs; null leaves the extension out */
  eku?: string[] | null;
  ski?: boolean;
  aki?: boolean;
  /** write this certificate's key identifier into the Authority Key Identifier instead of the real issuer's (forgeries) */
  akiOf?: Issued;
  notBefore?: Date;
  notAfter?: Date;
  key?: KeyKind;
  dnsNames?: string[];
  /** the whole subject, e.g. 'CN=w1, OU=Production, O=Example' (instead of CN=name), or as JSON for values a string cannot write (`[{ CN: ['a\nb'] }]`) */
  subject?: string | x509.JsonName;
  /** subject alternative names of any kind */
  sans?: x509.JsonGeneralName[];
  /** Basic Constraints pathLenConstraint */
  pathLength?: number;
  /** further extensions, as given (raw, crafted, repeated: whatever a test needs) */
  extra?: x509.Extension[];
}

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;

let serial = 1;

export async function issue(options: CertOptions = {}): Promise<Issued> {
  const kind = options.key ?? 'ec';
  const algorithm = kind === 'ec' ? EC : RSA;
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const issuer = options.issuer;
  const signingKey = issuer ? issuer.keys.privateKey : keys.privateKey;
  const signingAlgorithm = issuer ? (issuer.kind === 'ec' ? EC : RSA) : algorithm;
  const name = options.subject ?? `CN=${options.name ?? 'certgate test'}`;
  const extensions: x509.Extension[] = [];
  if (options.ca !== null) extensions.push(new x509.BasicConstraintsExtension(options.ca ?? false, options.pathLength, true));
  if (options.keyUsage !== null && options.keyUsage !== undefined) extensions.push(new x509.KeyUsagesExtension(options.keyUsage, true));
  if (options.eku !== null && options.eku !== undefined) extensions.push(new x509.ExtendedKeyUsageExtension(options.eku));
  if (options.ski !== false) extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
  if (options.aki !== false) {
    const named = options.akiOf ?? issuer;
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(named ? named.keys.publicKey : keys.publicKey));
  }
  const sans = [...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })), ...(options.sans ?? [])];
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
  extensions.push(...(options.extra ?? []));
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(8, '0') + Math.floor(Math.random() * 1e8).toString(16).padStart(8, '0'),
    subject: name,
    issuer: issuer ? issuer.cert.subject : name,
    notBefore: options.notBefore ?? new Date(now - DAY),
    notAfter: options.notAfter ?? new Date(now + 365 * DAY),
    signingAlgorithm,
    publicKey: keys.publicKey,
    signingKey,
    extensions,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = toPem('PRIVATE KEY', pkcs8);
  return { cert, pem: cert.toString('pem') + '\n', keyPem, keys, kind };
}

export const CA_USAGE = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;
export const CLIENT_USAGE = x509.KeyUsageFlags.digitalSignature;
export const CLIENT_AUTH = x509.ExtendedKeyUsage.clientAuth;
export const SERVER_AUTH = x509.ExtendedKeyUsage.serverAuth;
export const KeyUsageFlags = x509.KeyUsageFlags;
export const Extension = x509.Extension;

/** A CA certificate that meets every upload rule unless options say otherwise. */
export function makeCa(options: CertOptions = {}): Promise<Issued> {
  return issue({ name: 'certgate test CA', ca: true, keyUsage: CA_USAGE, ...options });
}

/** A client certificate that meets every client rule unless options say otherwise. */
export function makeClient(issuer: Issued, options: CertOptions = {}): Promise<Issued> {
  const keyUsage = (options.key ?? 'ec') === 'rsa' ? CLIENT_USAGE | x509.KeyUsageFlags.keyEncipherment : CLIENT_USAGE;
  return issue({ name: 'certgate test client', issuer, ca: false, keyUsage, eku: [CLIENT_AUTH], ...options });
}

/** A CRL signed by `issuer`, listing the serials of `revoked` (and any extra serials given as hex). */
export async function makeCrl(
  issuer: Issued,
  options: { revoked?: Issued[]; serials?: string[]; thisUpdate?: Date; nextUpdate?: Date | null; signedBy?: Issued } = {},
): Promise<string> {
  const signer = options.signedBy ?? issuer;
  const now = Date.now();
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.cert.subject,
    thisUpdate: options.thisUpdate ?? new Date(now - 60_000),
    ...(options.nextUpdate === null ? {} : { nextUpdate: options.nextUpdate ?? new Date(now + 7 * DAY) }),
    entries: [...(options.revoked ?? []).map((c) => c.cert.serialNumber), ...(options.serials ?? [])].map((serialNumber) => ({ serialNumber, revocationDate: new Date(now - 120_000) })),
    signingKey: signer.keys.privateKey,
    signingAlgorithm: signer.kind === 'ec' ? EC : RSA,
  });
  return crl.toString('pem');
}
