// The SQLite connection Kysely is given keeps its prepared statements: the same SQL is prepared once, answers stay
// right when a kept statement runs again with other parameters, and no more than KEPT_STATEMENTS are kept.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from '../../src/store/kysely.js';
import { KEPT_STATEMENTS, keepingStatements } from '../../src/store/sqlite.js';
import { tempDir } from '../support/server.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;

interface Tables {
  things: { id: number; name: string };
}

describe('kept prepared statements (SQLite)', () => {
  const dir = tempDir();
  after(() => dir.remove());

  function open() {
    const raw = new Database(join(dir.path, `t-${Math.random().toString(36).slice(2)}.db`));
    raw.exec('create table things (id integer primary key, name text not null)');
    const prepared: string[] = [];
    const prepare = raw.prepare.bind(raw);
    raw.prepare = ((sql: string) => {
      prepared.push(sql);
      return prepare(sql);
    }) as typeof raw.prepare;
    const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: keepingStatements(raw) }) });
    return { db, prepared };
  }

  it('prepares the same SQL once and answers each run with its own parameters', async () => {
    const { db, prepared } = open();
    for (let id = 1; id <= 5; id++) await db.insertInto('things').values({ id, name: `n${id}` }).execute();
    for (let id = 1; id <= 5; id++) {
      const row = await db.selectFrom('things').select('name').where('id', '=', id).executeTakeFirst();
      assert.equal(row?.name, `n${id}`);
    }
    assert.equal(prepared.filter((sql) => sql.startsWith('insert')).length, 1);
    assert.equal(prepared.filter((sql) => sql.startsWith('select')).length, 1);
    await db.destroy();
  });

  it(`keeps at most ${KEPT_STATEMENTS}: the oldest is prepared again once more than that were used`, async () => {
    const { db, prepared } = open();
    await db.insertInto('things').values({ id: 1, name: 'one' }).execute();
    // an in (…) list of each length is its own SQL
    const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
    for (let n = 1; n <= KEPT_STATEMENTS; n++) await db.selectFrom('things').select('id').where('id', 'in', ids(n)).execute();
    const count = () => prepared.filter((sql) => sql.startsWith('select')).length;
    assert.equal(count(), KEPT_STATEMENTS);
    await db.selectFrom('things').select('id').where('id', 'in', ids(1)).execute();
    assert.equal(count(), KEPT_STATEMENTS, 'still kept: no new statement was needed');
    await db.selectFrom('things').select('id').where('id', 'in', ids(KEPT_STATEMENTS + 1)).execute();
    assert.equal(count(), KEPT_STATEMENTS + 1);
    // the first one (n = 1) was the oldest and made room
    const rows = await db.selectFrom('things').select('id').where('id', 'in', ids(1)).execute();
    assert.deepEqual(rows, [{ id: 1 }]);
    assert.equal(count(), KEPT_STATEMENTS + 2);
    await db.destroy();
  });
});
