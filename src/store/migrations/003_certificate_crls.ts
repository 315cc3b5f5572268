import type { Kysely } from 'kysely';

// An anchor's certificate revocation list (a certgate extension): the CRL as PEM, its dates and how many
// serials it revokes. It goes with its certificate.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('certificate_crls')
    .addColumn('certificate_id', 'text', (c) => c.primaryKey().references('certificates.id').onDelete('cascade'))
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('this_update', 'bigint', (c) => c.notNull())
    .addColumn('next_update', 'bigint')
    .addColumn('revoked_count', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('certificate_crls_by_organization').on('certificate_crls').column('organization_id').execute();
}
