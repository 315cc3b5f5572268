import type { Kysely } from 'kysely';

// Audit retention deletes the oldest events in small batches, each with the rows that index its resources. Those
// rows are keyed (resource_id, audit_log_id) for the resource_ids filter; without an index on audit_log_id, every
// batch would read the whole table to find them.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('audit_log_resources_by_event').on('audit_log_resources').column('audit_log_id').execute();
}
