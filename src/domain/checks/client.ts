import type { ErrorCode } from '../errors.js';
import type { AnchorScope, AnchorsInForce } from '../trust-anchor.js';
import { ExtendedKeyUsageOid, KeyUsage, readCertificate, type CertificateFacts } from '../x509/certificate.js';
import { serialKey } from '../x509/crl.js';
import { ACCEPTED_KEYS, ACCEPTED_SIGNATURES } from './cryptography.js';
import { pass, runChecks, type Check, type CheckResult } from './check.js';
import { findPath, nameConstraintsViolation, pathLengthViolation, weakKeyOnPath, weakSignatureOnPath, type Path } from './path.js';

// OpenAI's request-time verification of a client certificate, as a list of
// named checks run in order. The gateway, the verify endpoint and the CLI all
// get their answer, and the list of what ran, from verifyClient.

export type RefusalCode = Extract<
  ErrorCode,
  | 'invalid_api_key'
  | 'certificate_required'
  | 'invalid_certificate'
  | 'certificate_verification_failed'
  | 'certificate_attribute_verification_failed'
  | 'authentication_temporarily_unavailable'
>;

export type RefusalReason =
  | 'no_certificate'
  | 'malformed'
  | 'missing_ski_aki'
  | 'untrusted_issuer'
  | 'invalid_intermediate'
  | 'weak_key'
  | 'weak_signature'
  | 'path_length_exceeded'
  | 'revoked'
  | 'crl_unusable'
  | 'anchor_unusable'
  | 'name_constraints_violated'
  | 'expired'
  | 'not_yet_valid'
  | 'unhandled_critical_extension'
  | 'bad_key_usage'
  | 'missing_client_auth_eku'
  | 'filter_rejected'
  | 'filter_error'
  | 'archived_project';

export interface Refusal {
  readonly code: RefusalCode;
  readonly reason: RefusalReason;
}

/** What the checks know as they run: each check may rely on what the ones before it established. */
interface ClientContext {
  readonly chain: readonly Buffer[];
  readonly anchors: AnchorsInForce;
  readonly now: Date;
  leaf?: CertificateFacts;
  sent?: CertificateFacts[];
  path?: Path;
}

const refuse = (code: RefusalCode, reason: RefusalReason, message: string) => ({ passed: false, message, code, reason }) as const;
const verification = (reason: RefusalReason, message: string) => refuse('certificate_verification_failed', reason, message);

