import { compileFilter, type Filter } from '../domain/checks/filter.js';
import { ORGANIZATION_SCOPE, type CertificateRecord } from '../domain/model.js';
import { X509Certificate } from 'node:crypto';
import type { AnchorScope, AnchorsInForce, TrustAnchor, UnusableAnchor } from '../domain/trust-anchor.js';
import { readCertificate, type CertificateFacts } from '../domain/x509/certificate.js';
import { crlDer, revokedSerials, type RevokedSerials } from '../domain/x509/crl.js';
import { pemBlocks } from '../domain/x509/pem.js';
import type { OrganizationSnapshot } from './snapshot.js';

const MAX_CACHED_FILTERS = 1000;

type Revocation = RevokedSerials | { readonly unreadable: string };

/**
 * The trust anchors in force for a request: those active for its project,
 * then those active for the organization, each with its compiled filter.
 * Certificates are parsed once (their content never changes under an id) and
 * filters compiled once per expression; the lists are built once per
 * snapshot, so a list keeps its identity exactly as long as nothing a verdict
 * depends on (activations, certificates, filters) can have changed.
 */
export class TrustAnchors {
  /** each certificate read once: its facts, or why this version cannot read it */
  private readonly parsed = new Map<string, CertificateFacts | { readonly problem: string; readonly subject: string | undefined }>();
  private readonly filters = new Map<string, Filter>();
  /** revoked serials per certificate, kept while its CRL is the very same text */
  private readonly revocations = new Map<string, { content: string; revoked: Revocation }>();
  private readonly lists = new WeakMap<OrganizationSnapshot, Map<string, AnchorsInForce>>();

  /** A later snapshot whose certificates, activations and projects are those of an earlier one keeps its lists (and so its verdicts). */
  carry(previous: OrganizationSnapshot, next: OrganizationSnapshot): void {
    const lists = this.lists.get(previous);
    if (lists && !this.lists.has(next)) this.lists.set(next, lists);
  }

  inForce(snapshot: OrganizationSnapshot, projectId: string | null): AnchorsInForce {
    let perScope = this.lists.get(snapshot);
    if (!perScope) this.lists.set(snapshot, (perScope = new Map()));
    const key = projectId ?? ORGANIZATION_SCOPE;
    let list = perScope.get(key);
    if (!list) {
      const unusable: UnusableAnchor[] = [];
      const project = projectId ? this.anchors(snapshot, projectId, 'project', unusable) : [];
      const usable = [...project, ...this.anchors(snapshot, ORGANIZATION_SCOPE, 'organization', unusable)];
      list = unusable.length > 0 ? Object.assign(usable, { unusable }) : usable;
      perScope.set(key, list);
    }
    return list;
  }

  /**
   * Reads everything the anchors in force need (certificates, filters, CRLs) ahead of the first request, one CRL
   * at a time with the event loop let go between them: fifty 1 MiB CRLs read at a request's arrival held every client
   * of the process for seconds.
   */
  async warm(snapshot: OrganizationSnapshot): Promise<void> {
    const scopes = new Set(snapshot.liveActivations().map((a) => a.scope));
    for (const scope of scopes) {
      for (const id of snapshot.activeIn(scope)) {
        const record = snapshot.certificate(id);
        if (!record?.crl) continue;
        this.revoked(record);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    for (const scope of scopes) this.inForce(snapshot, scope === ORGANIZATION_SCOPE ? null : scope);
  }

  /** Why this version cannot read a stored certificate, or undefined when it can (each certificate read once). */
  problem(record: CertificateRecord): string | undefined {
    const facts = this.parse(record);
    return 'problem' in facts ? facts.problem : undefined;
  }

  /** Every anchor in force this version cannot read, with why (for the log, the metric and the verify endpoint). */
  unusable(snapshot: OrganizationSnapshot): { readonly id: string; readonly problem: string }[] {
    const out: { id: string; problem: string }[] = [];
    const seen = new Set<string>();
    for (const { certificateId } of snapshot.liveActivations()) {
      const record = snapshot.certificate(certificateId);
      if (!record || seen.has(certificateId)) continue;
      seen.add(certificateId);
      const facts = this.parse(record);
      if ('problem' in facts) out.push({ id: certificateId, problem: facts.problem });
    }
    return out;
  }

  private anchors(snapshot: OrganizationSnapshot, scope: string, as: AnchorScope, unusable: UnusableAnchor[]): TrustAnchor[] {
    const out: TrustAnchor[] = [];
    for (const id of snapshot.activeIn(scope)) {
      const record = snapshot.certificate(id);
      if (!record) continue;
      const facts = this.parse(record);
      if ('problem' in facts) {
        unusable.push({ id, scope: as, problem: facts.problem, subject: facts.subject });
        continue;
      }
      out.push({
        id,
        scope: as,
        facts,
        filter: record.filterExpression === null ? null : this.filter(record.filterExpression),
        revoked: this.revoked(record),
      });
    }
    return out;
  }

  /** A certificate's facts, read once; a stored one that this version's reader refuses is kept as a problem, never thrown at a request. */
  private parse(record: CertificateRecord): CertificateFacts | { readonly problem: string; readonly subject: string | undefined } {
    let facts = this.parsed.get(record.id);
    if (!facts) {
      const der = pemBlocks(record.content)[0]?.der;
      try {
        if (!der) throw new Error('no PEM certificate in the stored content');
        facts = readCertificate(der);
      } catch (err) {
        let subject: string | undefined;
        try {
          subject = der && new X509Certificate(der).subject;
        } catch {
          subject = undefined;
        }
        facts = { problem: (err as Error).message, subject };
      }
      this.parsed.set(record.id, facts);
    }
    return facts;
  }

  /** A stored CRL was verified when it was saved; here it is only read, once per CRL. One that cannot be read is reported as such (the gate fails closed). */
  private revoked(record: CertificateRecord): Revocation | null {
    if (!record.crl) return null;
    const kept = this.revocations.get(record.id);
    if (kept && kept.content === record.crl.content) return kept.revoked;
    let revoked: Revocation;
    try {
      revoked = revokedSerials(crlDer(record.crl.content));
    } catch (err) {
      revoked = { unreadable: (err as Error).message };
    }
    this.revocations.set(record.id, { content: record.crl.content, revoked });
    return revoked;
  }

  /** A stored filter that no longer compiles (a changed evaluator, say) refuses as an evaluation error: never an acceptance. */
  private filter(expression: string): Filter {
    let filter = this.filters.get(expression);
    if (!filter) {
      try {
        filter = compileFilter(expression);
      } catch (err) {
        const error = `the stored filter no longer compiles: ${(err as Error).message}`;
        filter = { expression, evaluate: () => ({ ok: false, error }) };
      }
      if (this.filters.size >= MAX_CACHED_FILTERS) this.filters.clear();
      this.filters.set(expression, filter);
    }
    return filter;
  }
}
