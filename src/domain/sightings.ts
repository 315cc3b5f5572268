import { MAX_INTERMEDIATES } from './checks/path.js';
import { children, expectTag, readWhole, Tag } from './x509/der.js';
import { readName, rfc4514 } from './x509/names.js';

// What the gateways remember of a client they admitted, for the lockout preview: enough to judge the client again
// against other anchors, and no more. A client decides how much it sends (a chain of certificates padded with names
// runs to tens of kilobytes), so what is kept of it has a bound of its own.

/** DER bytes of certificates kept per client: the leaf and the intermediates above it, as many as fit. */
export const MAX_SIGHTING_CHAIN_BYTES = 16 * 1024;

/**
 * The part of a presented chain a path can be built from: the leaf, then the intermediates after it, at most the
 * MAX_INTERMEDIATES a path may use, while the whole stays within MAX_SIGHTING_CHAIN_BYTES. The gateway reads the
 * chain leaf first, each certificate followed by the one that issued it (OpenSSL links them by name), so the
 * prefix is the path. A leaf larger than the bound alone is not kept at all: such a client is remembered by its
 * fingerprint, and the preview says it could not judge it.
 */
export function sightingChain(chain: readonly Buffer[]): Buffer[] {
  const leaf = chain[0];
  if (!leaf || leaf.length > MAX_SIGHTING_CHAIN_BYTES) return [];
  const kept = [leaf];
  let bytes = leaf.length;
  for (let i = 1; i < chain.length && kept.length <= MAX_INTERMEDIATES; i++) {
    const next = chain[i]!;
    if (bytes + next.length > MAX_SIGHTING_CHAIN_BYTES) break;
    kept.push(next);
    bytes += next.length;
  }
  return kept;
}

/**
 * The leaf's subject and issuer as RFC 4514 strings, read from the TBSCertificate alone (no signature, no
 * extensions: this runs for every new client a gateway sees); null when the bytes are not a certificate.
 */
export function leafNames(der: Buffer): { subject: string; issuer: string } | null {
  try {
    const top = children(der, readWhole(der, Tag.sequence));
    const tbs = children(der, expectTag(top[0]!, Tag.sequence));
    const at = tbs[0]?.tag === 0xa0 ? 1 : 0;
    const issuer = tbs[at + 2];
    const subject = tbs[at + 4];
    if (!issuer || !subject) return null;
    return { subject: rfc4514(readName(der, subject)), issuer: rfc4514(readName(der, issuer)) };
  } catch {
    return null;
  }
}
