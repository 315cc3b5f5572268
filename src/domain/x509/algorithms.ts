import { children, DerError, expectTag, readOid, Tag, type Tlv } from './der.js';

// What a certificate's signatureAlgorithm means: the family of the signature and the digest it signs. Facts,
// not judgements: which of them certgate accepts is a rule (src/domain/checks/cryptography.ts).

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
