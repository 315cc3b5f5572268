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
import { Map as ImmutableMap } from 'immutable';

const NONE: ReadonlySet<string> = new Set();
const NO_SCOPES = ImmutableMap<string, true>();

type Mode = { readonly mode: MtlsMode; readonly updatedAt: number };

/** What a snapshot is made of: persistent maps (immutable's hash tries), so that a later snapshot shares every part a change left alone. */
interface Parts {
  readonly revision: number;
  readonly certificateById: ImmutableMap<string, CertificateRecord>;
  readonly projectById: ImmutableMap<string, ProjectRecord>;
  readonly accountById: ImmutableMap<string, ServiceAccountRecord>;
  /** scope → ids of the certificates active in it */
  readonly activeByScope: ImmutableMap<string, ReadonlySet<string>>;
  /** certificate id → the scopes it is active in (the same pairs as activeByScope, indexed the other way) */
  readonly scopesOf: ImmutableMap<string, ImmutableMap<string, true>>;
  readonly modeByScope: ImmutableMap<string, Mode>;
  /** the admin keys not deleted, by id */
  readonly adminKeyIds: ImmutableMap<string, true>;
}

/**
 * An immutable view of one organization, built from one consistent load.
 * Admin reads and the gateway's trust decisions both read it; it is replaced,
 * never changed, after a write. A snapshot made from an older one by a patch
 * shares with it everything the patch did not touch, so making it costs what
 * the patch names, not what the organization holds; the sorted lists are made
 * on first use, once per version of what they list.
 */
export class OrganizationSnapshot {
  readonly revision: number;

  private constructor(private readonly parts: Parts) {
    this.revision = parts.revision;
  }

  /** A snapshot of a whole organization as loaded. */
  static of(state: OrganizationState): OrganizationSnapshot {
    const byId = <T extends { id: string }>(rows: readonly T[]) => ImmutableMap(rows.map((r) => [r.id, r] as const));
    const edit = new ActivationEdit(ImmutableMap(), ImmutableMap());
    const scopesOf = new Map<string, string[]>();
    for (const { certificateId, scope } of state.activations) {
      let scopes = scopesOf.get(certificateId);
      if (!scopes) scopesOf.set(certificateId, (scopes = []));
      scopes.push(scope);
    }
    for (const [certificateId, scopes] of scopesOf) edit.setScopesOf(certificateId, scopes);
    return new OrganizationSnapshot({
      revision: state.revision,
      certificateById: byId(state.certificates),
      projectById: byId(state.projects),
      accountById: byId(state.serviceAccounts),
      activeByScope: edit.byScope,
      scopesOf: edit.ofCertificate,
      modeByScope: ImmutableMap(state.modes.map((m) => [m.scope, { mode: m.mode, updatedAt: m.updatedAt }] as const)),
      adminKeyIds: ImmutableMap(state.adminKeyIds.map((id) => [id, true] as const)),
    });
  }

  /** ordered by id, which is creation order */
  get certificates(): readonly CertificateRecord[] {
    return sortedValues(this.parts.certificateById);
  }

  /** ordered by id */
  get projects(): readonly ProjectRecord[] {
    return sortedValues(this.parts.projectById);
  }

  /** ordered by id */
  get serviceAccounts(): readonly ServiceAccountRecord[] {
    return sortedValues(this.parts.accountById);
  }

  certificate(id: string): CertificateRecord | undefined {
    return this.parts.certificateById.get(id);
  }

  project(id: string): ProjectRecord | undefined {
    return this.parts.projectById.get(id);
  }

  serviceAccount(id: string): ServiceAccountRecord | undefined {
    return this.parts.accountById.get(id);
  }

  /** Whether the admin key with this id exists (was made and not deleted) as of this revision. */
  hasAdminKey(id: string): boolean {
    return this.parts.adminKeyIds.has(id);
  }

  /** The same organization with certificates activated or deactivated in a scope: what a change would make of it. */
  withActivation(scope: string, certificateIds: readonly string[], active: boolean): OrganizationSnapshot {
    const edit = new ActivationEdit(this.parts.activeByScope, this.parts.scopesOf);
    for (const id of new Set(certificateIds)) {
      const scopes = this.parts.scopesOf.get(id) ?? NO_SCOPES;
      edit.setScopesOf(id, [...(active ? scopes.set(scope, true) : scopes.delete(scope)).entries()].map(([s]) => s));
    }
    return new OrganizationSnapshot({ ...this.parts, activeByScope: edit.byScope, scopesOf: edit.ofCertificate });
  }

  /** This organization as of a later revision: the rows a patch names replaced, the rest shared as they are. */
  patched(patch: OrganizationPatch): OrganizationSnapshot {
    const parts = this.parts;
    const replace = <T>(map: ImmutableMap<string, T>, changed: ReadonlyMap<string, T | null>): ImmutableMap<string, T> => {
      for (const [id, row] of changed) map = row ? map.set(id, row) : map.delete(id);
      return map;
    };
    const edit = new ActivationEdit(parts.activeByScope, parts.scopesOf);
    // a scope replaced as a whole holds what the patch says, but for the certificates whose own scopes the patch
    // gives: those are set from their own entry, whichever scopes it names
    for (const [scope, ids] of patch.activationsIn) edit.setCertificatesIn(scope, ids, (id) => patch.activationsOf.has(id));
    for (const [certificateId, scopes] of patch.activationsOf) edit.setScopesOf(certificateId, scopes);
    return new OrganizationSnapshot({
      revision: patch.revision,
      certificateById: replace(parts.certificateById, patch.certificates),
      projectById: replace(parts.projectById, patch.projects),
      accountById: replace(parts.accountById, patch.serviceAccounts),
      activeByScope: edit.byScope,
      scopesOf: edit.ofCertificate,
      modeByScope: replace(parts.modeByScope, patch.modes),
      adminKeyIds: replace(parts.adminKeyIds, patch.adminKeys),
    });
  }

