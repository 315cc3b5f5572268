import { migrations } from './migrations/index.js';
import { StoreTooNew } from './store.js';
import { inTransaction, type Engine } from './engine.js';

// What a store needs before it serves: its schema brought up to this version's, and the organization it serves.

export function migrate(engine: Engine): Promise<void> {
  return inTransaction(engine, engine.beginWrite, async (conn) => {
    await engine.lockMigrations(conn);
    await conn.schema
      .createTable('certgate_migrations')
      .ifNotExists()
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('applied_at', 'bigint', (c) => c.notNull())
      .execute();
    const applied = new Set((await conn.selectFrom('certgate_migrations').select('name').execute()).map((r) => r.name));
    // a store a newer certgate has migrated holds what this version does not know how to read or keep: refused,
    // never served as if it were this version's (downgrade by restoring a backup this version wrote)
    const known = new Set(migrations.map((m) => m.name));
    const newer = [...applied].filter((name) => !known.has(name)).sort();
    if (newer.length > 0) {
      throw new StoreTooNew(
        `this store was migrated by a newer certgate (${newer.join(', ')}); run that version or a later one, or restore a backup made by this one`,
      );
    }
    for (const migration of migrations) {
      if (applied.has(migration.name)) continue;
      await migration.up(conn);
      await conn
        .insertInto('certgate_migrations')
        .values({ name: migration.name, applied_at: Math.floor(Date.now() / 1000) })
        .execute();
    }
  });
}

export async function ensureOrganization(engine: Engine, id: string, name: string, now: number): Promise<void> {
  await engine.db
    .insertInto('organizations')
    .values({ id, name, created_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}
