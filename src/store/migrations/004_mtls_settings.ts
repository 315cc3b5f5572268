import type { Kysely } from 'kysely';

// Observe mode (a certgate extension): the mTLS mode per scope ('organization' or a project id), and what a
// scope in observe mode has seen, counted by the gateways in batches.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('mtls_settings')
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('mtls_settings_pk', ['organization_id', 'scope'])
    .execute();
  await db.schema
    .createTable('mtls_observations')
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('would_refuse', 'bigint', (c) => c.notNull())
    .addColumn('admitted', 'bigint', (c) => c.notNull())
    .addColumn('since', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('mtls_observations_pk', ['organization_id', 'scope'])
    .execute();
}
