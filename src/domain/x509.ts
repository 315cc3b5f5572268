import { X509Certificate } from 'node:crypto';
import { certificateExtensions, children, decodeOid, DerError, readTlv } from './der.js';
import { ApiError } from './errors.js';
import { containsPrivateKey, pemBlocks, sha256Hex, toPem } from './pem.js';
import { firstFailure, type Rule } from './rules.js';

/** What certgate needs to know about one X.509 certificate, read once. */
export interface CertificateFacts {
  readonly der: Buffer;
  readonly pem: string;
  readonly fingerprint: string;
  /** node:crypto's view of the same certificate: names, validity, public key, signature checks */
  readonly native: X509Certificate;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** undefined when there is no Basic Constraints extension */
  readonly isCa: boolean | undefined;
  /** KeyUsage bits, undefined when there is no Key Usage extension */
  readonly keyUsage: number | undefined;
  /** OIDs, undefined when there is no Extended Key Usage extension */
  readonly extendedKeyUsage: readonly string[] | undefined;
  /** hex */
  readonly subjectKeyId: string | undefined;
  /** hex; key identifier form only: undefined when absent or issuer/serial form */
  readonly authorityKeyId: string | undefined;
  /** node:crypto's asymmetricKeyType: 'rsa', 'rsa-pss', 'ec', 'ed25519', … */
  readonly publicKeyType: string;
}

/** Key Usage bits, numbered as in RFC 5280 §4.2.1.3 (bit 0, digitalSignature, is 1). */
export const KeyUsage = {
  digitalSignature: 1,
  nonRepudiation: 2,
  keyEncipherment: 4,
  dataEncipherment: 8,
  keyAgreement: 16,
  keyCertSign: 32,
  cRLSign: 64,
  encipherOnly: 128,
  decipherOnly: 256,
} as const;

export const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

const OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extendedKeyUsage: '2.5.29.37',
} as const;

export class MalformedCertificate extends Error {}

const hex = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/** SubjectKeyIdentifier ::= OCTET STRING */
function subjectKeyId(value: Uint8Array | undefined): string | undefined {
  if (!value) return undefined;
  const octets = readTlv(value, 0);
  return octets.tag === 0x04 && octets.end > octets.start ? hex(value.subarray(octets.start, octets.end)) : undefined;
}

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, … } */
function authorityKeyId(value: Uint8Array | undefined): string | undefined {
  if (!value) return undefined;
  const keyId = children(value, readTlv(value, 0)).find((field) => field.tag === 0x80);
  return keyId && keyId.end > keyId.start ? hex(value.subarray(keyId.start, keyId.end)) : undefined;
}

/** KeyUsage ::= BIT STRING, bit 0 first (the most significant bit of the first byte) */
function keyUsage(value: Uint8Array | undefined): number | undefined {
  if (!value) return undefined;
  const bits = readTlv(value, 0);
  if (bits.tag !== 0x03) throw new DerError('Key Usage is not a BIT STRING');
  let flags = 0;
  for (let i = bits.start + 1, bit = 0; i < bits.end; i++) {
    for (let mask = 0x80; mask > 0; mask >>= 1, bit++) if (value[i]! & mask) flags |= 1 << bit;
  }
  return flags;
}

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL } */
function isCa(value: Uint8Array | undefined): boolean | undefined {
  if (!value) return undefined;
  const first = children(value, readTlv(value, 0))[0];
  return first !== undefined && first.tag === 0x01 && value[first.start] !== 0;
}

/** ExtKeyUsageSyntax ::= SEQUENCE OF KeyPurposeId (OBJECT IDENTIFIER) */
function extendedKeyUsage(value: Uint8Array | undefined): string[] | undefined {
  if (!value) return undefined;
  return children(value, readTlv(value, 0)).map((oid) => decodeOid(value, oid));
}

/** Parses DER into facts; throws MalformedCertificate when it is not an X.509 certificate. */
export function readCertificate(der: Buffer): CertificateFacts {
  try {
    const native = new X509Certificate(der);
    const extensions = certificateExtensions(der);
    const notBefore = new Date(native.validFrom);
    const notAfter = new Date(native.validTo);
    if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) throw new DerError('unreadable validity');
    return {
      der,
      pem: toPem('CERTIFICATE', der),
      fingerprint: sha256Hex(der),
      native,
      subject: native.subject,
      issuer: native.issuer,
      notBefore,
      notAfter,
      isCa: isCa(extensions.get(OID.basicConstraints)),
      keyUsage: keyUsage(extensions.get(OID.keyUsage)),
      extendedKeyUsage: extendedKeyUsage(extensions.get(OID.extendedKeyUsage)),
      subjectKeyId: subjectKeyId(extensions.get(OID.subjectKeyIdentifier)),
      authorityKeyId: authorityKeyId(extensions.get(OID.authorityKeyIdentifier)),
      publicKeyType: native.publicKey.asymmetricKeyType ?? 'unknown',
    };
  } catch {
    throw new MalformedCertificate('the data is not a DER-encoded X.509 certificate');
  }
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
