import type { Filter } from './checks/filter.js';
import type { CertificateFacts } from './x509/certificate.js';
import type { RevokedSerials } from './x509/crl.js';

export type AnchorScope = 'project' | 'organization';

/**
 * An active CA certificate that this version of certgate cannot read (stored by an earlier, more lenient one, say).
 * It admits nothing; a client it issued is told so by name.
 */
export interface UnusableAnchor {
  readonly id: string;
  readonly scope: AnchorScope;
  /** why the reader refused it */
  readonly problem: string;
  /** its subject in node:crypto's one-line form, when node:crypto can read it, to recognise the clients it issued */
  readonly subject: string | undefined;
}

/** The anchors in force in a scope: those that can be used, and beside them those that cannot. */
export type AnchorsInForce = readonly TrustAnchor[] & { readonly unusable?: readonly UnusableAnchor[] };

/** An active CA certificate, parsed once, with the filter it carries. */
export interface TrustAnchor {
  readonly id: string;
  readonly scope: AnchorScope;
  readonly facts: CertificateFacts;
  readonly filter: Filter | null;
  /** the serials the anchor's CRL revokes, or why a stored CRL cannot be read (the gate fails closed); null when it has no CRL */
  readonly revoked: RevokedSerials | { readonly unreadable: string } | null;
}
