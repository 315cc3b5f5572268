import { children, DerError, expectTag, readBitString, readOid, readWhole, Tag, type Tlv } from './der.js';

// What a certificate's signatureAlgorithm means (the family of the signature and the digest it signs), and the size
// of its public key. Facts, not judgements: which of them certgate accepts is a rule (src/domain/checks/cryptography.ts).

export type SignatureFamily = 'rsa' | 'rsa-pss' | 'ecdsa' | 'dsa' | 'eddsa';

export interface SignatureAlgorithm {
  /** dotted OID of the certificate's outer signatureAlgorithm */
  readonly oid: string;
  /** a readable name ('sha256WithRSAEncryption', 'ecdsa-with-SHA1', 'Ed25519', …); the OID when certgate does not know it */
  readonly name: string;
  /** undefined when certgate does not know the OID */
  readonly family: SignatureFamily | undefined;
  /** the digest signed ('SHA-256', 'SHA-1', 'MD5', …); null for EdDSA, whose algorithm fixes its own; undefined when unknown */
  readonly digest: string | null | undefined;
}

const DIGESTS: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.2.2', 'MD2'],
  ['1.2.840.113549.2.4', 'MD4'],
  ['1.2.840.113549.2.5', 'MD5'],
  ['1.3.14.3.2.26', 'SHA-1'],
  ['2.16.840.1.101.3.4.2.4', 'SHA-224'],
  ['2.16.840.1.101.3.4.2.1', 'SHA-256'],
  ['2.16.840.1.101.3.4.2.2', 'SHA-384'],
  ['2.16.840.1.101.3.4.2.3', 'SHA-512'],
  ['2.16.840.1.101.3.4.2.5', 'SHA-512/224'],
  ['2.16.840.1.101.3.4.2.6', 'SHA-512/256'],
  ['2.16.840.1.101.3.4.2.7', 'SHA3-224'],
  ['2.16.840.1.101.3.4.2.8', 'SHA3-256'],
  ['2.16.840.1.101.3.4.2.9', 'SHA3-384'],
  ['2.16.840.1.101.3.4.2.10', 'SHA3-512'],
]);

const PSS = '1.2.840.113549.1.1.10';

const ALGORITHMS: ReadonlyMap<string, { name: string; family: SignatureFamily; digest: string | null }> = new Map(
  (
    [
      ['1.2.840.113549.1.1.2', 'md2WithRSAEncryption', 'rsa', 'MD2'],
      ['1.2.840.113549.1.1.3', 'md4WithRSAEncryption', 'rsa', 'MD4'],
      ['1.2.840.113549.1.1.4', 'md5WithRSAEncryption', 'rsa', 'MD5'],
      ['1.2.840.113549.1.1.5', 'sha1WithRSAEncryption', 'rsa', 'SHA-1'],
      ['1.3.14.3.2.29', 'sha1WithRSASignature', 'rsa', 'SHA-1'],
      ['1.2.840.113549.1.1.14', 'sha224WithRSAEncryption', 'rsa', 'SHA-224'],
      ['1.2.840.113549.1.1.11', 'sha256WithRSAEncryption', 'rsa', 'SHA-256'],
      ['1.2.840.113549.1.1.12', 'sha384WithRSAEncryption', 'rsa', 'SHA-384'],
      ['1.2.840.113549.1.1.13', 'sha512WithRSAEncryption', 'rsa', 'SHA-512'],
      ['1.2.840.113549.1.1.15', 'sha512-224WithRSAEncryption', 'rsa', 'SHA-512/224'],
      ['1.2.840.113549.1.1.16', 'sha512-256WithRSAEncryption', 'rsa', 'SHA-512/256'],
      ['2.16.840.1.101.3.4.3.13', 'id-rsassa-pkcs1-v1_5-with-sha3-224', 'rsa', 'SHA3-224'],
      ['2.16.840.1.101.3.4.3.14', 'id-rsassa-pkcs1-v1_5-with-sha3-256', 'rsa', 'SHA3-256'],
      ['2.16.840.1.101.3.4.3.15', 'id-rsassa-pkcs1-v1_5-with-sha3-384', 'rsa', 'SHA3-384'],
      ['2.16.840.1.101.3.4.3.16', 'id-rsassa-pkcs1-v1_5-with-sha3-512', 'rsa', 'SHA3-512'],
      ['1.2.840.10045.4.1', 'ecdsa-with-SHA1', 'ecdsa', 'SHA-1'],
      ['1.2.840.10045.4.3.1', 'ecdsa-with-SHA224', 'ecdsa', 'SHA-224'],
      ['1.2.840.10045.4.3.2', 'ecdsa-with-SHA256', 'ecdsa', 'SHA-256'],
      ['1.2.840.10045.4.3.3', 'ecdsa-with-SHA384', 'ecdsa', 'SHA-384'],
      ['1.2.840.10045.4.3.4', 'ecdsa-with-SHA512', 'ecdsa', 'SHA-512'],
      ['2.16.840.1.101.3.4.3.9', 'id-ecdsa-with-sha3-224', 'ecdsa', 'SHA3-224'],
      ['2.16.840.1.101.3.4.3.10', 'id-ecdsa-with-sha3-256', 'ecdsa', 'SHA3-256'],
      ['2.16.840.1.101.3.4.3.11', 'id-ecdsa-with-sha3-384', 'ecdsa', 'SHA3-384'],
      ['2.16.840.1.101.3.4.3.12', 'id-ecdsa-with-sha3-512', 'ecdsa', 'SHA3-512'],
      ['1.2.840.10040.4.3', 'dsa-with-sha1', 'dsa', 'SHA-1'],
      ['2.16.840.1.101.3.4.3.1', 'dsa-with-sha224', 'dsa', 'SHA-224'],
      ['2.16.840.1.101.3.4.3.2', 'dsa-with-sha256', 'dsa', 'SHA-256'],
      ['1.3.101.112', 'Ed25519', 'eddsa', null],
      ['1.3.101.113', 'Ed448', 'eddsa', null],
    ] as const
  ).map(([oid, name, family, digest]) => [oid, { name, family, digest }]),
);

