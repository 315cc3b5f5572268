import type { Kysely } from 'kysely';

// A certificate's activations, looked up by the change feed on every toggle (catchUp) and before a certificate is
// deleted, were found through activations_by_organization (organization_id, scope): SQLite, without statistics,
// took its equality on organization_id over the primary key's IN on certificate_id, and so read every activation
// of the organization. This index answers `organization_id = ? AND certificate_id IN (…)` exactly.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('activations_by_certificate').on('activations').columns(['organization_id', 'certificate_id']).execute();
}
