import { X509Certificate } from 'node:crypto';
import { readPublicKeySize, readSignatureAlgorithm, type SignatureAlgorithm } from './algorithms.js';
import { bytes, children, DerError, expectTag, readBitString, readBoolean, readOid, readSmallUnsigned, readWhole, Tag } from './der.js';
import { readGeneralNames, readName, readNameConstraints, type DistinguishedName, type GeneralName, type NameConstraints } from './names.js';
import { sha256Hex, toPem } from './pem.js';

/** What certgate knows about one X.509 certificate, read once. */
export interface CertificateFacts {
  readonly der: Buffer;
  readonly pem: string;
  readonly fingerprint: string;
  /** node:crypto's view of the same certificate: validity, public key, signature checks, CA flag, EKU */
  readonly native: X509Certificate;
  /** node:crypto's one-line forms, for messages and name chaining */
  readonly subject: string;
  readonly issuer: string;
  readonly subjectName: DistinguishedName;
  /** the subject and issuer are the same name */
  readonly selfIssued: boolean;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Basic Constraints CA flag; undefined when there is no Basic Constraints extension */
  readonly isCa: boolean | undefined;
  /** Basic Constraints pathLenConstraint, when present */
  readonly pathLength: number | undefined;
  /** Key Usage bits (see KeyUsage), undefined when there is no Key Usage extension */
  readonly keyUsage: number | undefined;
  /** Extended Key Usage OIDs, undefined when there is no Extended Key Usage extension */
  readonly extendedKeyUsage: readonly string[] | undefined;
  /** hex */
  readonly subjectKeyId: string | undefined;
  /** hex; key identifier form only: undefined when absent or issuer/serial form */
  readonly authorityKeyId: string | undefined;
  readonly subjectAltNames: readonly GeneralName[];
  readonly nameConstraints: NameConstraints | undefined;
  /** OIDs of extensions marked critical that certgate does not process */
  readonly unhandledCritical: readonly string[];
  /** node:crypto's asymmetricKeyType: 'rsa', 'rsa-pss', 'ec', 'ed25519', … */
  readonly publicKeyType: string;
  /** the modulus length of an RSA key, the size of a DSA key's p */
  readonly publicKeyBits: number | undefined;
  /** the named curve of an EC key, in OpenSSL's names ('prime256v1', 'secp384r1', …); undefined for explicit parameters */
  readonly publicKeyCurve: string | undefined;
  /** the algorithm the issuer signed this certificate with */
  readonly signatureAlgorithm: SignatureAlgorithm;
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

export const ExtendedKeyUsageOid = {
  clientAuth: '1.3.6.1.5.5.7.3.2',
  any: '2.5.29.37.0',
} as const;

export const ExtensionOid = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extendedKeyUsage: '2.5.29.37',
} as const;

/**
 * The extensions certgate acts on; a critical extension outside this set makes
 * a certificate unusable (RFC 5280 §4.2). Certificate policies are read and,
 * as OpenSSL and Go do by default, not enforced.
 */
const PROCESSED: ReadonlySet<string> = new Set(Object.values(ExtensionOid));

export class MalformedCertificate extends Error {}

interface BasicConstraints {
  readonly ca: boolean;
  readonly pathLength: number | undefined;
}

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL } */
function basicConstraints(value: Uint8Array): BasicConstraints {
  const fields = children(value, readWhole(value, Tag.sequence));
  let at = 0;
  let ca = false;
  if (fields[at]?.tag === Tag.boolean) ca = readBoolean(value, fields[at++]!);
  const pathLength = fields[at] ? readSmallUnsigned(value, fields[at++]!) : undefined;
  if (at !== fields.length) throw new DerError('unexpected field in Basic Constraints');
  if (pathLength !== undefined && !ca) throw new DerError('pathLenConstraint on a certificate that is not a CA');
  return { ca, pathLength };
}