export const clientChecks: readonly Check<ClientContext, Refusal>[] = [
  {
    name: 'certificate_present',
    run: (c) =>
      c.chain.length > 0
        ? pass('A client certificate was presented.')
        : refuse('certificate_required', 'no_certificate', 'A trust anchor is active in this scope, so a client certificate is required, and none was presented.'),
  },
  {
    name: 'well_formed',
    run: (c) => {
      try {
        [c.leaf, ...c.sent] = c.chain.map(readCertificate) as [CertificateFacts, ...CertificateFacts[]];
        c.sent ??= [];
        return pass('The certificate material is strictly DER-encoded X.509.');
      } catch (err) {
        return refuse('invalid_certificate', 'malformed', `The client certificate material could not be read as X.509: ${(err as Error).message}.`);
      }
    },
  },
  {
    name: 'authority_key_identifier',
    run: (c) =>
      c.leaf!.authorityKeyId
        ? pass('The client certificate names its issuer key.')
        : refuse('invalid_certificate', 'missing_ski_aki', 'The client certificate has no Authority Key Identifier (key-identifier form).'),
  },
  {
    name: 'subject_key_identifier',
    run: (c) =>
      c.leaf!.subjectKeyId ? pass('The client certificate has a Subject Key Identifier.') : verification('missing_ski_aki', 'The client certificate has no Subject Key Identifier.'),
  },
  {
    name: 'trusted_issuer',
    run: (c) => {
      const unusable = c.anchors.unusable ?? [];
      const found = c.anchors.length > 0 ? findPath(c.leaf!, c.sent!, c.anchors, c.now) : undefined;
      if (!found || 'reason' in found) {
        // the path may lead to an anchor this version cannot read: say which, rather than blame the client's issuer.
        // 403, not 503: retrying does not help until the anchor is uploaded again, and nothing here is the server failing
        const issuers = new Set([c.leaf!.issuer, ...c.sent!.map((s) => s.issuer)]);
        const named = unusable.filter((u) => u.subject !== undefined && issuers.has(u.subject));
        const blocking = named.length > 0 ? named : found ? [] : unusable;
        if (blocking.length > 0) {
          return refuse(
            'certificate_verification_failed',
            'anchor_unusable',
            `Trust anchor ${blocking.map((u) => u.id).join(', ')} is in force here but cannot be read by this version of certgate (${blocking[0]!.problem}); it admits nothing until it is uploaded again in a form this version reads.`,
          );
        }
        return verification(found!.reason, found!.message);
      }
      c.path = found;
      const { anchor, intermediates } = found;
      const note = unusable.length > 0 ? ` (Trust anchor ${unusable.map((u) => u.id).join(', ')} in force here cannot be read by this version of certgate and admits nothing.)` : '';
      return pass(
        (intermediates.length === 0
          ? `Issued directly by ${anchor.scope} trust anchor ${anchor.id}.`
          : `Chains to ${anchor.scope} trust anchor ${anchor.id} through ${intermediates.length} intermediate certificate(s).`) + note,
      );
    },
  },
  {
    name: 'not_revoked',
    run: ({ leaf, path }) => {
      const { anchor, intermediates } = path!;
      if (!anchor.revoked) return pass(`Trust anchor ${anchor.id} has no CRL.`);
      if ('unreadable' in anchor.revoked) {
        // fail closed, and say so: what the CRL revokes is not known, which is not the same as revoked
        return refuse(
          'certificate_verification_failed',
          'crl_unusable',
          `The stored CRL of trust anchor ${anchor.id} cannot be read by this version of certgate (${anchor.revoked.unreadable}); nothing it issued is admitted until a readable CRL is stored.`,
        );
      }
      // the anchor's CRL speaks for the certificate the anchor issued: the leaf, or the first intermediate below it
      const issuedByAnchor = intermediates.at(-1) ?? leaf!;
      if (anchor.revoked.has(serialKey(issuedByAnchor.native.serialNumber))) {
        const what = issuedByAnchor === leaf ? 'The client certificate' : `Intermediate certificate ${issuedByAnchor.subject.replace(/\n/g, ', ')}`;
        return verification('revoked', `${what} is revoked by the CRL of trust anchor ${anchor.id}.`);
      }
      return pass(`The CRL of trust anchor ${anchor.id} does not list the certificate it issued on this path.`);
    },
  },
  {
    name: 'key_strength',
    run: (c) => {
      const problem = weakKeyOnPath(c.leaf!, c.path!);
      return problem ? verification('weak_key', problem) : pass(`Every key on the path is one certgate accepts (${ACCEPTED_KEYS}).`);
    },
  },
  {
    name: 'signature_strength',
    run: (c) => {
      const problem = weakSignatureOnPath(c.leaf!, c.path!);
      return problem ? verification('weak_signature', problem) : pass(`Every signature on the path, the anchor's own excepted, is one certgate accepts (${ACCEPTED_SIGNATURES}).`);
    },
  },
  {
    name: 'path_length',
    run: (c) => {
      const problem = pathLengthViolation(c.path!);
      return problem ? verification('path_length_exceeded', problem) : pass('Every pathLenConstraint on the path holds.');
    },
  },
  {
    name: 'name_constraints',
    run: (c) => {
      const problem = nameConstraintsViolation(c.leaf!, c.path!);
      return problem ? verification('name_constraints_violated', problem) : pass('Every Name Constraint on the path holds.');
    },
  },
  {
    name: 'validity',
    run: ({ leaf, now }) => {
      if (now < leaf!.notBefore) return verification('not_yet_valid', `The client certificate is not valid before ${leaf!.notBefore.toISOString()}.`);
      if (now > leaf!.notAfter) return verification('expired', `The client certificate expired at ${leaf!.notAfter.toISOString()}.`);
      return pass(`The client certificate is valid until ${leaf!.notAfter.toISOString()}.`);
    },
  },
  {
    name: 'critical_extensions',
    run: ({ leaf }) =>
      leaf!.unhandledCritical.length === 0
        ? pass('No critical extension certgate does not process.')
        : verification('unhandled_critical_extension', `The client certificate has a critical extension certgate does not process (${leaf!.unhandledCritical.join(', ')}).`),
  },
  {
    name: 'key_usage',
    run: ({ leaf }) => {
      const rsa = leaf!.publicKeyType === 'rsa' || leaf!.publicKeyType === 'rsa-pss';
      const usage = leaf!.keyUsage ?? 0;
      if (usage & KeyUsage.digitalSignature && (!rsa || usage & KeyUsage.keyEncipherment)) return pass('Key Usage allows client authentication signatures.');
      return verification(
        'bad_key_usage',
        rsa
          ? 'The client certificate needs Key Usage with Digital Signature and Key Encipherment (RSA key).'
          : 'The client certificate needs Key Usage with Digital Signature.',
      );
    },
  },
  {
    name: 'extended_key_usage',
    run: ({ leaf }) =>
      leaf!.extendedKeyUsage?.includes(ExtendedKeyUsageOid.clientAuth)
        ? pass('Extended Key Usage includes TLS Web Client Authentication.')
        : verification('missing_client_auth_eku', 'The client certificate needs Extended Key Usage with TLS Web Client Authentication.'),
  },
  {
    name: 'filter',
    run: ({ leaf, path }) => {
      const { anchor } = path!;
      if (!anchor.filter) return pass(`Trust anchor ${anchor.id} has no filter.`);
      const result = anchor.filter.evaluate(leaf!);
      if (!result.ok) {
        return refuse(
          'authentication_temporarily_unavailable',
          'filter_error',
          `The filter of trust anchor ${anchor.id} could not be evaluated (${result.error}); retry later.`,
        );
      }
      return result.admitted
        ? pass(`The filter of trust anchor ${anchor.id} admits this certificate.`)
        : refuse('certificate_attribute_verification_failed', 'filter_rejected', `The filter of trust anchor ${anchor.id} does not admit this certificate.`);
    },
  },
];

