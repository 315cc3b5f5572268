import { CLIENT_AUTH_OID, KeyUsage, readCertificate, type CertificateFacts } from './x509.js';

// Client-certificate verification, in OpenAI's order: the project's anchors
// before the organization's; the leaf directly against an anchor first, and
// only when no anchor issued it, a path through the intermediates the client
// sent. Nothing is fetched from the network; no revocation checking is done.

export type AnchorScope = 'project' | 'organization';

/** An active CA certificate, parsed once for as long as it stays active. */
export interface TrustAnchor {
  readonly id: string;
  readonly scope: AnchorScope;
  readonly facts: CertificateFacts;
}

/** OpenAI's request-time codes. */
export type RefusalCode = 'certificate_required' | 'invalid_certificate' | 'certificate_verification_failed';

export type RefusalReason =
  | 'no_certificate'
  | 'malformed'
  | 'missing_ski_aki'
  | 'untrusted_issuer'
  | 'invalid_intermediate'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_key_usage'
  | 'missing_client_auth_eku';

export interface Check {
  readonly name: string;
  readonly passed: boolean;
  readonly message: string;
}

export interface Verdict {
  readonly required: boolean;
  readonly accepted: boolean;
  readonly scope: AnchorScope | null;
  readonly certificateId: string | null;
  readonly refusal: { readonly code: RefusalCode; readonly reason: RefusalReason; readonly message: string } | null;
  readonly checks: readonly Check[];
  /** when an acceptance lapses (the leaf's notAfter, ms); a cached verdict must not outlive it */
  readonly until: number;
  /** accepted with the leaf alone, issued directly by an anchor (no intermediates involved) */
  readonly direct: boolean;
}

interface Parsed {
  readonly facts: CertificateFacts;
}

const MAX_PATH = 5;

/** anchors: those in force for the request, the project's first. chain: DER, leaf first. */
export function verifyClientChain(chain: readonly Buffer[], anchors: readonly TrustAnchor[], now: Date): Verdict {
  if (anchors.length === 0) {
    return {
      required: false,
      accepted: true,
      scope: null,
      certificateId: null,
      refusal: null,
      checks: [{ name: 'anchors_in_force', passed: true, message: 'No trust anchor is active in this scope, so no client certificate is required.' }],
      until: Infinity,
      direct: false,
    };
  }
  const checks: Check[] = [];
  const refuse = (name: string, code: RefusalCode, reason: RefusalReason, message: string): Verdict => {
    checks.push({ name, passed: false, message });
    return { required: true, accepted: false, scope: null, certificateId: null, refusal: { code, reason, message }, checks, until: Infinity, direct: false };
  };
  const pass = (name: string, message: string) => checks.push({ name, passed: true, message });

  if (chain.length === 0) {
    return refuse('certificate_present', 'certificate_required', 'no_certificate', 'A trust anchor is active in this scope, so a client certificate is required, and none was presented.');
  }
  pass('certificate_present', 'A client certificate was presented.');

  let parsed: Parsed[];
  try {
    parsed = chain.map((der) => ({ facts: readCertificate(der) }));
  } catch {
    return refuse('well_formed', 'invalid_certificate', 'malformed', 'The client certificate material could not be parsed as X.509.');
  }
  pass('well_formed', 'The certificate material parses as X.509.');
  const [leaf, ...intermediates] = parsed as [Parsed, ...Parsed[]];

  if (!leaf.facts.authorityKeyId) {
    return refuse('authority_key_identifier', 'invalid_certificate', 'missing_ski_aki', 'The client certificate has no Authority Key Identifier (key-identifier form).');
  }
  pass('authority_key_identifier', 'The client certificate names its issuer key.');
  if (!leaf.facts.subjectKeyId) {
    return refuse('subject_key_identifier', 'certificate_verification_failed', 'missing_ski_aki', 'The client certificate has no Subject Key Identifier.');
  }
  pass('subject_key_identifier', 'The client certificate has a Subject Key Identifier.');

  const path = findPath(leaf, intermediates, anchors, now);
  if ('failure' in path) {
    return refuse('trusted_issuer', 'certificate_verification_failed', path.failure.reason, path.failure.message);
  }
  const anchor = path.anchor;
  pass(
    'trusted_issuer',
    path.via === 0
      ? `Issued directly by ${anchor.scope} trust anchor ${anchor.id}.`
      : `Chains to ${anchor.scope} trust anchor ${anchor.id} through ${path.via} intermediate certificate(s).`,
  );

  if (now < leaf.facts.notBefore) {
    return refuse('validity', 'certificate_verification_failed', 'not_yet_valid', `The client certificate is not valid before ${leaf.facts.notBefore.toISOString()}.`);
  }
  if (now > leaf.facts.notAfter) {
    return refuse('validity', 'certificate_verification_failed', 'expired', `The client certificate expired at ${leaf.facts.notAfter.toISOString()}.`);
  }
  pass('validity', `The client certificate is valid until ${leaf.facts.notAfter.toISOString()}.`);

  const rsa = leaf.facts.publicKeyType === 'rsa' || leaf.facts.publicKeyType === 'rsa-pss';
  const usage = leaf.facts.keyUsage ?? 0;
  if (!(usage & KeyUsage.digitalSignature) || (rsa && !(usage & KeyUsage.keyEncipherment))) {
    return refuse(
      'key_usage',
      'certificate_verification_failed',
      'bad_key_usage',
      rsa
        ? 'The client certificate needs Key Usage with Digital Signature and Key Encipherment (RSA key).'
        : 'The client certificate needs Key Usage with Digital Signature.',
    );
  }
  pass('key_usage', 'Key Usage allows client authentication signatures.');

  if (!leaf.facts.extendedKeyUsage?.includes(CLIENT_AUTH_OID)) {
    return refuse('extended_key_usage', 'certificate_verification_failed', 'missing_client_auth_eku', 'The client certificate needs Extended Key Usage with TLS Web Client Authentication.');
  }
  pass('extended_key_usage', 'Extended Key Usage includes TLS Web Client Authentication.');

  return {
    required: true,
    accepted: true,
    scope: anchor.scope,
    certificateId: anchor.id,
    refusal: null,
    checks,
    until: Math.min(leaf.facts.notAfter.getTime(), anchor.facts.notAfter.getTime()),
    direct: path.via === 0,
  };
}