/** KeyUsage ::= BIT STRING, bit 0 first (the most significant bit of the first byte) */
function keyUsage(value: Uint8Array): number {
  const { bits } = readBitString(value, readWhole(value));
  if (bits.length > 2) throw new DerError('Key Usage longer than its nine bits');
  let flags = 0;
  for (let i = 0, bit = 0; i < bits.length; i++) {
    for (let mask = 0x80; mask > 0; mask >>= 1, bit++) if (bits[i]! & mask) flags |= 1 << bit;
  }
  return flags;
}

/** ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId */
function extendedKeyUsage(value: Uint8Array): string[] {
  const oids = children(value, readWhole(value, Tag.sequence)).map((oid) => readOid(value, oid));
  if (oids.length === 0) throw new DerError('empty Extended Key Usage');
  return oids;
}

/** SubjectKeyIdentifier ::= OCTET STRING */
function subjectKeyId(value: Uint8Array): string | undefined {
  const octets = readWhole(value, Tag.octetString);
  return octets.end > octets.start ? bytes(value, octets).toString('hex') : undefined;
}

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] OPTIONAL, authorityCertIssuer [1] OPTIONAL, authorityCertSerialNumber [2] OPTIONAL } */
function authorityKeyId(value: Uint8Array): string | undefined {
  const fields = children(value, readWhole(value, Tag.sequence));
  let last = -1;
  let keyId: string | undefined;
  for (const field of fields) {
    const index = field.tag === 0x80 ? 0 : field.tag === 0xa1 ? 1 : field.tag === 0x82 ? 2 : -1;
    if (index <= last) throw new DerError('malformed Authority Key Identifier');
    last = index;
    if (index === 0 && field.end > field.start) keyId = bytes(value, field).toString('hex');
  }
  return keyId;
}

interface Extension {
  readonly critical: boolean;
  readonly value: Uint8Array;
}

/** Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension; each OID at most once. */
function readExtensions(der: Uint8Array, wrapper: { tag: number; start: number; end: number }): Map<string, Extension> {
  const lists = children(der, wrapper);
  if (lists.length !== 1) throw new DerError('malformed extensions');
  const extensions = new Map<string, Extension>();
  const items = children(der, expectTag(lists[0]!, Tag.sequence));
  if (items.length === 0) throw new DerError('empty extensions');
  for (const item of items) {
    const fields = children(der, expectTag(item, Tag.sequence));
    if (!fields[0]) throw new DerError('empty extension');
    const oid = readOid(der, fields[0]);
    let at = 1;
    let critical = false;
    if (fields[at]?.tag === Tag.boolean) critical = readBoolean(der, fields[at++]!);
    const value = fields[at++];
    if (!value || at !== fields.length) throw new DerError(`malformed extension ${oid}`);
    expectTag(value, Tag.octetString);
    if (extensions.has(oid)) throw new DerError(`extension ${oid} appears more than once`);
    extensions.set(oid, { critical, value: bytes(der, value) });
  }
  return extensions;
}

/**
 * Parses DER into facts. Throws MalformedCertificate when the bytes are not one
 * strictly DER-encoded X.509 certificate, or when certgate's reading of a
 * field and node:crypto's (OpenSSL's) would differ.
 */
export function readCertificate(der: Buffer): CertificateFacts {
  try {
    return read(der);
  } catch (err) {
    throw new MalformedCertificate(err instanceof DerError ? err.message : 'the data is not a DER-encoded X.509 certificate');
  }
}

