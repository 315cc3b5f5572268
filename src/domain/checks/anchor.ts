import { ApiError, type ErrorCode } from '../errors.js';
import { KeyUsage, MalformedCertificate, readCertificate, type CertificateFacts } from '../x509/certificate.js';
import { certificatesFromPem } from '../x509/pem.js';
import { pass, runChecks, type Check } from './check.js';
import { ACCEPTED_KEYS, weakKey } from './cryptography.js';
import { unsupportedConstraintKinds } from './name-constraints.js';

// OpenAI's requirements on an uploaded CA certificate (a trust anchor), and
// certgate's refusal of what it could not enforce faithfully.

export const MAX_CERTIFICATE_BYTES = 16 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface AnchorCandidate {
  readonly facts: CertificateFacts;
  readonly now: Date;
}

type AnchorFailure = { readonly code: ErrorCode };
const fail = (message: string, code: ErrorCode = 'mtls_certificate_invalid') => ({ passed: false, message, code }) as const;

/** In the order they are checked; the first failure refuses the upload. */
export const anchorChecks: readonly Check<AnchorCandidate, AnchorFailure>[] = [
  {
    name: 'basic_constraints_ca',
    run: ({ facts }) => (facts.isCa === true ? pass('Basic Constraints CA:TRUE.') : fail('The certificate is not a CA: it needs the Basic Constraints extension with CA:TRUE.')),
  },
  {
    name: 'subject_key_identifier',
    run: ({ facts }) => (facts.subjectKeyId ? pass('Subject Key Identifier present.') : fail('The certificate has no Subject Key Identifier extension.')),
  },
  {
    name: 'authority_key_identifier',
    run: ({ facts }) =>
      facts.authorityKeyId ? pass('Authority Key Identifier present.') : fail('The certificate needs an Authority Key Identifier extension in key-identifier form.'),
  },
  {
    name: 'key_usage_cert_sign',
    run: ({ facts }) => {
      const bits = facts.keyUsage ?? 0;
      return bits & KeyUsage.keyCertSign && bits & KeyUsage.cRLSign
        ? pass('Key Usage allows Certificate Sign and CRL Sign.')
        : fail('The certificate needs the Key Usage extension with both Certificate Sign and CRL Sign.');
    },
  },
  {
    name: 'critical_extensions',
    run: ({ facts }) =>
      facts.unhandledCritical.length === 0
        ? pass('No critical extension certgate does not process.')
        : fail(`The certificate has a critical extension certgate does not process (${facts.unhandledCritical.join(', ')}); RFC 5280 requires refusing it.`),
  },
  {
    name: 'name_constraints_supported',
    run: ({ facts }) => {
      const unsupported = facts.nameConstraints ? unsupportedConstraintKinds(facts.nameConstraints) : [];
      return unsupported.length === 0
        ? pass('Name Constraints, if any, are of kinds certgate enforces.')
        : fail(`The certificate's Name Constraints use name forms certgate cannot enforce (${unsupported.join(', ')}); only DNS, email, URI, IP address and directory names are supported.`);
    },
  },
  {
    // the anchor's own signature is not judged: an anchor is trusted as it is, and its signature is never checked
    name: 'key_strength',
    run: ({ facts }) => {
      const problem = weakKey(facts);
      return problem ? fail(`The certificate's key is too weak (weak_key): it has ${problem}.`) : pass(`The key is one certgate accepts (${ACCEPTED_KEYS}).`);
    },
  },
  {
    name: 'not_expired',
    run: ({ facts, now }) =>
      facts.notAfter > now ? pass('Not expired.') : fail(`The certificate expired at ${facts.notAfter.toISOString()}.`, 'expired_certificate'),
  },
  {
    name: 'not_expiring_within_a_day',
    run: ({ facts, now }) =>
      facts.notAfter.getTime() - now.getTime() > DAY_MS
        ? pass('Valid for more than a day.')
        : fail(`The certificate expires at ${facts.notAfter.toISOString()}, within one day: upload one that stays valid longer.`, 'expired_certificate'),
  },
];

/**
 * Reads an uploaded trust anchor: the first certificate of the payload, which
 * must meet every check above. Throws ApiError otherwise.
 */
export function readTrustAnchor(payload: string, now: Date, param = 'certificate'): CertificateFacts {
  if (Buffer.byteLength(payload, 'utf8') >= MAX_CERTIFICATE_BYTES) {
    throw new ApiError('mtls_certificate_invalid', 'The certificate payload must be smaller than 16 KiB.', param);
  }
  const [first] = certificatesFromPem(payload, param);
  let facts: CertificateFacts;
  try {
    facts = readCertificate(first!);
  } catch (err) {
    if (err instanceof MalformedCertificate) {
      throw new ApiError('mtls_certificate_invalid', `The PEM block is not a strictly DER-encoded X.509 certificate: ${err.message}.`, param);
    }
    throw err;
  }
  const { failure } = runChecks(anchorChecks, { facts, now });
  if (failure) throw new ApiError(failure.code, failure.message, param);
  return facts;
}
