import type {
  CertificateRecord,
  OrganizationState,
  ProjectRecord,
  ServiceAccountRecord,
} from '../domain/model.js';

const NONE: ReadonlySet<string> = new Set();

/**
 * An immutable view of one organization, built from one consistent load.
 * Admin reads and the gateway's trust decisions both read it; it is replaced,
 * never changed, after a write.
 */
export class OrganizationSnapshot {
  readonly revision: number;
  /** ordered by id, which is creation order */
  readonly certificates: readonly CertificateRecord[];
  readonly projects: readonly ProjectRecord[];
  readonly serviceAccounts: readonly ServiceAccountRecord[];
  private readonly certificateById: ReadonlyMap<string, CertificateRecord>;
  private readonly projectById: ReadonlyMap<string, ProjectRecord>;
  private readonly activeByScope: ReadonlyMap<string, ReadonlySet<string>>;

  constructor(state: OrganizationState) {
    this.revision = state.revision;
    this.certificates = [...state.certificates].sort(byId);
    this.projects = [...state.projects].sort(byId);
    this.serviceAccounts = [...state.serviceAccounts].sort(byId);
    this.certificateById = new Map(this.certificates.map((c) => [c.id, c]));
    this.projectById = new Map(this.projects.map((p) => [p.id, p]));
    const active = new Map<string, Set<string>>();
    for (const { scope, certificateId } of state.activations) {
      let set = active.get(scope);
      if (!set) active.set(scope, (set = new Set()));
      set.add(certificateId);
    }
    this.activeByScope = active;
  }

  certificate(id: string): CertificateRecord | undefined {
    return this.certificateById.get(id);
  }

  project(id: string): ProjectRecord | undefined {
    return this.projectById.get(id);
  }

  /** Ids of the certificates active in a scope (ORGANIZATION_SCOPE or a project id). */
  activeIn(scope: string): ReadonlySet<string> {
    return this.activeByScope.get(scope) ?? NONE;
  }

}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
