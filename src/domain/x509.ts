import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { ApiError } from './errors.js';
import { containsPrivateKey, pemBlocks, sha256Hex, toPem } from './pem.js';
import { firstFailure, type Rule } from './rules.js';

/** What certgate needs to know about one X.509 certificate, read once. */
export interface CertificateFacts {
  readonly der: Buffer;
  readonly pem: string;
  readonly fingerprint: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** undefined when there is no Basic Constraints extension */
  readonly isCa: boolean | undefined;
  /** KeyUsageFlags bits, undefined when there is no Key Usage extension */
  readonly keyUsage: number | undefined;
  /** OIDs, undefined when there is no Extended Key Usage extension */
  readonly extendedKeyUsage: readonly string[] | undefined;
  readonly subjectKeyId: string | undefined;
  /** key identifier form only; undefined when absent or issuer/serial form */
  readonly authorityKeyId: string | undefined;
  readonly publicKeyAlgorithm: string;
}

export const KeyUsage = x509.KeyUsageFlags;
export const CLIENT_AUTH_OID = x509.ExtendedKeyUsage.clientAuth;

export class MalformedCertificate extends Error {}

/** Parses DER into facts; throws MalformedCertificate when it is not an X.509 certificate. */
export function readCertificate(der: Buffer): CertificateFacts {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(new Uint8Array(der.buffer, der.byteOffset, der.byteLength) as Uint8Array<ArrayBuffer>);
  } catch {
    throw new MalformedCertificate('the data is not a DER-encoded X.509 certificate');
  }
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  const extended = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  const algorithm = cert.publicKey.algorithm as { name?: string };
  return {
    der,
    pem: toPem('CERTIFICATE', der),
    fingerprint: sha256Hex(der),
    subject: cert.subject,
    issuer: cert.issuer,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    isCa: basic ? basic.ca : undefined,
    keyUsage: usage ? usage.usages : undefined,
    extendedKeyUsage: extended ? extended.usages.map(String) : undefined,
    subjectKeyId: ski?.keyId || undefined,
    authorityKeyId: aki?.keyId || undefined,
    publicKeyAlgorithm: algorithm.name ?? 'unknown',
  };
}

export const MAX_CERTIFICATE_BYTES = 16 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface AnchorCandidate {
  readonly facts: CertificateFacts;
  readonly now: Date;
}

/** OpenAI's requirements on an uploaded CA certificate, in the order they are checked. */
export const trustAnchorRules: readonly Rule<AnchorCandidate>[] = [
  {
    name: 'basic_constraints_ca',
    check: ({ facts }) =>
      facts.isCa === true ? undefined : 'The certificate is not a CA: it needs the Basic Constraints extension with CA:TRUE.',
  },
  {
    name: 'subject_key_identifier',
    check: ({ facts }) => (facts.subjectKeyId ? undefined : 'The certificate has no Subject Key Identifier extension.'),
  },
  {
    name: 'authority_key_identifier',
    check: ({ facts }) =>
      facts.authorityKeyId ? undefined : 'The certificate needs an Authority Key Identifier extension in key-identifier form.',
  },
  {
    name: 'key_usage_cert_sign',
    check: ({ facts }) => {
      const bits = facts.keyUsage ?? 0;
      return bits & KeyUsage.keyCertSign && bits & KeyUsage.cRLSign
        ? undefined
        : 'The certificate needs the Key Usage extension with both Certificate Sign and CRL Sign.';
    },
  },
  {
    name: 'not_expiring_within_a_day',
    check: ({ facts, now }) =>
      facts.notAfter.getTime() - now.getTime() > DAY_MS
        ? undefined
        : `The certificate expires at ${facts.notAfter.toISOString()}, within one day of the upload: upload one that stays valid longer.`,
  },
];

/**
 * Reads an uploaded trust anchor: the first certificate of the payload, which
 * must meet every rule above. Throws ApiError(invalid_certificate) otherwise.
 */
export function readTrustAnchor(payload: string, now: Date, param = 'certificate'): CertificateFacts {
  if (Buffer.byteLength(payload, 'utf8') >= MAX_CERTIFICATE_BYTES) {
    throw new ApiError('invalid_certificate', 'The certificate payload must be smaller than 16 KiB.', param);
  }
  if (containsPrivateKey(payload)) {
    throw new ApiError(
      'invalid_certificate',
      'The payload contains a private key. Upload only the CA certificate: a private key must never leave its owner, and certgate does not store it.',
      param,
    );
  }
  const first = pemBlocks(payload).find((block) => block.label === 'CERTIFICATE');
  if (!first) {
    throw new ApiError('invalid_certificate', 'No PEM-encoded certificate (-----BEGIN CERTIFICATE-----) was found in the payload.', param);
  }
  let facts: CertificateFacts;
  try {
    facts = readCertificate(first.der);
  } catch (err) {
    if (err instanceof MalformedCertificate) {
      throw new ApiError('invalid_certificate', 'The PEM block could not be parsed as an X.509 certificate.', param);
    }
    throw err;
  }
  const failure = firstFailure(trustAnchorRules, { facts, now });
  if (failure) throw new ApiError('invalid_certificate', failure.message, param);
  return facts;
}
