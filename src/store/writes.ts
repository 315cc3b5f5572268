import type { Actor, AdminKeyRecord, CertificateRecord, ChangeKind, CrlRecord, MtlsMode, ProjectRecord, ServiceAccountRecord } from '../domain/model.js';
import { isId } from '../domain/ids.js';
import type { AuditRecord, WriteTransaction } from './store.js';
import { appendAudit } from './audit.js';
import { recordChanges, Touched } from './changes.js';
import { inTransaction, type Conn, type Engine } from './engine.js';
import { toAdminKey, toCertificate, toCrl, toProject, toServiceAccount } from './rows.js';

// The write transaction: one per change, holding the organization's write lock from its first statement (the
// revision's bump) to its commit, so that rules checked inside it hold across processes. What it touched goes to the
// change feed under the new revision; the audit events the services composed for it are kept in it.

/** Runs `work` in a write transaction of the actor's organization, stamped `now`. */
export function write<T>(engine: Engine, actor: Actor, now: number, work: (tx: WriteTransaction) => Promise<T>): Promise<T> {
  const organizationId = actor.organizationId;
  return inTransaction(engine, engine.beginWrite, async (conn) => {
    // Bumping the revision takes the organization's row lock first thing, so
    // writers to one organization queue here rather than interleave.
    const bumped = await conn
      .updateTable('organizations')
      .set((eb) => ({ revision: eb('revision', '+', 1) }))
      .where('id', '=', organizationId)
      .returning(['revision', 'changes_from'])
      .executeTakeFirst();
    if (!bumped) throw new Error(`organization ${organizationId} does not exist`);
    const tx = new SqlWriteTransaction(conn, organizationId, actor, now);
    const result = await work(tx);
    await recordChanges(conn, organizationId, Number(bumped.revision), Number(bumped.changes_from), tx.touched);
    await engine.beforeCommit(conn, organizationId);
    return result;
  });
}

class SqlWriteTransaction implements WriteTransaction {
  /** what this transaction changed, for the change feed */
  readonly touched = new Touched();

  private touch(kind: ChangeKind, ref: string): void {
    this.touched.add(kind, ref);
  }

  constructor(
    private readonly conn: Conn,
    private readonly organizationId: string,
    readonly actor: Actor,
    readonly now: number,
  ) {}

  appendAudit(record: AuditRecord): Promise<void> {
    return appendAudit(this.conn, this.organizationId, record);
  }

  private adminKeyRows() {
    return this.conn.selectFrom('admin_api_keys').selectAll().where('organization_id', '=', this.organizationId).where('deleted_at', 'is', null);
  }

  async adminKey(id: string) {
    if (!isId('key', id)) return undefined;
    const row = await this.adminKeyRows().where('id', '=', id).executeTakeFirst();
    return row && toAdminKey(row);
  }

  async adminKeyHashKnown(keyHash: string) {
    const row = await this.conn.selectFrom('admin_api_keys').select('id').where('key_hash', '=', keyHash).executeTakeFirst();
    return row !== undefined;
  }

  async adminKeys() {
    return (await this.adminKeyRows().orderBy('id').execute()).map(toAdminKey);
  }

  async insertAdminKey(k: AdminKeyRecord, keyHash: string) {
    this.touch('admin_key', k.id);
    await this.conn
      .insertInto('admin_api_keys')
      .values({
        id: k.id,
        organization_id: this.organizationId,
        name: k.name,
        key_hash: keyHash,
        redacted_value: k.redactedValue,
        created_at: k.createdAt,
        permissions: k.permissions === null ? null : JSON.stringify(k.permissions),
        expires_at: k.expiresAt,
        last_used_at: null,
        deleted_at: null,
      })
      .execute();
  }

  async deleteAdminKey(id: string, now: number) {
    this.touch('admin_key', id);
    await this.conn.updateTable('admin_api_keys').set({ deleted_at: now }).where('id', '=', id).where('organization_id', '=', this.organizationId).execute();
  }

