import type { Kysely } from 'kysely';

// Admin keys get permissions (null: an owner key, all of them), an expiry, a last use and a deletion time (a
// deleted key keeps its row, so a key named again in the configuration is not brought back to life).
// The audit log: one row per change, written in the change's own transaction; `body` is the event as the API
// returns it, and the columns beside it are what the list filters on.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('admin_api_keys').addColumn('permissions', 'text').execute();
  await db.schema.alterTable('admin_api_keys').addColumn('expires_at', 'bigint').execute();
  await db.schema.alterTable('admin_api_keys').addColumn('last_used_at', 'bigint').execute();
  await db.schema.alterTable('admin_api_keys').addColumn('deleted_at', 'bigint').execute();

  await db.schema
    .createTable('audit_logs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('effective_at', 'bigint', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('project_id', 'text')
    .addColumn('body', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_logs_by_organization').on('audit_logs').columns(['organization_id', 'id']).execute();

  await db.schema
    .createTable('audit_log_resources')
    .addColumn('audit_log_id', 'text', (c) => c.notNull().references('audit_logs.id'))
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_log_resources_pk', ['resource_id', 'audit_log_id'])
    .execute();
}
