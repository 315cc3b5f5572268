import type { CertificateRecord, ChangeKind, MtlsMode, OrganizationPatch, ProjectRecord, ServiceAccountRecord } from '../domain/model.js';
import { inTransaction, type Conn, type Engine } from './engine.js';
import { toCertificate, toCrl, toProject, toServiceAccount } from './rows.js';

// The change feed: each write transaction names what it touched under the organization's new revision
// (organization_changes), so that a process whose snapshot is behind reads only those rows again (catchUp).

/** How many revisions back the change feed reaches; a snapshot older than that reloads in full. */
const FEED_REVISIONS = 1000;

/** What a write transaction touched, for the feed: each a kind and the id (or scope) it names. */
export class Touched {
  private readonly entries = new Set<string>();

  add(kind: ChangeKind, ref: string): void {
    this.entries.add(`${kind} ${ref}`);
  }

  get size(): number {
    return this.entries.size;
  }

  *[Symbol.iterator](): IterableIterator<{ kind: ChangeKind; ref: string }> {
    for (const t of this.entries) {
      const space = t.indexOf(' ');
      yield { kind: t.slice(0, space) as ChangeKind, ref: t.slice(space + 1) };
    }
  }
}

/** Writes what a transaction touched under its revision, and now and then forgets what is past the feed's reach. */
export async function recordChanges(conn: Conn, organizationId: string, revision: number, changesFrom: number, touched: Touched): Promise<void> {
  if (touched.size) {
    await conn
      .insertInto('organization_changes')
      .values([...touched].map(({ kind, ref }) => ({ organization_id: organizationId, revision, kind, ref })))
      .execute();
  }
  if (revision - changesFrom >= 2 * FEED_REVISIONS) {
    const from = revision - FEED_REVISIONS;
    await conn.deleteFrom('organization_changes').where('organization_id', '=', organizationId).where('revision', '<=', from).execute();
    await conn.updateTable('organizations').set({ changes_from: from }).where('id', '=', organizationId).execute();
  }
}

/** The rows changed since a revision, read in one transaction; null when the feed no longer reaches back that far. */
export function catchUp(engine: Engine, organizationId: string, fromRevision: number): Promise<OrganizationPatch | null> {
  return inTransaction(engine, engine.beginRead, async (conn) => {
    const org = await conn.selectFrom('organizations').select(['revision', 'changes_from']).where('id', '=', organizationId).executeTakeFirst();
    if (!org || fromRevision < Number(org.changes_from) || fromRevision > Number(org.revision)) return null;
    const rows = await conn
      .selectFrom('organization_changes')
      .select(['kind', 'ref'])
      .where('organization_id', '=', organizationId)
      .where('revision', '>', fromRevision)
      .execute();
    // a feed written before admin keys were named one by one ('keys'): what changed is not known, reload whole
    if (rows.some((r) => r.kind === 'keys')) return null;
    const refs = (kind: ChangeKind) => [...new Set(rows.filter((r) => r.kind === kind).map((r) => r.ref))];
    const [certificateIds, activationIds, scopes, projectIds, accountIds, modeScopes, adminKeyIds] = (['certificate', 'activations', 'scope', 'project', 'service_account', 'mode', 'admin_key'] as const).map(refs);

    const certificates = new Map<string, CertificateRecord | null>(certificateIds!.map((id) => [id, null]));
    if (certificateIds!.length) {
      const crls = new Map(
        (await conn.selectFrom('certificate_crls').selectAll().where('organization_id', '=', organizationId).where('certificate_id', 'in', certificateIds!).execute()).map((c) => [c.certificate_id, toCrl(c)]),
      );
      for (const c of await conn.selectFrom('certificates').selectAll().where('organization_id', '=', organizationId).where('id', 'in', certificateIds!).execute()) certificates.set(c.id, { ...toCertificate(c), crl: crls.get(c.id) ?? null });
    }
    const activationsOf = new Map<string, string[]>(activationIds!.map((id) => [id, []]));
    if (activationIds!.length) {
      const found = await conn.selectFrom('activations').select(['certificate_id', 'scope']).where('organization_id', '=', organizationId).where('certificate_id', 'in', activationIds!).execute();
      for (const a of found) activationsOf.get(a.certificate_id)!.push(a.scope);
    }
    const activationsIn = new Map<string, string[]>(scopes!.map((scope) => [scope, []]));
    if (scopes!.length) {
      const found = await conn.selectFrom('activations').select(['certificate_id', 'scope']).where('organization_id', '=', organizationId).where('scope', 'in', scopes!).execute();
      for (const a of found) activationsIn.get(a.scope)!.push(a.certificate_id);
    }
    const projects = new Map<string, ProjectRecord | null>(projectIds!.map((id) => [id, null]));
    if (projectIds!.length) for (const p of await conn.selectFrom('projects').selectAll().where('organization_id', '=', organizationId).where('id', 'in', projectIds!).execute()) projects.set(p.id, toProject(p));
    const serviceAccounts = new Map<string, ServiceAccountRecord | null>(accountIds!.map((id) => [id, null]));
    if (accountIds!.length) for (const a of await conn.selectFrom('service_accounts').selectAll().where('organization_id', '=', organizationId).where('id', 'in', accountIds!).execute()) serviceAccounts.set(a.id, toServiceAccount(a));
    const modes = new Map<string, { mode: MtlsMode; updatedAt: number } | null>(modeScopes!.map((scope) => [scope, null]));
    if (modeScopes!.length) {
      const found = await conn.selectFrom('mtls_settings').selectAll().where('organization_id', '=', organizationId).where('scope', 'in', modeScopes!).execute();
      for (const m of found) modes.set(m.scope, { mode: m.mode as MtlsMode, updatedAt: Number(m.updated_at) });
    }
    const adminKeys = new Map<string, true | null>(adminKeyIds!.map((id) => [id, null]));
    if (adminKeyIds!.length) {
      const found = await conn.selectFrom('admin_api_keys').select('id').where('organization_id', '=', organizationId).where('id', 'in', adminKeyIds!).where('deleted_at', 'is', null).execute();
      for (const k of found) adminKeys.set(k.id, true);
    }
    return { revision: Number(org.revision), certificates, activationsOf, activationsIn, projects, serviceAccounts, modes, adminKeys };
  });
}
