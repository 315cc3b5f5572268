import type { Kysely } from 'kysely';

// The change feed: what each write transaction touched, under the revision it made, so a process holding a
// snapshot of revision R catches up by reading the rows changed since R rather than the whole organization.
// `changes_from`: the feed holds every change of the revisions after it (older ones are pruned).

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('organization_changes')
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('ref', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('organization_changes_pk', ['organization_id', 'revision', 'kind', 'ref'])
    .execute();
  // every revision made before the feed existed is behind it: a snapshot that old reloads in full
  await db.schema.alterTable('organizations').addColumn('changes_from', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.updateTable('organizations').set((eb: any) => ({ changes_from: eb.ref('revision') })).execute();
}
