import type { Kysely } from 'kysely';

// A trust anchor's CEL filter (a certgate extension of OpenAI's object):
// the expression, and when it was last set or removed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('certificates').addColumn('filter_expression', 'text').execute();
  await db.schema.alterTable('certificates').addColumn('filter_updated_at', 'bigint').execute();
}
