// What a write costs must not grow with the organization: every statement certgate issues on SQLite for the admin
// API's writes and the change feed that follows them finds its rows through an index that narrows them below the
// organization (no table scan, no index searched by organization_id alone, which reads every row it holds).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type BetterSqlite3 from 'better-sqlite3';
import { DEFAULT_ORGANIZATION_ID, ORGANIZATION_SCOPE, type Actor } from '../../src/domain/model.js';
import { openRuntime } from '../../src/runtime.js';
import { deleteCertificate, setActive, uploadCertificate } from '../../src/services/certificates.js';
import { createProject } from '../../src/services/projects.js';
import { createServiceAccount } from '../../src/services/service-accounts.js';
import { SQLITE_FILE } from '../../src/store/sqlite.js';
import { engines } from '../support/engines.js';
import { makeCa } from '../support/pki.js';

const BY: Actor = { organizationId: DEFAULT_ORGANIZATION_ID, key: null, local: 'test' };
const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;

/** The SQL text of every statement prepared while `work` runs. */
async function statementsOf(work: () => Promise<void>): Promise<Set<string>> {
  const seen = new Set<string>();
  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function (this: BetterSqlite3.Database, source: string) {
    seen.add(source);
    return prepare.call(this, source);
  } as typeof prepare;
  try {
    await work();
  } finally {
    Database.prototype.prepare = prepare;
  }
  return seen;
}

describe('SQLite query plans of the write path', () => {
  it('find their rows by an index narrower than the organization', async () => {
    const place = await engines.find((e) => e.name === 'sqlite')!.fresh();
    const rt = await openRuntime({ dataDir: place.dataDir, databaseUrl: undefined });
    const pems = await Promise.all([1, 2].map((i) => makeCa({ name: `plan ${i}` }).then((ca) => ca.pem)));
    try {
      const project = await createProject(rt, BY, { name: 'p' });
      await createServiceAccount(rt, BY, project.id, { name: 'svc' });
      const kept = await uploadCertificate(rt, BY, { certificate: pems[0] });
      await rt.snapshot(DEFAULT_ORGANIZATION_ID);
      const statements = await statementsOf(async () => {
        const gone = await uploadCertificate(rt, BY, { certificate: pems[1] });
        await rt.snapshot(DEFAULT_ORGANIZATION_ID);
        for (const scope of [project.id, ORGANIZATION_SCOPE]) {
          for (const active of [true, false]) {
            await setActive(rt, BY, scope, [kept.id], active);
            await rt.snapshot(DEFAULT_ORGANIZATION_ID); // the change feed's catch-up
          }
        }
        await deleteCertificate(rt, BY, gone.id);
        await rt.snapshot(DEFAULT_ORGANIZATION_ID);
      });
      const raw = new Database(join(place.dataDir, SQLITE_FILE), { readonly: true });
      try {
        const checked: string[] = [];
        for (const source of statements) {
          if (!/^\s*(select|insert|update|delete)\b/i.test(source)) continue;
          // the organization's whole count, bounded by the 50-certificate limit, is the one read of all its rows
          if (/count\(\*\)/i.test(source) && /from "certificates"/.test(source)) continue;
          const parameters = (source.match(/\?/g) ?? []).map(() => 'x');
          const plan = raw.prepare(`EXPLAIN QUERY PLAN ${source}`).all(...parameters) as { detail: string }[];
          for (const { detail } of plan) {
            if (/^SCAN [\w-]+ VALUES CLAUSE$/.test(detail)) continue; // the rows an insert names
            assert.doesNotMatch(detail, /^SCAN /, `${source}\n  scans: ${detail}`);
            assert.doesNotMatch(detail, /\(organization_id=\?\)$/, `${source}\n  reads the whole organization: ${detail}`);
          }
          checked.push(source);
        }
        assert.ok(checked.some((s) => /from "activations"/.test(s)), 'the activations were read');
        assert.ok(checked.some((s) => /from "organization_changes"/.test(s)), 'the change feed was read');
      } finally {
        raw.close();
      }
    } finally {
      await rt.close();
      await place.drop();
    }
  });

  it('has an index for every reference to a row certgate deletes, so a delete cascades or checks without a scan', async () => {
    const place = await engines.find((e) => e.name === 'sqlite')!.fresh();
    const rt = await openRuntime({ dataDir: place.dataDir, databaseUrl: undefined });
    await rt.close();
    const raw = new Database(join(place.dataDir, SQLITE_FILE), { readonly: true });
    try {
      const deleted = new Set(['certificates', 'service_accounts']); // what the store deletes that other tables reference
      const tables = (raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
      const references: string[] = [];
      for (const table of tables) {
        const keys = raw.prepare(`SELECT "table" AS parent, "from" AS child FROM pragma_foreign_key_list(?)`).all(table) as { parent: string; child: string }[];
        for (const { parent, child } of keys) {
          if (!deleted.has(parent)) continue;
          references.push(`${table}.${child}`);
          const indexes = raw.prepare('SELECT name FROM pragma_index_list(?)').all(table) as { name: string }[];
          const leading = indexes.map(({ name }) => (raw.prepare('SELECT name FROM pragma_index_info(?) WHERE seqno = 0').get(name) as { name: string }).name);
          assert.ok(leading.includes(child), `${table}.${child} references ${parent} but no index of ${table} starts with it`);
        }
      }
      assert.deepEqual(references.sort(), ['activations.certificate_id', 'certificate_crls.certificate_id', 'project_api_keys.service_account_id']);
    } finally {
      raw.close();
      await place.drop();
    }
  });
});
