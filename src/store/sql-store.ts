import type { Kysely, Transaction } from 'kysely';
import { sql } from './kysely.js';
import type { Actor, AdminKeyRecord, CertificateRecord, ChangeKind, CrlRecord, MtlsMode, ObservedClient, Observations, OrganizationPatch, OrganizationState, Permission, ProjectRecord, ServiceAccountRecord } from '../domain/model.js';
import { auditEntry, type AuditEntry, type AuditEvent } from '../domain/audit.js';
import { isId, newId } from '../domain/ids.js';
import { sightingChain } from '../domain/sightings.js';
import { migrations } from './migrations/index.js';
import type { Database } from './schema.js';
import { StoreTooNew, type AuditQuery, type SightingsPage, type Store, type WriteTransaction } from './store.js';

/** What differs between engines; everything else is shared SQL in SqlStore. */
export interface Engine {
  readonly db: Kysely<Database>;
  /** Opens a transaction that will write: it must wait for, not fail on, a concurrent writer. */
  readonly beginWrite: string;
  /** Opens a read-only transaction whose statements all see one committed state. */
  readonly beginRead: string;
  /** Runs first inside the migration transaction, so that concurrent starts apply migrations once. */
  lockMigrations(conn: Kysely<Database>): Promise<void>;
  /** The organization's committed revision read at once, or undefined when it cannot be (a transaction is open on the one connection). */
  revisionNow?(organizationId: string): number | undefined;
  /** Runs before every transaction begins; throws when the engine knows it cannot be used now. */
  beforeTransaction?(): void;
  /** Runs last inside every write transaction (PostgreSQL announces the change to other processes). */
  beforeCommit(conn: Kysely<Database>, organizationId: string): Promise<void>;
  watch(listener: () => void): () => void;
  ready(): boolean;
  close(): Promise<void>;
}

type Conn = Kysely<Database> | Transaction<Database>;

export class SqlStore implements Store {
  private readonly db: Kysely<Database>;

  constructor(private readonly impl: Engine) {
    this.db = impl.db;
  }

  async migrate(): Promise<void> {
    await this.inTransaction(this.impl.beginWrite, async (conn) => {
      await this.impl.lockMigrations(conn);
      await conn.schema
        .createTable('certgate_migrations')
        .ifNotExists()
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('applied_at', 'bigint', (c) => c.notNull())
        .execute();
      const applied = new Set((await conn.selectFrom('certgate_migrations').select('name').execute()).map((r) => r.name));
      // a store a newer certgate has migrated holds what this version does not know how to read or keep: refused,
      // never served as if it were this version's (downgrade by restoring a backup this version wrote)
      const known = new Set(migrations.map((m) => m.name));
      const newer = [...applied].filter((name) => !known.has(name)).sort();
      if (newer.length > 0) {
        throw new StoreTooNew(
          `this store was migrated by a newer certgate (${newer.join(', ')}); run that version or a later one, or restore a backup made by this one`,
        );
      }
      for (const migration of migrations) {
        if (applied.has(migration.name)) continue;
        await migration.up(conn);
        await conn
          .insertInto('certgate_migrations')
          .values({ name: migration.name, applied_at: Math.floor(Date.now() / 1000) })
          .execute();
      }
    });
  }

  close(): Promise<void> {
    return this.impl.close();
  }

  onExternalChange(listener: () => void): () => void {
    return this.impl.watch(listener);
  }

  ready(): boolean {
    return this.impl.ready();
  }