/**
 * AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }, read from the
 * certificate's outer signatureAlgorithm (the one the signature is checked with). For RSASSA-PSS the digest is
 * the parameters' hashAlgorithm, SHA-1 when absent (RFC 4055 §3.1).
 */
export function readSignatureAlgorithm(der: Uint8Array, identifier: Tlv): SignatureAlgorithm {
  const [algorithm, parameters, extra] = children(der, expectTag(identifier, Tag.sequence));
  if (!algorithm || extra) throw new DerError('malformed signature AlgorithmIdentifier');
  const oid = readOid(der, algorithm);
  if (oid === PSS) return { oid, name: 'RSASSA-PSS', family: 'rsa-pss', digest: pssDigest(der, parameters) };
  const known = ALGORITHMS.get(oid);
  return known ? { oid, ...known } : { oid, name: oid, family: undefined, digest: undefined };
}

/** RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] HashAlgorithm DEFAULT sha1, maskGenAlgorithm [1] …, saltLength [2] …, trailerField [3] … } */
function pssDigest(der: Uint8Array, parameters: Tlv | undefined): string | undefined {
  if (!parameters) throw new DerError('RSASSA-PSS without parameters');
  const fields = children(der, expectTag(parameters, Tag.sequence));
  const hash = fields[0]?.tag === 0xa0 ? fields[0] : undefined;
  if (!hash) return 'SHA-1';
  const [identifier, more] = children(der, hash);
  if (!identifier || more) throw new DerError('malformed RSASSA-PSS hashAlgorithm');
  const [hashOid] = children(der, expectTag(identifier, Tag.sequence));
  if (!hashOid) throw new DerError('malformed RSASSA-PSS hashAlgorithm');
  const oid = readOid(der, hashOid);
  return DIGESTS.get(oid);
}

export interface PublicKeySize {
  /** the modulus length of an RSA or RSA-PSS key, the prime p's of a DSA key */
  readonly bits: number | undefined;
  /** an EC key's named curve in OpenSSL's names ('prime256v1', 'secp384r1', …), or its OID when certgate does not name it */
  readonly curve: string | undefined;
}

const CURVE_NAMES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.10045.3.1.7', 'prime256v1'],
  ['1.3.132.0.34', 'secp384r1'],
  ['1.3.132.0.35', 'secp521r1'],
  ['1.2.840.10045.3.1.1', 'prime192v1'],
  ['1.3.132.0.33', 'secp224r1'],
  ['1.3.132.0.10', 'secp256k1'],
]);

const KeyOid = { rsa: '1.2.840.113549.1.1.1', rsaPss: PSS, dsa: '1.2.840.10040.4.1', ec: '1.2.840.10045.2.1' } as const;

/**
 * SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }, read from the DER
 * rather than from node:crypto's asymmetricKeyDetails, which costs 10 µs (RSA) to 34 µs (EC) of CPU a key: an EC
 * key's curve is its namedCurve parameter (RFC 5480 allows no other form; explicit parameters give no curve), an RSA
 * key's size the bit length of RSAPublicKey's modulus, a DSA key's that of its parameters' p.
 */
export function readPublicKeySize(der: Uint8Array, info: Tlv): PublicKeySize {
  const [identifier, key, extra] = children(der, expectTag(info, Tag.sequence));
  if (!identifier || !key || extra) throw new DerError('malformed SubjectPublicKeyInfo');
  const [algorithm, parameters] = children(der, expectTag(identifier, Tag.sequence));
  if (!algorithm) throw new DerError('malformed SubjectPublicKeyInfo algorithm');
  switch (readOid(der, algorithm)) {
    case KeyOid.ec: {
      if (parameters?.tag !== Tag.oid) return { bits: undefined, curve: undefined };
      const oid = readOid(der, parameters);
      return { bits: undefined, curve: CURVE_NAMES.get(oid) ?? oid };
    }
    case KeyOid.rsa:
    case KeyOid.rsaPss: {
      const { bits, unused } = readBitString(der, key);
      if (unused !== 0) throw new DerError('RSA public key with unused bits');
      const [modulus] = children(bits, readWhole(bits, Tag.sequence));
      if (!modulus) throw new DerError('RSA public key without a modulus');
      return { bits: positiveIntegerBits(bits, modulus), curve: undefined };
    }
    case KeyOid.dsa: {
      if (parameters?.tag !== Tag.sequence) return { bits: undefined, curve: undefined };
      const [p] = children(der, parameters);
      if (!p) throw new DerError('DSA parameters without p');
      return { bits: positiveIntegerBits(der, p), curve: undefined };
    }
    default:
      return { bits: undefined, curve: undefined };
  }
}

/** The bit length of a positive, minimally encoded INTEGER (OpenSSL's BN_num_bits). */
function positiveIntegerBits(buf: Uint8Array, tlv: Tlv): number {
  expectTag(tlv, Tag.integer);
  let at = tlv.start;
  if (at === tlv.end) throw new DerError('empty INTEGER');
  if (buf[at]! & 0x80) throw new DerError('negative INTEGER where a positive one was expected');
  if (buf[at] === 0 && at + 1 < tlv.end) {
    if (!(buf[at + 1]! & 0x80)) throw new DerError('non-minimal INTEGER');
    at++;
  }
  const first = buf[at]!;
  return first === 0 ? 0 : (tlv.end - at - 1) * 8 + (32 - Math.clz32(first));
}
