import { ORGANIZATION_SCOPE } from '../domain/model.js';
import type {
  ActivationRecord,
  MtlsMode,
  CertificateRecord,
  OrganizationPatch,
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
  private readonly modeByScope: ReadonlyMap<string, { mode: MtlsMode; updatedAt: number }>;

  constructor(private readonly state: OrganizationState) {
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
    this.modeByScope = new Map(state.modes.map((m) => [m.scope, { mode: m.mode, updatedAt: m.updatedAt }]));
  }

  certificate(id: string): CertificateRecord | undefined {
    return this.certificateById.get(id);
  }

  project(id: string): ProjectRecord | undefined {
    return this.projectById.get(id);
  }

  /** The same organization with certificates activated or deactivated in a scope: what a change would make of it. */
  withActivation(scope: string, certificateIds: readonly string[], active: boolean): OrganizationSnapshot {
    const others = this.state.activations.filter((a) => !(a.scope === scope && certificateIds.includes(a.certificateId)));
    const added = active ? certificateIds.map((certificateId) => ({ certificateId, scope })) : [];
    return new OrganizationSnapshot({ ...this.state, activations: [...others, ...added] });
  }

  /** This organization as of a later revision: the rows a patch names replaced, the rest kept as they are. */
  patched(patch: OrganizationPatch): OrganizationSnapshot {
    const state = this.state;
    const replace = <T extends { id: string }>(rows: readonly T[], changed: ReadonlyMap<string, T | null>): readonly T[] => {
      if (changed.size === 0) return rows;
      const kept = rows.filter((r) => !changed.has(r.id));
      for (const row of changed.values()) if (row) kept.push(row);
      return kept;
    };
    let activations = state.activations;
    if (patch.activationsOf.size || patch.activationsIn.size) {
      activations = activations.filter((a) => !patch.activationsOf.has(a.certificateId) && !patch.activationsIn.has(a.scope));
      const added = [...activations];
      for (const [certificateId, scopes] of patch.activationsOf) for (const scope of scopes) added.push({ certificateId, scope });
      for (const [scope, ids] of patch.activationsIn) {
        for (const certificateId of ids) if (!patch.activationsOf.has(certificateId)) added.push({ certificateId, scope });
      }
      activations = added;
    }
    let modes = state.modes;
    if (patch.modes.size) {
      modes = modes.filter((m) => !patch.modes.has(m.scope));
      for (const [scope, m] of patch.modes) if (m) modes = [...modes, { scope, mode: m.mode, updatedAt: m.updatedAt }];
    }
    return new OrganizationSnapshot({
      organizationId: state.organizationId,
      revision: patch.revision,
      certificates: replace(state.certificates, patch.certificates),
      projects: replace(state.projects, patch.projects),
      serviceAccounts: replace(state.serviceAccounts, patch.serviceAccounts),
      activations,
      modes,
    });
  }

  /** A scope's own mode, if it has one. */
  ownMode(scope: string): { mode: MtlsMode; updatedAt: number } | undefined {
    return this.modeByScope.get(scope);
  }

  /** The mode in force for a project (its own, else the organization's, else enforce), and the scope it comes from. */
  modeFor(projectId: string | null): { mode: MtlsMode; scope: string } {
    const own = projectId === null ? undefined : this.modeByScope.get(projectId);
    if (own) return { mode: own.mode, scope: projectId! };
    return { mode: this.modeByScope.get(ORGANIZATION_SCOPE)?.mode ?? 'enforce', scope: ORGANIZATION_SCOPE };
  }

  /** Ids of the certificates active in a scope (ORGANIZATION_SCOPE or a project id). */
  activeIn(scope: string): ReadonlySet<string> {
    return this.activeByScope.get(scope) ?? NONE;
  }

  /** The activations that gate something: the organization's, and those of projects not archived. */
  liveActivations(): readonly ActivationRecord[] {
    return this.state.activations.filter((a) => a.scope === ORGANIZATION_SCOPE || this.projectById.get(a.scope)?.archivedAt === null);
  }

}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
