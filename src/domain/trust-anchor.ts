import type { Filter } from './checks/filter.js';
import type { CertificateFacts } from './x509/certificate.js';

export type AnchorScope = 'project' | 'organization';

/** An active CA certificate, parsed once, with the filter it carries. */
export interface TrustAnchor {
  readonly id: string;
  readonly scope: AnchorScope;
  readonly facts: CertificateFacts;
  readonly filter: Filter | null;
  /** serials the anchor's CRL revokes (see serialKey), null when it has no CRL */
  readonly revoked: ReadonlySet<string> | null;
}
