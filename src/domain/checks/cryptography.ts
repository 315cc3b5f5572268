import type { CertificateFacts } from '../x509/certificate.js';

// Modern cryptography only, on every certificate certgate trusts or judges: the rule behind `weak_key` and
// `weak_signature`. It holds at least what OpenSSL's security level 2 holds (`openssl verify -auth_level 2`: 112
// bits, no MD5 or SHA-1), and is stricter where the issue asks it to be: RSA of 2048 bits exactly or more (OpenSSL
// rounds 2047 up to 112 bits), EC keys only on P-256, P-384 and P-521 (OpenSSL accepts P-224 and other curves at
// level 2), and no DSA at all (OpenSSL accepts DSA of 2048 bits).

export const MIN_RSA_BITS = 2048;

/** P-256, P-384 and P-521, in OpenSSL's names (as CertificateFacts.publicKeyCurve gives them). */
const CURVES: ReadonlySet<string> = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

/** Digests too weak to sign with: collisions are practical (MD5, SHA-1) or worse. */
const BROKEN_DIGESTS: ReadonlySet<string> = new Set(['MD2', 'MD4', 'MD5', 'SHA-1']);

/** The keys certgate accepts, in words. */
export const ACCEPTED_KEYS = `RSA of ${MIN_RSA_BITS} bits or more, EC on P-256, P-384 or P-521, Ed25519 and Ed448`;
/** The signatures certgate accepts, in words. */
export const ACCEPTED_SIGNATURES = 'RSA (PKCS #1 v1.5 or PSS) and ECDSA over SHA-2 or SHA-3, Ed25519 and Ed448';

/** What is wrong with the certificate's public key, as "an RSA key of 1024 bits; …", or undefined when it is accepted. */
export function weakKey(cert: CertificateFacts): string | undefined {
  const accepted = `certgate accepts ${ACCEPTED_KEYS}`;
  switch (cert.publicKeyType) {
    case 'rsa':
    case 'rsa-pss': {
      const bits = cert.publicKeyBits ?? 0;
      return bits >= MIN_RSA_BITS ? undefined : `an RSA key of ${bits} bits; ${accepted}`;
    }
    case 'ec': {
      const curve = cert.publicKeyCurve;
      if (curve && CURVES.has(curve)) return undefined;
      return `an EC key on ${curve ?? 'explicitly given parameters'}; ${accepted}`;
    }
    case 'ed25519':
    case 'ed448':
      return undefined;
    case 'dsa':
      return `a DSA key of ${cert.publicKeyBits ?? 0} bits; ${accepted}`;
    default:
      return `a key of type ${cert.publicKeyType}; ${accepted}`;
  }
}

/** What is wrong with the algorithm the certificate is signed with, as "sha1WithRSAEncryption, over SHA-1, which is broken; …", or undefined when it is accepted. */
export function weakSignature(cert: CertificateFacts): string | undefined {
  const { name, family, digest } = cert.signatureAlgorithm;
  const accepted = `certgate accepts ${ACCEPTED_SIGNATURES}`;
  if (family === undefined) return `an algorithm certgate does not know (${name}); ${accepted}`;
  if (family === 'dsa') return `DSA (${name}); ${accepted}`;
  if (digest === undefined) return `${name} over a digest certgate does not know; ${accepted}`;
  if (digest !== null && BROKEN_DIGESTS.has(digest)) return `${name}, over ${digest}, which is broken; ${accepted}`;
  return undefined;
}
