import type { Kysely } from 'kysely';
import type { AdminKeyRecord, MtlsMode, OrganizationState, ProjectKeyOwner } from '../domain/model.js';
import type { Database } from './schema.js';
import { inTransaction, type Engine } from './engine.js';
import { toAdminKey, toCertificate, toCrl, toProject, toServiceAccount } from './rows.js';

// The reads of an organization's state (whole, or its revision) and of keys by their hash: outside any write.

export async function organizationIds(db: Kysely<Database>): Promise<string[]> {
  return (await db.selectFrom('organizations').select('id').orderBy('id').execute()).map((r) => r.id);
}

export function loadOrganization(engine: Engine, organizationId: string): Promise<OrganizationState> {
  // One read transaction, so the reads see the same committed state.
  return inTransaction(engine, engine.beginRead, async (conn) => {
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

export function revision(engine: Engine, organizationId: string): number | Promise<number> {
  const now = engine.revisionNow?.(organizationId);
  if (now !== undefined) return now;
  engine.beforeTransaction?.();
  return engine.db
    .selectFrom('organizations')
    .select('revision')
    .where('id', '=', organizationId)
    .executeTakeFirst()
    .then((row) => Number(row?.revision ?? 0));
}

export async function adminKeyByHash(db: Kysely<Database>, keyHash: string): Promise<{ organizationId: string; key: AdminKeyRecord } | undefined> {
  const row = await db.selectFrom('admin_api_keys').selectAll().where('key_hash', '=', keyHash).where('deleted_at', 'is', null).executeTakeFirst();
  return row && { organizationId: row.organization_id, key: toAdminKey(row) };
}

export async function projectKeyOwner(db: Kysely<Database>, keyHash: string): Promise<ProjectKeyOwner | undefined> {
  const row = await db
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

export async function adminKeys(db: Kysely<Database>, organizationId: string): Promise<AdminKeyRecord[]> {
  const rows = await db
    .selectFrom('admin_api_keys')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .execute();
  return rows.map(toAdminKey);
}

export async function touchAdminKeys(db: Kysely<Database>, ids: readonly string[], now: number): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('admin_api_keys').set({ last_used_at: now }).where('id', 'in', ids).execute();
}