  /** A scope's own mode, if it has one. */
  ownMode(scope: string): Mode | undefined {
    return this.parts.modeByScope.get(scope);
  }

  /** Every scope's own mode. */
  modes(): readonly { readonly scope: string; readonly mode: MtlsMode; readonly updatedAt: number }[] {
    return [...this.parts.modeByScope.entries()].map(([scope, m]) => ({ scope, mode: m.mode, updatedAt: m.updatedAt }));
  }

  /** The mode in force for a project (its own, else the organization's, else enforce), and the scope it comes from. */
  modeFor(projectId: string | null): { mode: MtlsMode; scope: string } {
    const own = projectId === null ? undefined : this.parts.modeByScope.get(projectId);
    if (own) return { mode: own.mode, scope: projectId! };
    return { mode: this.parts.modeByScope.get(ORGANIZATION_SCOPE)?.mode ?? 'enforce', scope: ORGANIZATION_SCOPE };
  }

  /** Ids of the certificates active in a scope (ORGANIZATION_SCOPE or a project id). */
  activeIn(scope: string): ReadonlySet<string> {
    return this.parts.activeByScope.get(scope) ?? NONE;
  }

  /** Every activation, in no particular order. */
  activations(): readonly ActivationRecord[] {
    let list = activationLists.get(this.parts.activeByScope);
    if (!list) {
      const made: ActivationRecord[] = [];
      for (const [scope, ids] of this.parts.activeByScope) for (const certificateId of ids) made.push({ certificateId, scope });
      activationLists.set(this.parts.activeByScope, (list = made));
    }
    return list;
  }

  /** The activations that gate something: the organization's, and those of projects not archived. */
  liveActivations(): readonly ActivationRecord[] {
    return this.activations().filter((a) => a.scope === ORGANIZATION_SCOPE || this.parts.projectById.get(a.scope)?.archivedAt === null);
  }
}

/**
 * Changes to the activations, made on persistent maps: each touched pair costs O(log n) in each index, whatever
 * the organization holds (a scope's set of certificates is copied whole, but an organization holds few certificates).
 */
class ActivationEdit {
  constructor(
    public byScope: ImmutableMap<string, ReadonlySet<string>>,
    public ofCertificate: ImmutableMap<string, ImmutableMap<string, true>>,
  ) {}

  /** A certificate is active in exactly these scopes. */
  setScopesOf(certificateId: string, scopes: readonly string[]): void {
    const before = this.ofCertificate.get(certificateId) ?? NO_SCOPES;
    let after = NO_SCOPES;
    for (const scope of scopes) after = after.set(scope, true);
    for (const [scope] of before) if (!after.has(scope)) this.inScope(scope, certificateId, false);
    for (const [scope] of after) if (!before.has(scope)) this.inScope(scope, certificateId, true);
    this.ofCertificate = after.size ? this.ofCertificate.set(certificateId, after) : this.ofCertificate.delete(certificateId);
  }

  /** A scope holds exactly these certificates, leaving alone those `skip` names. */
  setCertificatesIn(scope: string, certificateIds: readonly string[], skip: (id: string) => boolean): void {
    const before = this.byScope.get(scope) ?? NONE;
    const after = new Set(certificateIds);
    for (const id of before) if (!after.has(id) && !skip(id)) this.pair(scope, id, false);
    for (const id of after) if (!before.has(id) && !skip(id)) this.pair(scope, id, true);
  }

  private pair(scope: string, certificateId: string, active: boolean): void {
    this.inScope(scope, certificateId, active);
    const scopes = this.ofCertificate.get(certificateId) ?? NO_SCOPES;
    const changed = active ? scopes.set(scope, true) : scopes.delete(scope);
    this.ofCertificate = changed.size ? this.ofCertificate.set(certificateId, changed) : this.ofCertificate.delete(certificateId);
  }

  private inScope(scope: string, certificateId: string, active: boolean): void {
    const ids = new Set(this.byScope.get(scope));
    if (active) ids.add(certificateId);
    else ids.delete(certificateId);
    this.byScope = ids.size ? this.byScope.set(scope, ids) : this.byScope.delete(scope);
  }
}

/** Lists made from a map, kept as long as the map: a map a patch left alone keeps its list in the next snapshot. */
const sortedLists = new WeakMap<ImmutableMap<string, unknown>, readonly unknown[]>();
const activationLists = new WeakMap<ImmutableMap<string, ReadonlySet<string>>, readonly ActivationRecord[]>();

function sortedValues<T extends { id: string }>(map: ImmutableMap<string, T>): readonly T[] {
  let list = sortedLists.get(map) as readonly T[] | undefined;
  if (!list) sortedLists.set(map, (list = [...map.values()].sort(byId)));
  return list;
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
