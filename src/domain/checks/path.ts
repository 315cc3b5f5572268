import { ExtendedKeyUsageOid, issued, KeyUsage, type CertificateFacts } from '../x509/certificate.js';
import type { TrustAnchor } from '../trust-anchor.js';
import { weakKey, weakSignature } from './cryptography.js';
import { constrainedNames, nameConstraintViolation } from './name-constraints.js';

// Building and judging the path from a client's leaf to an anchor in force.
// The leaf is tried directly against the anchors first (project before
// organization); only when no anchor issued it is a path built through the
// intermediates the client sent. Nothing is fetched from the network.

/** Intermediates between a leaf and its anchor, at most. */
export const MAX_INTERMEDIATES = 5;

export interface Path {
  readonly anchor: TrustAnchor;
  /** the intermediates used, from the leaf's issuer up to the one the anchor issued */
  readonly intermediates: readonly CertificateFacts[];
}

export type PathFailure = { readonly reason: 'untrusted_issuer' | 'invalid_intermediate'; readonly message: string };

const withinValidity = (cert: CertificateFacts, now: Date) => now >= cert.notBefore && now <= cert.notAfter;

/** Why an intermediate cannot issue a client certificate, or undefined when it can. */
function intermediateProblem(cert: CertificateFacts, now: Date): string | undefined {
  if (cert.isCa !== true) return 'it is not a CA (Basic Constraints CA:TRUE)';
  if (cert.keyUsage !== undefined && !(cert.keyUsage & KeyUsage.keyCertSign)) return 'its Key Usage does not allow Certificate Sign';
  if (!withinValidity(cert, now)) return 'it is outside its validity period';
  if (cert.unhandledCritical.length > 0) return `it has a critical extension certgate does not process (${cert.unhandledCritical.join(', ')})`;
  const eku = cert.extendedKeyUsage;
  if (eku && !eku.includes(ExtendedKeyUsageOid.clientAuth) && !eku.includes(ExtendedKeyUsageOid.any)) {
    return 'its Extended Key Usage does not include TLS Web Client Authentication';
  }
  return undefined;
}

export function findPath(leaf: CertificateFacts, sent: readonly CertificateFacts[], anchors: readonly TrustAnchor[], now: Date): Path | PathFailure {
  const usable = anchors.filter((a) => withinValidity(a.facts, now));
  const direct = usable.find((anchor) => issued(anchor.facts, leaf));
  if (direct) return { anchor: direct, intermediates: [] };

  const used: CertificateFacts[] = [];
  let current = leaf;
  while (used.length < MAX_INTERMEDIATES) {
    const next = sent.find((candidate) => !used.includes(candidate) && issued(candidate, current));
    if (!next) break;
    const problem = intermediateProblem(next, now);
    if (problem) {
      return { reason: 'invalid_intermediate', message: `Intermediate certificate ${oneLine(next.subject)} cannot issue client certificates: ${problem}.` };
    }
    used.push(next);
    const anchor = usable.find((a) => issued(a.facts, next));
    if (anchor) return { anchor, intermediates: used };
    current = next;
  }
  return {
    reason: 'untrusted_issuer',
    message: 'The client certificate was not issued by a trust anchor active in this scope, directly or through the intermediates presented.',
  };
}

/**
 * pathLenConstraint: a CA may have at most that many CA certificates below it
 * on the path (self-issued intermediates not counted), as RFC 5280 §6.1.4 and
 * OpenSSL count them. The anchor's own constraint counts too.
 */
export function pathLengthViolation(path: Path): string | undefined {
  const issuers = [...path.intermediates, path.anchor.facts];
  let below = 0;
  for (let i = 0; i < issuers.length; i++) {
    const ca = issuers[i]!;
    if (ca.pathLength !== undefined && below > ca.pathLength) {
      return `${oneLine(ca.subject)} allows ${ca.pathLength} intermediate CA certificate(s) below it, and the path has ${below}.`;
    }
    if (!ca.selfIssued) below++;
  }
  return undefined;
}

/** Name Constraints of the anchor and every intermediate, applied to every certificate below each. */
export function nameConstraintsViolation(leaf: CertificateFacts, path: Path): string | undefined {
  const chain = [leaf, ...path.intermediates, path.anchor.facts];
  for (let k = 1; k < chain.length; k++) {
    const constraints = chain[k]!.nameConstraints;
    if (!constraints) continue;
    for (let i = 0; i < k; i++) {
      const cert = chain[i]!;
      if (i > 0 && cert.selfIssued) continue;
      const problem = nameConstraintViolation(constrainedNames(cert, i === 0), constraints);
      if (problem) return `In ${i === 0 ? 'the client certificate' : oneLine(cert.subject)}, ${problem} of ${oneLine(chain[k]!.subject)}.`;
    }
  }
  return undefined;
}

/**
 * The key of every certificate on the path: the leaf's, each intermediate's and the anchor's (an anchor uploaded
 * before the rule held counts too), as OpenSSL checks keys at -auth_level.
 */
export function weakKeyOnPath(leaf: CertificateFacts, path: Path): string | undefined {
  for (const [what, cert] of onPath(leaf, path)) {
    const problem = weakKey(cert);
    if (problem) return `${what} has ${problem}.`;
  }
  return undefined;
}

/**
 * The signature on every certificate of the path but the anchor's own: an anchor is trusted as it is, and its
 * signature is never checked (RFC 5280 §6.1; OpenSSL exempts it the same way).
 */
export function weakSignatureOnPath(leaf: CertificateFacts, path: Path): string | undefined {
  for (const [what, cert] of onPath(leaf, path).slice(0, -1)) {
    const problem = weakSignature(cert);
    if (problem) return `${what} is signed with ${problem}.`;
  }
  return undefined;
}

/** The path from the leaf up, the anchor last, each with how a message names it. */
const onPath = (leaf: CertificateFacts, path: Path): [string, CertificateFacts][] => [
  ['The client certificate', leaf],
  ...path.intermediates.map((cert): [string, CertificateFacts] => [`Intermediate certificate ${oneLine(cert.subject)}`, cert]),
  [`Trust anchor ${path.anchor.id}`, path.anchor.facts],
];

const oneLine = (name: string) => name.replace(/\n/g, ', ');