  private certificates() {
    return this.conn.selectFrom('certificates').selectAll().where('organization_id', '=', this.organizationId);
  }

  async certificateCount(): Promise<number> {
    const row = await this.conn
      .selectFrom('certificates')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('organization_id', '=', this.organizationId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // An id certgate cannot have made names nothing, on every engine alike: it never reaches the driver
  // (PostgreSQL refuses a NUL byte in text where SQLite would just find no row).
  async certificate(id: string) {
    if (!isId('cert', id)) return undefined;
    const row = await this.certificates().where('id', '=', id).executeTakeFirst();
    return row && toCertificate(row);
  }

  async certificateByFingerprint(fingerprint: string) {
    const row = await this.certificates().where('fingerprint', '=', fingerprint).executeTakeFirst();
    return row && toCertificate(row);
  }

  async insertCertificate(c: CertificateRecord) {
    this.touch('certificate', c.id);
    await this.conn
      .insertInto('certificates')
      .values({
        id: c.id,
        organization_id: this.organizationId,
        name: c.name,
        fingerprint: c.fingerprint,
        content: c.content,
        valid_at: c.validAt,
        expires_at: c.expiresAt,
        created_at: c.createdAt,
        filter_expression: c.filterExpression,
        filter_updated_at: c.filterUpdatedAt,
      })
      .execute();
  }

  async renameCertificate(id: string, name: string | null) {
    this.touch('certificate', id);
    await this.conn.updateTable('certificates').set({ name }).where('id', '=', id).where('organization_id', '=', this.organizationId).execute();
  }

  async setFilter(id: string, expression: string | null, now: number) {
    this.touch('certificate', id);
    await this.conn
      .updateTable('certificates')
      .set({ filter_expression: expression, filter_updated_at: now })
      .where('id', '=', id)
      .where('organization_id', '=', this.organizationId)
      .execute();
  }

  async setMode(scope: string, mode: MtlsMode | null, now: number) {
    this.touch('mode', scope);
    await this.conn.deleteFrom('mtls_settings').where('organization_id', '=', this.organizationId).where('scope', '=', scope).execute();
    await this.conn.deleteFrom('mtls_observations').where('organization_id', '=', this.organizationId).where('scope', '=', scope).execute();
    if (mode) await this.conn.insertInto('mtls_settings').values({ organization_id: this.organizationId, scope, mode, updated_at: now }).execute();
  }

  async crl(certificateId: string) {
    const row = await this.conn
      .selectFrom('certificate_crls')
      .selectAll()
      .where('certificate_id', '=', certificateId)
      .where('organization_id', '=', this.organizationId)
      .executeTakeFirst();
    return row && toCrl(row);
  }

  async setCrl(certificateId: string, crl: CrlRecord | null) {
    this.touch('certificate', certificateId);
    await this.conn.deleteFrom('certificate_crls').where('certificate_id', '=', certificateId).where('organization_id', '=', this.organizationId).execute();
    if (!crl) return;
    await this.conn
      .insertInto('certificate_crls')
      .values({
        certificate_id: certificateId,
        organization_id: this.organizationId,
        content: crl.content,
        this_update: crl.thisUpdate,
        next_update: crl.nextUpdate,
        revoked_count: crl.revokedCount,
        updated_at: crl.updatedAt,
      })
      .execute();
  }

  async deleteCertificate(id: string) {
    this.touch('certificate', id);
    this.touch('activations', id);
    await this.conn.deleteFrom('certificates').where('id', '=', id).where('organization_id', '=', this.organizationId).execute();
  }

  async activations(certificateIds: readonly string[]) {
    if (certificateIds.length === 0) return [];
    const rows = await this.conn
      .selectFrom('activations')
      .select(['certificate_id', 'scope'])
      .where('organization_id', '=', this.organizationId)
      .where('certificate_id', 'in', certificateIds)
      .execute();
    return rows.map((r) => ({ certificateId: r.certificate_id, scope: r.scope }));
  }

  async activate(scope: string, certificateIds: readonly string[], now: number) {
    for (const id of certificateIds) this.touch('activations', id);
    if (certificateIds.length === 0) return;
    await this.conn
      .insertInto('activations')
      .values(certificateIds.map((id) => ({ organization_id: this.organizationId, certificate_id: id, scope, created_at: now })))
      .onConflict((oc) => oc.columns(['certificate_id', 'scope']).doNothing())
      .execute();
  }

  async deactivate(scope: string, certificateIds: readonly string[]) {
    for (const id of certificateIds) this.touch('activations', id);
    if (certificateIds.length === 0) return;
    await this.conn
      .deleteFrom('activations')
      .where('organization_id', '=', this.organizationId)
      .where('scope', '=', scope)
      .where('certificate_id', 'in', certificateIds)
      .execute();
  }

  async deactivateScope(scope: string) {
    this.touch('scope', scope);
    await this.conn.deleteFrom('activations').where('organization_id', '=', this.organizationId).where('scope', '=', scope).execute();
  }

  async project(id: string) {
    if (!isId('proj', id)) return undefined;
    const row = await this.conn
      .selectFrom('projects')
      .selectAll()
      .where('id', '=', id)
      .where('organization_id', '=', this.organizationId)
      .executeTakeFirst();
    return row && toProject(row);
  }

  async insertProject(p: ProjectRecord) {
    this.touch('project', p.id);
    await this.conn
      .insertInto('projects')
      .values({
        id: p.id,
        organization_id: this.organizationId,
        name: p.name,
        external_key_id: p.externalKeyId,
        created_at: p.createdAt,
        archived_at: p.archivedAt,
      })
      .execute();
  }

  async updateProject(id: string, patch: { name?: string; externalKeyId?: string | null; archivedAt?: number }) {
    this.touch('project', id);
    const values: { name?: string; external_key_id?: string | null; archived_at?: number } = {};
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.externalKeyId !== undefined) values.external_key_id = patch.externalKeyId;
    if (patch.archivedAt !== undefined) values.archived_at = patch.archivedAt;
    if (Object.keys(values).length === 0) return;
    await this.conn.updateTable('projects').set(values).where('id', '=', id).where('organization_id', '=', this.organizationId).execute();
  }

  async serviceAccount(id: string) {
    if (!isId('svc_acct', id)) return undefined;
    const row = await this.conn
      .selectFrom('service_accounts')
      .selectAll()
      .where('id', '=', id)
      .where('organization_id', '=', this.organizationId)
      .executeTakeFirst();
    return row && toServiceAccount(row);
  }

  async insertServiceAccount(a: ServiceAccountRecord, key: { id: string; keyHash: string; redactedValue: string } | null) {
    this.touch('service_account', a.id);
    await this.conn
      .insertInto('service_accounts')
      .values({
        id: a.id,
        organization_id: this.organizationId,
        project_id: a.projectId,
        name: a.name,
        role: a.role,
        created_at: a.createdAt,
      })
      .execute();
    if (key) {
      await this.conn
        .insertInto('project_api_keys')
        .values({
          id: key.id,
          organization_id: this.organizationId,
          project_id: a.projectId,
          service_account_id: a.id,
          key_hash: key.keyHash,
          redacted_value: key.redactedValue,
          created_at: a.createdAt,
        })
        .execute();
    }
  }

  async updateServiceAccount(id: string, patch: { name?: string; role?: string }) {
    this.touch('service_account', id);
    if (patch.name === undefined && patch.role === undefined) return;
    await this.conn.updateTable('service_accounts').set(patch).where('id', '=', id).where('organization_id', '=', this.organizationId).execute();
  }

  async deleteServiceAccount(id: string) {
    this.touch('service_account', id);
    // its key goes with it: project_api_keys cascades on delete
    await this.conn.deleteFrom('service_accounts').where('id', '=', id).where('organization_id', '=', this.organizationId).execute();
  }
}
