import { ORGANIZATION_SCOPE, type CertificateRecord } from '../domain/model.js';
import { pemBlocks } from '../domain/pem.js';
import type { OrganizationSnapshot } from '../domain/snapshot.js';
import type { AnchorScope, TrustAnchor } from '../domain/verify.js';
import { readCertificate, type CertificateFacts } from '../domain/x509.js';

/**
 * The trust anchors in force for a request: those active for its project,
 * then those active for the organization. Certificates are parsed once (their
 * content never changes under an id); the lists are built once per snapshot,
 * so a list keeps its identity exactly as long as the anchors in force cannot
 * have changed.
 */
export class TrustAnchors {
  private readonly parsed = new Map<string, CertificateFacts>();
  private readonly lists = new WeakMap<OrganizationSnapshot, Map<string, readonly TrustAnchor[]>>();

  inForce(snapshot: OrganizationSnapshot, projectId: string | null): readonly TrustAnchor[] {
    let perScope = this.lists.get(snapshot);
    if (!perScope) this.lists.set(snapshot, (perScope = new Map()));
    const key = projectId ?? ORGANIZATION_SCOPE;
    let list = perScope.get(key);
    if (!list) {
      const project = projectId ? this.anchors(snapshot, projectId, 'project') : [];
      list = [...project, ...this.anchors(snapshot, ORGANIZATION_SCOPE, 'organization')];
      perScope.set(key, list);
    }
    return list;
  }

  private anchors(snapshot: OrganizationSnapshot, scope: string, as: AnchorScope): TrustAnchor[] {
    const out: TrustAnchor[] = [];
    for (const id of snapshot.activeIn(scope)) {
      const record = snapshot.certificate(id);
      if (record) out.push({ id, scope: as, facts: this.parse(record) });
    }
    return out;
  }

  private parse(record: CertificateRecord): CertificateFacts {
    let facts = this.parsed.get(record.id);
    if (!facts) {
      facts = readCertificate(pemBlocks(record.content)[0]!.der);
      this.parsed.set(record.id, facts);
    }
    return facts;
  }
}