function read(der: Buffer): CertificateFacts {
  const certificate = readWhole(der, Tag.sequence);
  const top = children(der, certificate);
  if (top.length !== 3) throw new DerError('a certificate has three parts');
  const tbs = children(der, expectTag(top[0]!, Tag.sequence));
  const at = tbs[0]?.tag === 0xa0 ? 1 : 0;
  const issuerTlv = tbs[at + 2];
  const subjectTlv = tbs[at + 4];
  if (!issuerTlv || !subjectTlv || !tbs[at + 5]) throw new DerError('truncated TBSCertificate');
  const rest = tbs.slice(at + 6);
  let extensions = new Map<string, Extension>();
  let lastOptional = 0;
  for (const field of rest) {
    const index = field.tag === 0x81 || field.tag === 0xa1 ? 1 : field.tag === 0x82 || field.tag === 0xa2 ? 2 : field.tag === 0xa3 ? 3 : -1;
    if (index <= lastOptional) throw new DerError('unexpected field in TBSCertificate');
    lastOptional = index;
    if (index === 3) extensions = readExtensions(der, field);
  }
  const signatureAlgorithm = readSignatureAlgorithm(der, top[1]!);
  const keySize = readPublicKeySize(der, tbs[at + 5]!);
  const subjectName = readName(der, subjectTlv);
  readName(der, issuerTlv);

  const native = new X509Certificate(der);
  const notBefore = new Date(native.validFrom);
  const notAfter = new Date(native.validTo);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) throw new DerError('unreadable validity');

  const value = (oid: string) => extensions.get(oid)?.value;
  const bc = value(ExtensionOid.basicConstraints);
  const constraints = bc ? basicConstraints(bc) : undefined;
  const ku = value(ExtensionOid.keyUsage);
  const usage = ku ? keyUsage(ku) : undefined;
  // node:crypto's CA flag is OpenSSL's X509_check_ca: Basic Constraints CA:TRUE, and Key Usage (when present)
  // allowing Certificate Sign, on extensions OpenSSL found valid. A reading of ours that differs is refused.
  const caByOurReading = constraints?.ca === true && (usage === undefined || (usage & KeyUsage.keyCertSign) !== 0);
  if (caByOurReading !== native.ca) throw new DerError('Basic Constraints read differently by OpenSSL');
  const eku = value(ExtensionOid.extendedKeyUsage);
  const ekuOids = eku ? extendedKeyUsage(eku) : undefined;
  const nativeEku = native.keyUsage as string[] | undefined;
  if (ekuOids && (!nativeEku || nativeEku.length !== ekuOids.length || ekuOids.some((oid) => !nativeEku.includes(oid)))) {
    throw new DerError('Extended Key Usage read differently by OpenSSL');
  }
  const ski = value(ExtensionOid.subjectKeyIdentifier);
  const aki = value(ExtensionOid.authorityKeyIdentifier);
  const san = value(ExtensionOid.subjectAltName);
  const nc = value(ExtensionOid.nameConstraints);
  const policies = value(ExtensionOid.certificatePolicies);
  if (policies) children(policies, readWhole(policies, Tag.sequence));

  return {
    der,
    pem: toPem('CERTIFICATE', der),
    fingerprint: sha256Hex(der),
    native,
    subject: native.subject,
    issuer: native.issuer,
    subjectName,
    selfIssued: Buffer.compare(bytes(der, subjectTlv), bytes(der, issuerTlv)) === 0,
    notBefore,
    notAfter,
    isCa: constraints?.ca,
    pathLength: constraints?.pathLength,
    keyUsage: usage,
    extendedKeyUsage: nativeEku && ekuOids ? nativeEku : undefined,
    subjectKeyId: ski ? subjectKeyId(ski) : undefined,
    authorityKeyId: aki ? authorityKeyId(aki) : undefined,
    subjectAltNames: san ? readGeneralNames(san) : [],
    nameConstraints: nc ? readNameConstraints(nc) : undefined,
    unhandledCritical: [...extensions].filter(([oid, e]) => e.critical && !PROCESSED.has(oid)).map(([oid]) => oid),
    publicKeyType: native.publicKey.asymmetricKeyType ?? 'unknown',
    publicKeyBits: keySize.bits,
    publicKeyCurve: keySize.curve,
    signatureAlgorithm,
  };
}

/** Did `issuer` sign `child`? Key identifiers first (cheap), then names, then the signature. */
export function issued(issuer: CertificateFacts, child: CertificateFacts): boolean {
  if (issuer.subjectKeyId !== child.authorityKeyId) return false;
  if (issuer.subject !== child.issuer) return false;
  try {
    return child.native.verify(issuer.native.publicKey);
  } catch {
    return false;
  }
}