/** Did `issuer` sign `child`? Key identifiers first (cheap), then names, then the signature. */
function issued(issuer: Parsed, child: Parsed): boolean {
  if (issuer.facts.subjectKeyId !== child.facts.authorityKeyId) return false;
  if (issuer.facts.subject !== child.facts.issuer) return false;
  try {
    return child.facts.native.verify(issuer.facts.native.publicKey);
  } catch {
    return false;
  }
}

function usableAnchors(anchors: readonly TrustAnchor[], now: Date): TrustAnchor[] {
  return anchors.filter((a) => now >= a.facts.notBefore && now <= a.facts.notAfter);
}

type PathResult = { anchor: TrustAnchor; via: number } | { failure: { reason: RefusalReason; message: string } };

function findPath(leaf: Parsed, intermediates: readonly Parsed[], anchors: readonly TrustAnchor[], now: Date): PathResult {
  const usable = usableAnchors(anchors, now);
  const direct = usable.find((anchor) => issued(anchor, leaf));
  if (direct) return { anchor: direct, via: 0 };

  let current = leaf;
  const used = new Set<Parsed>();
  for (let depth = 1; depth <= MAX_PATH; depth++) {
    const next = intermediates.find((candidate) => !used.has(candidate) && issued(candidate, current));
    if (!next) break;
    used.add(next);
    const f = next.facts;
    if (f.isCa !== true || !((f.keyUsage ?? KeyUsage.keyCertSign) & KeyUsage.keyCertSign) || now < f.notBefore || now > f.notAfter) {
      return {
        failure: {
          reason: 'invalid_intermediate',
          message: `Intermediate certificate ${f.subject} cannot issue certificates now: it must be a CA allowed to sign certificates and within its validity period.`,
        },
      };
    }
    const anchor = usable.find((a) => issued(a, next));
    if (anchor) return { anchor, via: depth };
    current = next;
  }
  return {
    failure: {
      reason: 'untrusted_issuer',
      message: 'The client certificate was not issued by a trust anchor active in this scope, directly or through the intermediates presented.',
    },
  };
}
