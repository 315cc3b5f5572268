import type { Filter } from './checks/filter.js';
import type { CertificateFacts } from './x509/certificate.js';
import type { RevokedSerials } from './x509/crl.js';

export type AnchorScope = 'project' | 'organization';

/** An active CA certificate, parsed once, with the filter it carries. */
export interface TrustAnchor {
  readonly id: string;
  readonly scope: AnchorScope;
  readonly facts: CertificateFacts;
  readonly filter: Filter | null;
  /** the serials the anchor's CRL revokes, or why a stored CRL cannot be read (the gate fails closed); null when it has no CRL */
  readonly revoked: RevokedSerials | { readonly unreadable: string } | null;
}
