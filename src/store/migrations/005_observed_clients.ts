import type { Kysely } from 'kysely';

// The clients each project's gateways have seen (for the lockout preview): one row per project, key and leaf
// certificate ('' when none was presented), with the chain as sent, so a change can be tried against it.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('observed_clients')
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('service_account_id', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('chain', 'text', (c) => c.notNull())
    .addColumn('certificate_id', 'text')
    .addColumn('first_seen', 'bigint', (c) => c.notNull())
    .addColumn('last_seen', 'bigint', (c) => c.notNull())
    .addColumn('requests', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('observed_clients_pk', ['organization_id', 'project_id', 'service_account_id', 'fingerprint'])
    .execute();
  await db.schema.createIndex('observed_clients_by_last_seen').on('observed_clients').columns(['organization_id', 'last_seen']).execute();
}