  async ensureOrganization(id: string, name: string, now: number): Promise<void> {
    await this.db
      .insertInto('organizations')
      .values({ id, name, created_at: now })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  async adminKeyByHash(keyHash: string) {
    const row = await this.db.selectFrom('admin_api_keys').selectAll().where('key_hash', '=', keyHash).where('deleted_at', 'is', null).executeTakeFirst();
    return row && { organizationId: row.organization_id, key: toAdminKey(row) };
  }

  async projectKeyOwner(keyHash: string) {
    const row = await this.db
      .selectFrom('project_api_keys')
      .select(['id', 'organization_id', 'project_id', 'service_account_id'])
      .where('key_hash', '=', keyHash)
      .executeTakeFirst();
    return (
      row && {
        keyId: row.id,
        organizationId: row.organization_id,
        projectId: row.project_id,
        serviceAccountId: row.service_account_id,
      }
    );
  }

  async adminKeys(organizationId: string): Promise<AdminKeyRecord[]> {
    const rows = await this.db
      .selectFrom('admin_api_keys')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('deleted_at', 'is', null)
      .orderBy('id')
      .execute();
    return rows.map(toAdminKey);
  }

  async touchAdminKeys(ids: readonly string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable('admin_api_keys').set({ last_used_at: now }).where('id', 'in', ids).execute();
  }

  async auditLogs(organizationId: string, q: AuditQuery): Promise<AuditEntry[]> {
    let query = this.db.selectFrom('audit_logs').select(['id', 'body']).where('organization_id', '=', organizationId);
    const t = q.effectiveAt;
    if (t.gt !== undefined) query = query.where('effective_at', '>', t.gt);
    if (t.gte !== undefined) query = query.where('effective_at', '>=', t.gte);
    if (t.lt !== undefined) query = query.where('effective_at', '<', t.lt);
    if (t.lte !== undefined) query = query.where('effective_at', '<=', t.lte);
    if (q.types.length) query = query.where('type', 'in', q.types);
    if (q.projectIds.length) query = query.where('project_id', 'in', q.projectIds);
    if (q.actorIds.length) query = query.where('actor_id', 'in', q.actorIds);
    if (q.resourceIds.length) {
      const ids = q.resourceIds;
      query = query.where('id', 'in', (eb) => eb.selectFrom('audit_log_resources').select('audit_log_id').where('resource_id', 'in', ids));
    }
    // Ids grow with time: newest first is by id descending; `before` walks back towards the newest.
    if (q.after !== undefined) query = query.where('id', '<', q.after);
    if (q.before !== undefined) {
      const rows = await query.where('id', '>', q.before).orderBy('id', 'asc').limit(q.limit + 1).execute();
      return rows.reverse().map((r) => JSON.parse(r.body) as AuditEntry);
    }
    const rows = await query.orderBy('id', 'desc').limit(q.limit + 1).execute();
    return rows.map((r) => JSON.parse(r.body) as AuditEntry);
  }

  async pruneAuditLogs(organizationId: string, olderThan: number, batch: number): Promise<number> {
    return this.inTransaction(this.impl.beginWrite, async (conn) => {
      // the oldest by id (ids grow with time: an index walk, however long the log), then only those past retention
      const oldest = await conn.selectFrom('audit_logs').select(['id', 'effective_at']).where('organization_id', '=', organizationId).orderBy('id', 'asc').limit(batch).execute();
      const ids: string[] = [];
      for (const row of oldest) {
        if (Number(row.effective_at) >= olderThan) break;
        ids.push(row.id);
      }
      if (ids.length === 0) return 0;
      await conn.deleteFrom('audit_log_resources').where('audit_log_id', 'in', ids).execute();
      await conn.deleteFrom('audit_logs').where('id', 'in', ids).execute();
      return ids.length;
    });
  }

  async organizationIds(): Promise<string[]> {
    return (await this.db.selectFrom('organizations').select('id').orderBy('id').execute()).map((r) => r.id);
  }

  async loadOrganization(organizationId: string): Promise<OrganizationState> {
    // One read transaction, so the four reads see the same committed state.
    return this.inTransaction(this.impl.beginRead, async (conn) => {
      const org = await conn
        .selectFrom('organizations')
        .select('revision')
        .where('id', '=', organizationId)
        .executeTakeFirst();
      const certificates = await conn
        .selectFrom('certificates')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .orderBy('id')
        .execute();
      const crls = await conn.selectFrom('certificate_crls').selectAll().where('organization_id', '=', organizationId).execute();
      const crlOf = new Map(crls.map((c) => [c.certificate_id, toCrl(c)]));
      const projects = await conn
        .selectFrom('projects')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .orderBy('id')
        .execute();
      const activations = await conn
        .selectFrom('activations')
        .select(['certificate_id', 'scope'])
        .where('organization_id', '=', organizationId)
        .execute();
      const serviceAccounts = await conn
        .selectFrom('service_accounts')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .orderBy('id')
        .execute();
      const modes = await conn.selectFrom('mtls_settings').selectAll().where('organization_id', '=', organizationId).execute();
      const adminKeys = await conn.selectFrom('admin_api_keys').select('id').where('organization_id', '=', organizationId).where('deleted_at', 'is', null).execute();
      return {
        organizationId,
        modes: modes.map((m) => ({ scope: m.scope, mode: m.mode as MtlsMode, updatedAt: Number(m.updated_at) })),
        revision: Number(org?.revision ?? 0),
        certificates: certificates.map((c) => ({ ...toCertificate(c), crl: crlOf.get(c.id) ?? null })),
        projects: projects.map(toProject),
        activations: activations.map((a) => ({ certificateId: a.certificate_id, scope: a.scope })),
        serviceAccounts: serviceAccounts.map(toServiceAccount),
        adminKeyIds: adminKeys.map((k) => k.id),
      };
    });
  }

  revision(organizationId: string): number | Promise<number> {
    const now = this.impl.revisionNow?.(organizationId);
    if (now !== undefined) return now;
    this.impl.beforeTransaction?.();
    return this.db
      .selectFrom('organizations')
      .select('revision')
      .where('id', '=', organizationId)
      .executeTakeFirst()
      .then((row) => Number(row?.revision ?? 0));
  }

  async catchUp(organizationId: string, fromRevision: number): Promise<OrganizationPatch | null> {
    return this.inTransaction(this.impl.beginRead, async (conn) => {
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

  async addObservations(organizationId: string, scope: string, wouldRefuse: number, admitted: number, now: number): Promise<void> {
    await this.db
      .insertInto('mtls_observations')
      .values({ organization_id: organizationId, scope, would_refuse: wouldRefuse, admitted, since: now })
      .onConflict((oc) =>
        oc.columns(['organization_id', 'scope']).doUpdateSet((eb) => ({
          would_refuse: eb('mtls_observations.would_refuse', '+', wouldRefuse),
          admitted: eb('mtls_observations.admitted', '+', admitted),
        })),
      )
      .execute();
  }

  async observations(organizationId: string, scope: string): Promise<Observations> {
    const row = await this.db
      .selectFrom('mtls_observations')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('scope', '=', scope)
      .executeTakeFirst();
    return row ? { wouldRefuse: Number(row.would_refuse), admitted: Number(row.admitted), since: Number(row.since) } : { wouldRefuse: 0, admitted: 0, since: null };
  }

  async recordClients(organizationId: string, sightings: readonly ObservedClient[], forgetBefore: number, maxPerOrganization: number): Promise<void> {
    for (const c of sightings) {
      await this.db
        .insertInto('observed_clients')
        .values({
          organization_id: organizationId,
          project_id: c.projectId,
          service_account_id: c.serviceAccountId,
          fingerprint: c.fingerprint,
          subject: c.subject,
          issuer: c.issuer ?? null,
          chain: sightingChain(c.chain).map((der) => der.toString('base64')).join(','),
          certificate_id: c.certificateId,
          first_seen: c.firstSeen,
          last_seen: c.lastSeen,
          requests: c.requests,
        })
        .onConflict((oc) =>
          oc.columns(['organization_id', 'project_id', 'service_account_id', 'fingerprint']).doUpdateSet((eb) => ({
            requests: eb('observed_clients.requests', '+', c.requests),
            last_seen: c.lastSeen,
            certificate_id: c.certificateId,
            subject: eb.ref('excluded.subject'),
            issuer: eb.ref('excluded.issuer'),
            chain: eb.ref('excluded.chain'),
          })),
        )
        .execute();
    }
    await this.db.deleteFrom('observed_clients').where('organization_id', '=', organizationId).where('last_seen', '<', forgetBefore).execute();
    // bounded per organization: past the bound, the longest unseen go first
    const count = await this.db
      .selectFrom('observed_clients')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('organization_id', '=', organizationId)
      .executeTakeFirstOrThrow();
    const excess = Number(count.n) - maxPerOrganization;
    if (excess > 0) {
      const oldest = await this.db
        .selectFrom('observed_clients')
        .select('last_seen')
        .where('organization_id', '=', organizationId)
        .orderBy('last_seen')
        .offset(excess)
        .limit(1)
        .executeTakeFirst();
      if (oldest) await this.db.deleteFrom('observed_clients').where('organization_id', '=', organizationId).where('last_seen', '<', oldest.last_seen).execute();
    }
  }

  async observedClients(organizationId: string, seenSince: number, page: SightingsPage = {}): Promise<ObservedClient[]> {
    let query = this.db.selectFrom('observed_clients').selectAll().where('organization_id', '=', organizationId).where('last_seen', '>=', seenSince);
    if (page.projectId != null) query = query.where('project_id', '=', page.projectId);
    const after = page.after;
    if (after) {
      query = query.where((eb) => eb(eb.refTuple('project_id', 'service_account_id', 'fingerprint'), '>', eb.tuple(after.projectId, after.serviceAccountId, after.fingerprint)));
    }
    query = query.orderBy('project_id').orderBy('service_account_id').orderBy('fingerprint');
    if (page.limit !== undefined) query = query.limit(page.limit);
    const rows = await query.execute();
    return rows.map((r) => ({
      projectId: r.project_id,
      serviceAccountId: r.service_account_id,
      fingerprint: r.fingerprint,
      subject: r.subject,
      issuer: r.issuer,
      chain: r.chain === '' ? [] : r.chain.split(',').map((b) => Buffer.from(b, 'base64')),
      certificateId: r.certificate_id,
      firstSeen: Number(r.first_seen),
      lastSeen: Number(r.last_seen),
      requests: Number(r.requests),
    }));
  }

  async write<T>(actor: Actor, now: number, work: (tx: WriteTransaction) => Promise<T>): Promise<T> {
    const organizationId = actor.organizationId;
    return this.inTransaction(this.impl.beginWrite, async (conn) => {
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
      await this.impl.beforeCommit(conn, organizationId);
      return result;
    });
  }

  private async inTransaction<T>(begin: string, work: (conn: Kysely<Database>) => Promise<T>): Promise<T> {
    this.impl.beforeTransaction?.();
    return this.db.connection().execute(async (conn) => {
      await sql.raw(begin).execute(conn);
      let result: T;
      try {
        result = await work(conn);
      } catch (err) {
        await sql`rollback`.execute(conn).catch(() => undefined);
        throw err;
      }
      await sql`commit`.execute(conn);
      return result;
    });
  }
}

class SqlWriteTransaction implements WriteTransaction {
  /** what this transaction changed, for the change feed: 'kind ref' */
  readonly touched = new Set<string>();

  private touch(kind: ChangeKind, ref: string): void {
    this.touched.add(`${kind} ${ref}`);
  }

  constructor(
    private readonly conn: Conn,
    private readonly organizationId: string,
    private readonly actor: Actor,
    private readonly now: number,
  ) {}

  async record(event: AuditEvent) {
    const entry = auditEntry(newId('audit_log'), this.now, this.actor, event);
    await this.conn
      .insertInto('audit_logs')
      .values({
        id: entry.id,
        organization_id: this.organizationId,
        type: entry.type,
        effective_at: entry.effective_at,
        actor_id: this.actor.key?.id ?? null,
        project_id: event.project?.id ?? null,
        body: JSON.stringify(entry),
      })
      .execute();
    const resources = [...new Set(event.resourceIds)];
    if (resources.length) {
      await this.conn
        .insertInto('audit_log_resources')
        .values(resources.map((resource_id) => ({ audit_log_id: entry.id, resource_id })))
        .execute();
    }
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

type Row<T extends keyof Database> = { [K in keyof Database[T]]: Database[T][K] extends import('kysely').Generated<infer U> ? U : Database[T][K] };

function toCertificate(r: Row<'certificates'>): CertificateRecord {
  return {
    id: r.id,
    name: r.name,
    fingerprint: r.fingerprint,
    content: r.content,
    validAt: Number(r.valid_at),
    expiresAt: Number(r.expires_at),
    createdAt: Number(r.created_at),
    filterExpression: r.filter_expression,
    filterUpdatedAt: r.filter_updated_at === null ? null : Number(r.filter_updated_at),
    crl: null,
  };
}

/** How many revisions back the change feed reaches; a snapshot older than that reloads in full. */
const FEED_REVISIONS = 1000;

/** Writes what a transaction touched under its revision, and now and then forgets what is past the feed's reach. */
async function recordChanges(conn: Conn, organizationId: string, revision: number, changesFrom: number, touched: ReadonlySet<string>): Promise<void> {
  if (touched.size) {
    await conn
      .insertInto('organization_changes')
      .values(
        [...touched].map((t) => {
          const space = t.indexOf(' ');
          return { organization_id: organizationId, revision, kind: t.slice(0, space), ref: t.slice(space + 1) };
        }),
      )
      .execute();
  }
  if (revision - changesFrom >= 2 * FEED_REVISIONS) {
    const from = revision - FEED_REVISIONS;
    await conn.deleteFrom('organization_changes').where('organization_id', '=', organizationId).where('revision', '<=', from).execute();
    await conn.updateTable('organizations').set({ changes_from: from }).where('id', '=', organizationId).execute();
  }
}

function toAdminKey(r: Row<'admin_api_keys'>): AdminKeyRecord {
  return {
    id: r.id,
    name: r.name,
    redactedValue: r.redacted_value,
    createdAt: Number(r.created_at),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
    permissions: r.permissions === null ? null : (JSON.parse(r.permissions) as Permission[]),
  };
}

function toCrl(r: Row<'certificate_crls'>): CrlRecord {
  return {
    content: r.content,
    thisUpdate: Number(r.this_update),
    nextUpdate: r.next_update === null ? null : Number(r.next_update),
    revokedCount: Number(r.revoked_count),
    updatedAt: Number(r.updated_at),
  };
}

function toProject(r: Row<'projects'>): ProjectRecord {
  return {
    id: r.id,
    name: r.name,
    externalKeyId: r.external_key_id,
    createdAt: Number(r.created_at),
    archivedAt: r.archived_at === null ? null : Number(r.archived_at),
  };
}

function toServiceAccount(r: Row<'service_accounts'>): ServiceAccountRecord {
  return { id: r.id, projectId: r.project_id, name: r.name, role: r.role, createdAt: Number(r.created_at) };
}
