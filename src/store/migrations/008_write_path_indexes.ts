import type { Kysely } from 'kysely';

// Indexes so that a write finds the rows it needs without reading a whole organization or table:
// - activations_by_certificate: a certificate's activations, looked up by the change feed on every toggle (catchUp)
//   and before a certificate is deleted, were found through activations_by_organization (organization_id, scope):
//   SQLite, without statistics, took its equality on organization_id over the primary key's IN on certificate_id,
//   and so read every activation of the organization. This index answers `organization_id = ? AND certificate_id IN
//   (…)` exactly.
// - project_api_keys_by_service_account: deleting a service account cascades to its key; without an index on the
//   referencing column, the database looks for it through every project key of every organization.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('activations_by_certificate').on('activations').columns(['organization_id', 'certificate_id']).execute();
  await db.schema.createIndex('project_api_keys_by_service_account').on('project_api_keys').column('service_account_id').execute();
}