export interface Verdict {
  /** false when no anchor is in force: nothing is asked of the client */
  readonly required: boolean;
  readonly accepted: boolean;
  readonly scope: AnchorScope | null;
  readonly certificateId: string | null;
  readonly refusal: (Refusal & { readonly message: string }) | null;
  readonly checks: readonly CheckResult[];
  /** when an acceptance lapses (ms): the earliest notAfter on the path; a cached verdict must not outlive it */
  readonly until: number;
  /** accepted with the leaf alone, issued directly by an anchor (no intermediates involved) */
  readonly direct: boolean;
  /** the verified leaf, when a certificate was accepted */
  readonly leaf: CertificateFacts | null;
}

const NOT_REQUIRED: Verdict = {
  required: false,
  accepted: true,
  scope: null,
  certificateId: null,
  refusal: null,
  checks: [{ name: 'anchors_in_force', passed: true, message: 'No trust anchor is active in this scope, so no client certificate is required.' }],
  until: Infinity,
  direct: false,
  leaf: null,
};

/** anchors: those in force for the request, the project's first. chain: DER, leaf first. */
export function verifyClient(chain: readonly Buffer[], anchors: AnchorsInForce, now: Date): Verdict {
  // an anchor in force that cannot be read still makes a certificate required: the gate fails closed
  if (anchors.length === 0 && !anchors.unusable?.length) return NOT_REQUIRED;
  const context: ClientContext = { chain, anchors, now };
  const { results, failure } = runChecks(clientChecks, context);
  if (failure) {
    const { code, reason, message } = failure;
    return { required: true, accepted: false, scope: null, certificateId: null, refusal: { code, reason, message }, checks: results, until: Infinity, direct: false, leaf: null };
  }
  const path = context.path!;
  const lapses = [context.leaf!, ...path.intermediates, path.anchor.facts].map((c) => c.notAfter.getTime());
  return {
    required: true,
    accepted: true,
    scope: path.anchor.scope,
    certificateId: path.anchor.id,
    refusal: null,
    checks: results,
    until: Math.min(...lapses),
    direct: path.intermediates.length === 0,
    leaf: context.leaf!,
  };
}
