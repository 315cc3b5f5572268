// Every migration, tried from every earlier schema version with data in it, on every engine. For each version k
// (migrations 1..k applied, as a certgate of that version left its store), the rows that version could hold are
// written with plain inserts of that version's columns; then the current build opens the store as a server does
// (openRuntime: migrate() at start) and must find every row as written, the columns added since at their documented
// values, the same schema as a fresh store's, everything in its snapshot and keys, and a working write path.
//
// Table-driven: STEPS has one entry per migration. A new migration (010_…) fails the first test until its step is
// added here: the rows its version can hold, and the values the columns it adds take in older rows.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql } from '../../src/store/kysely.js';
import { auditEntry } from '../../src/domain/audit.js';
import { newId, type IdPrefix } from '../../src/domain/ids.js';
import { DEFAULT_ORGANIZATION_ID, ORGANIZATION_SCOPE, type Actor, type Permission } from '../../src/domain/model.js';
import { grantedBy } from '../../src/domain/permissions.js';
import { readTrustAnchor } from '../../src/domain/checks/anchor.js';
import { sha256Hex } from '../../src/domain/x509/pem.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { createAdminKey } from '../../src/services/admin-keys.js';
import { setActive, uploadCertificate } from '../../src/services/certificates.js';
import { createProject } from '../../src/services/projects.js';
import { createServiceAccount } from '../../src/services/service-accounts.js';
import type { OrganizationSnapshot } from '../../src/state/snapshot.js';
import { hashKey, redactKey } from '../../src/state/keys.js';
import { migrations } from '../../src/store/migrations/index.js';
import { openStore } from '../../src/store/open.js';
import { SQLITE_FILE } from '../../src/store/sqlite.js';
import { engines, type EngineUnderTest } from '../support/engines.js';
import { makeCa, makeClient, makeCrl, type Issued } from '../support/pki.js';

const ORG = DEFAULT_ORGANIZATION_ID;
const BY: Actor = { organizationId: ORG, key: null, local: 'migrations test' };

type Row = Record<string, unknown>;
type Place = { dataDir: string; databaseUrl?: string };

/** What the data steps write with: an insert that is remembered, so that the upgraded store can be held to it. */
interface Writer {
  put(table: string, row: Row): Promise<void>;
}

/** Everything the steps put in a store, made once per run (certificates are made at test time). */
interface World {
  readonly t0: number;
  readonly cas: readonly Issued[];
  readonly crl: string;
  readonly client: Issued;
  /** a CA no step writes, uploaded after the upgrade */
  readonly spare: Issued;
  readonly ids: Record<string, string>;
  /** key hash → the key's value, for every key a step writes */
  readonly keyValues: Map<string, string>;
}

interface Step {
  readonly migration: string;
  /** writes the rows a store of this version can hold that an earlier version's could not, with this version's columns */
  readonly data: (w: Writer, world: World) => Promise<void>;
  /** the columns this migration adds to existing tables, and the value each must have in a row written before it */
  readonly adds?: Readonly<Record<string, Readonly<Record<string, (row: Row) => unknown>>>>;
}

const certificateRow = (world: World, n: number, extra: Row = {}): Row => {
  const facts = readTrustAnchor(world.cas[n]!.pem, new Date(), 'certificate');
  return {
    id: world.ids[`cert${n}`],
    organization_id: ORG,
    name: n === 2 ? null : `CA ${n}`,
    fingerprint: facts.fingerprint,
    content: facts.pem,
    valid_at: Math.floor(facts.notBefore.getTime() / 1000),
    expires_at: Math.floor(facts.notAfter.getTime() / 1000),
    created_at: world.t0 + n,
    ...extra,
  };
};

const STEPS: readonly Step[] = [
  {
    migration: '001_initial',
    async data(w, world) {
      const { ids, t0 } = world;
      await w.put('organizations', { id: ORG, name: 'Default organization', revision: 5, created_at: t0 });
      const owner = 'sk-admin-migrations-owner-0123456789abcdefghij';
      world.keyValues.set(hashKey(owner), owner);
      await w.put('admin_api_keys', { id: ids.ownerKey, organization_id: ORG, name: 'owner', key_hash: hashKey(owner), redacted_value: redactKey(owner), created_at: t0 });
      await w.put('projects', { id: ids.project, organization_id: ORG, name: 'payments', external_key_id: 'ext-payments', created_at: t0 + 1, archived_at: null });
      await w.put('projects', { id: ids.archived, organization_id: ORG, name: 'old', external_key_id: null, created_at: t0 + 2, archived_at: t0 + 3 });
      for (const n of [0, 1, 2]) await w.put('certificates', certificateRow(world, n));
      await w.put('activations', { organization_id: ORG, certificate_id: ids.cert0, scope: ORGANIZATION_SCOPE, created_at: t0 + 4 });
      await w.put('activations', { organization_id: ORG, certificate_id: ids.cert1, scope: ids.project, created_at: t0 + 4 });
      await w.put('service_accounts', { id: ids.account, organization_id: ORG, project_id: ids.project, name: 'svc', role: 'member', created_at: t0 + 5 });
      await w.put('service_accounts', { id: ids.keyless, organization_id: ORG, project_id: ids.project, name: 'keyless', role: 'none', created_at: t0 + 5 });
      await w.put('service_accounts', { id: ids.archivedAccount, organization_id: ORG, project_id: ids.archived, name: 'svc old', role: 'member', created_at: t0 + 2 });
      for (const [keyId, account, project, value] of [
        [ids.projectKey, ids.account, ids.project, 'sk-svcacct-migrations-payments-0123456789abcdefghij'],
        [ids.archivedProjectKey, ids.archivedAccount, ids.archived, 'sk-svcacct-migrations-old-0123456789abcdefghijklmno'],
      ] as const) {
        world.keyValues.set(hashKey(value!), value!);
        await w.put('project_api_keys', { id: keyId, organization_id: ORG, project_id: project, service_account_id: account, key_hash: hashKey(value!), redacted_value: redactKey(value!), created_at: t0 + 5 });
      }
    },
  },
  {
    migration: '002_certificate_filters',
    async data(w, world) {
      await w.put('certificates', certificateRow(world, 3, { filter_expression: 'subject.organizational_unit == "Production"', filter_updated_at: world.t0 + 6 }));
      await w.put('activations', { organization_id: ORG, certificate_id: world.ids.cert3, scope: ORGANIZATION_SCOPE, created_at: world.t0 + 6 });
    },
    adds: { certificates: { filter_expression: () => null, filter_updated_at: () => null } },
  },
  {
    migration: '003_certificate_crls',
    async data(w, world) {
      const t = world.t0;
      await w.put('certificate_crls', { certificate_id: world.ids.cert1, organization_id: ORG, content: world.crl, this_update: t - 60, next_update: t + 7 * 86400, revoked_count: 1, updated_at: t + 7 });
    },
  },
  {
    migration: '004_mtls_settings',
    async data(w, world) {
      const t = world.t0;
      await w.put('mtls_settings', { organization_id: ORG, scope: ORGANIZATION_SCOPE, mode: 'enforce', updated_at: t + 8 });
      await w.put('mtls_settings', { organization_id: ORG, scope: world.ids.project, mode: 'observe', updated_at: t + 8 });
      await w.put('mtls_observations', { organization_id: ORG, scope: world.ids.project, would_refuse: 3, admitted: 40, since: t + 8 });
    },
  },
  {
    migration: '005_observed_clients',
    async data(w, world) {
      const t = world.t0;
      const chain = [world.client.cert.rawData, world.cas[1]!.cert.rawData].map((der) => Buffer.from(der).toString('base64')).join(',');
      const leaf = sha256Hex(Buffer.from(world.client.cert.rawData));
      const seen = { organization_id: ORG, project_id: world.ids.project, service_account_id: world.ids.account };
      await w.put('observed_clients', { ...seen, fingerprint: leaf, subject: 'CN=certgate test client', chain, certificate_id: world.ids.cert1, first_seen: t + 9, last_seen: t + 60, requests: 17 });
      await w.put('observed_clients', { ...seen, fingerprint: '', subject: null, chain: '', certificate_id: null, first_seen: t + 9, last_seen: t + 30, requests: 3 });
    },
  },
  {
    migration: '006_admin_keys_and_audit_log',
    async data(w, world) {
      const { ids, t0 } = world;
      const reader = 'sk-admin-migrations-reader-0123456789abcdefghij';
      const gone = 'sk-admin-migrations-deleted-0123456789abcdefghi';
      world.keyValues.set(hashKey(reader), reader);
      world.keyValues.set(hashKey(gone), gone);
      await w.put('admin_api_keys', {
        id: ids.readerKey, organization_id: ORG, name: 'reader', key_hash: hashKey(reader), redacted_value: redactKey(reader), created_at: t0 + 10,
        permissions: JSON.stringify(['api.mtls.read']), expires_at: t0 + 86400, last_used_at: t0 + 11, deleted_at: null,
      });
      await w.put('admin_api_keys', {
        id: ids.deletedKey, organization_id: ORG, name: 'gone', key_hash: hashKey(gone), redacted_value: redactKey(gone), created_at: t0 + 10,
        permissions: null, expires_at: null, last_used_at: null, deleted_at: t0 + 12,
      });
      const actor: Actor = { organizationId: ORG, key: { id: ids.ownerKey, name: 'owner', redactedValue: 'sk-admin-...ghij' } };
      const events = [
        { id: ids.audit0, event: { type: 'project.created' as const, project: { id: ids.project, name: 'payments' }, resourceIds: [ids.project], details: { id: ids.project, data: { name: 'payments', title: 'payments' } } } },
        { id: ids.audit1, event: { type: 'certificates.activated' as const, project: null, resourceIds: [ids.cert0, ids.cert3], details: { certificates: [{ id: ids.cert0, name: 'CA 0' }] } } },
      ];
      for (const [i, { id, event }] of events.entries()) {
        const entry = auditEntry(id!, t0 + 13 + i, actor, event);
        await w.put('audit_logs', { id, organization_id: ORG, type: entry.type, effective_at: entry.effective_at, actor_id: ids.ownerKey, project_id: event.project?.id ?? null, body: JSON.stringify(entry) });
        for (const resource of event.resourceIds) await w.put('audit_log_resources', { audit_log_id: id, resource_id: resource });
      }
    },
    adds: { admin_api_keys: { permissions: () => null, expires_at: () => null, last_used_at: () => null, deleted_at: () => null } },
  },
  {
    migration: '007_organization_changes',
    async data(w, world) {
      // the feed of the organization's 5 revisions (001's row), from its first: changes_from stays at its default 0
      const { ids } = world;
      const feed = [['certificate', ids.cert0], ['project', ids.project], ['service_account', ids.account], ['keys', 'project'], ['activations', ids.cert0]];
      for (const [i, [kind, ref]] of feed.entries()) await w.put('organization_changes', { organization_id: ORG, revision: i + 1, kind, ref });
    },
    // every revision made before the feed existed is behind it
    adds: { organizations: { changes_from: (row) => row.revision } },
  },
  // indexes only: no rows a store of these versions holds that the one before could not
  { migration: '008_write_path_indexes', async data() {} },
  { migration: '009_audit_retention', async data() {} },
  {
    migration: '010_bounded_sightings',
    async data(w, world) {
      // a sighting with its issuer, which the rows before it do not have
      const seen = { organization_id: ORG, project_id: world.ids.project, service_account_id: world.ids.account };
      await w.put('observed_clients', { ...seen, fingerprint: 'f'.repeat(64), subject: 'CN=seen since 010', issuer: 'CN=CA 1', chain: '', certificate_id: null, first_seen: world.t0 + 70, last_seen: world.t0 + 80, requests: 2 });
    },
    // sightings stored before it have no issuer; their chains are within the bound already (two certificates)
    adds: { observed_clients: { issuer: () => null } },
  },
];

/** A Kysely of the test's own on the store's database (not the store's: this one knows no schema). */
function rawDb(place: Place): Kysely<any> {
  if (place.databaseUrl) return new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: place.databaseUrl, max: 1 }) }) });
  const raw = new BetterSqlite3(join(place.dataDir, SQLITE_FILE));
  raw.pragma('foreign_keys = ON');
  return new Kysely<any>({ dialect: new SqliteDialect({ database: raw }) });
}

/** The store as a certgate whose last migration was the k-th left it: what SqlStore.migrate() did then, with migrations 1..k. */
async function migrateTo(db: Kysely<any>, k: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.schema
      .createTable('certgate_migrations')
      .ifNotExists()
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('applied_at', 'bigint', (c) => c.notNull())
      .execute();
    for (const migration of migrations.slice(0, k)) {
      await migration.up(trx);
      await trx.insertInto('certgate_migrations').values({ name: migration.name, applied_at: 1_700_000_000 }).execute();
    }
  });
}

/** Tables, columns, indexes and constraints, as text that two stores of the same schema share. */
async function schemaOf(db: Kysely<any>, engine: EngineUnderTest['name']): Promise<string[]> {
  if (engine === 'sqlite') {
    const { rows } = await sql<any>`select type, name, tbl_name, sql from sqlite_master where name not like 'sqlite_%' order by name`.execute(db);
    return rows.map((r: any) => `${r.type} ${r.name} ${r.tbl_name} ${r.sql}`);
  }
  const columns = await sql<any>`select table_name, column_name, ordinal_position, data_type, is_nullable, column_default from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position`.execute(db);
  const indexes = await sql<any>`select indexname, indexdef from pg_indexes where schemaname = 'public' order by indexname`.execute(db);
  const constraints = await sql<any>`select conrelid::regclass::text as t, conname, pg_get_constraintdef(oid) as def from pg_constraint where connamespace = 'public'::regnamespace order by t, conname`.execute(db);
  return [
    ...columns.rows.map((r: any) => `column ${r.table_name}.${r.column_name} #${r.ordinal_position} ${r.data_type} ${r.is_nullable} ${r.column_default}`),
    ...indexes.rows.map((r: any) => `index ${r.indexname}: ${r.indexdef}`),
    ...constraints.rows.map((r: any) => `constraint ${r.t}.${r.conname}: ${r.def}`),
  ];
}

async function tablesOf(db: Kysely<any>): Promise<string[]> {
  return (await db.introspection.getTables()).map((t) => t.name).filter((name) => name !== 'certgate_migrations').sort();
}

/** 'table.column' for every column of every table. */
async function columnsOf(db: Kysely<any>): Promise<Set<string>> {
  return new Set((await db.introspection.getTables()).flatMap((t) => t.columns.map((c) => `${t.name}.${c.name}`)));
}

/** Values as both engines' drivers give them back: an int8 may come as a string. */
const same = (read: unknown, written: unknown) => (read === null || written === null ? read === written : String(read) === String(written));

/**
 * Every row written is found with the same values in every column that still exists, and nothing else is there;
 * a column a later migration added has the value that migration documents.
 */
async function everyRowAsWritten(db: Kysely<any>, written: readonly { table: string; row: Row }[], addedSince: readonly Step[]): Promise<void> {
  for (const table of await tablesOf(db)) {
    const stored: Row[] = await db.selectFrom(table).selectAll().execute();
    const mine = written.filter((w) => w.table === table);
    assert.equal(stored.length, mine.length, `${table}: as many rows as were written`);
    for (const { row } of mine) {
      const at = stored.findIndex((s) => Object.entries(row).every(([column, value]) => !(column in s) || same(s[column], value)));
      assert.notEqual(at, -1, `${table}: a row written as ${JSON.stringify(row)} is still there, as written`);
      const found = stored.splice(at, 1)[0]!;
      for (const step of addedSince) {
        for (const [column, expected] of Object.entries(step.adds?.[table] ?? {})) {
          assert.ok(same(found[column], expected(row)), `${table}.${column} after ${step.migration}: ${String(found[column])}, expected ${String(expected(row))}`);
        }
      }
    }
  }
}

/** Everything a snapshot says, in a canonical order (as the change feed's test compares them). */
function view(s: OrganizationSnapshot): string {
  return JSON.stringify({
    revision: s.revision,
    certificates: s.certificates,
    projects: s.projects,
    serviceAccounts: s.serviceAccounts,
    activations: s.activations().map((a) => `${a.scope} ${a.certificateId}`).sort(),
    modes: [...s.modes()].sort((a, b) => (a.scope < b.scope ? -1 : 1)),
  });
}

/** What the current runtime must see of the rows written at version k. */
async function runtimeSeesEverything(rt: Runtime, written: readonly { table: string; row: Row }[], world: World): Promise<void> {
  const rows = (table: string) => written.filter((w) => w.table === table).map((w) => w.row);
  const snapshot = await rt.snapshot(ORG);
  assert.equal(snapshot.revision, 5, 'the revision as stored');
  assert.deepEqual(snapshot.certificates.map((c) => c.id), rows('certificates').map((r) => r.id).sort());
  for (const r of rows('certificates')) {
    const c = snapshot.certificate(r.id as string)!;
    assert.equal(c.fingerprint, r.fingerprint);
    assert.equal(c.content, r.content);
    assert.equal(c.name, r.name);
    assert.equal(c.filterExpression, r.filter_expression ?? null);
    const crl = rows('certificate_crls').find((x) => x.certificate_id === r.id);
    assert.equal(c.crl?.content ?? null, crl?.content ?? null);
    if (crl) assert.equal(c.crl!.revokedCount, 1);
  }
  assert.deepEqual(snapshot.activations().map((a) => `${a.scope} ${a.certificateId}`).sort(), rows('activations').map((r) => `${r.scope} ${r.certificate_id}`).sort());
  assert.deepEqual(snapshot.projects.map((p) => [p.id, p.name, p.archivedAt]), rows('projects').map((r) => [r.id, r.name, r.archived_at]).sort());
  assert.deepEqual(snapshot.serviceAccounts.map((a) => a.id), rows('service_accounts').map((r) => r.id).sort());
  assert.deepEqual(snapshot.modes().map((m) => `${m.scope} ${m.mode}`).sort(), rows('mtls_settings').map((r) => `${r.scope} ${r.mode}`).sort());
  for (const r of rows('project_api_keys')) {
    const owner = (await rt.keys.projectKey(world.keyValues.get(r.key_hash as string)!))?.owner;
    assert.deepEqual(owner && { ...owner }, { keyId: r.id, organizationId: ORG, projectId: r.project_id, serviceAccountId: r.service_account_id }, 'a project key resolves to its owner');
  }
  assert.equal(await rt.keys.projectKey('sk-svcacct-not-a-key-of-this-store'), undefined);
  for (const r of rows('admin_api_keys')) {
    // as a request asks: the key, and whether the current snapshot still holds it
    const key = world.keyValues.get(r.key_hash as string)!;
    const owner = await rt.state.adminKey(`Bearer ${key}`, key, undefined, true);
    if (r.deleted_at) {
      assert.equal(owner, undefined, 'a deleted admin key stays deleted');
      continue;
    }
    assert.equal(owner?.key.id, r.id);
    assert.deepEqual([...owner!.permissions].sort(), [...grantedBy(r.permissions ? (JSON.parse(r.permissions as string) as Permission[]) : null)].sort(), 'an admin key from before permissions is an owner key');
  }
  const audit = await rt.store.auditLogs(ORG, { effectiveAt: {}, types: [], projectIds: [], actorIds: [], resourceIds: [], limit: 100 });
  assert.deepEqual(audit.map((e) => e.id).sort(), rows('audit_logs').map((r) => r.id).sort());
  const byResource = await rt.store.auditLogs(ORG, { effectiveAt: {}, types: [], projectIds: [], actorIds: [], resourceIds: [world.ids.cert3!], limit: 100 });
  assert.deepEqual(byResource.map((e) => e.id), rows('audit_log_resources').filter((r) => r.resource_id === world.ids.cert3).map((r) => r.audit_log_id));
  const observations = await rt.store.observations(ORG, world.ids.project!);
  assert.equal(observations.wouldRefuse, rows('mtls_observations').length ? 3 : 0);
  const clients = await rt.store.observedClients(ORG, 0);
  assert.deepEqual(clients.map((c) => `${c.fingerprint} ${c.requests} ${c.chain.length}`).sort(), rows('observed_clients').map((r) => `${r.fingerprint} ${r.requests} ${(r.chain as string) === '' ? 0 : (r.chain as string).split(',').length}`).sort());
}

/** Writes through the services on the upgraded store; a snapshot brought up to date by the feed equals one loaded whole. */
async function writesWork(rt: Runtime, world: World): Promise<void> {
  const old = await rt.snapshot(ORG);
  const project = await createProject(rt, BY, { name: 'after the upgrade' });
  const account = await createServiceAccount(rt, BY, project.id, { name: 'svc after' });
  await setActive(rt, BY, project.id, [world.ids.cert0!], true);
  const uploaded = await uploadCertificate(rt, BY, { certificate: world.spare.pem });
  const admin = await createAdminKey(rt, BY, { name: 'after', permissions: ['api.management.read'] });
  assert.equal((await rt.keys.projectKey(account.apiKey!.value))?.owner.projectId, project.id);
  assert.equal((await rt.state.adminKey(`Bearer ${admin.value}`, admin.value, undefined, true))?.key.id, admin.record.id);
  const now = await rt.state.current(ORG);
  assert.equal(now.revision, old.revision + 5);
  assert.ok(now.project(project.id) && now.certificate(uploaded.id));
  assert.ok(now.activeIn(project.id).has(world.ids.cert0!));
  const patch = await rt.store.catchUp(ORG, old.revision);
  assert.ok(patch, 'the feed reaches back to the revision the upgraded store was at');
  assert.equal(view(old.patched(patch)), view(now));
  const audit = await rt.store.auditLogs(ORG, { effectiveAt: {}, types: [], actorIds: [], resourceIds: [], projectIds: [project.id], limit: 10 });
  assert.deepEqual(audit.map((e) => e.type).sort(), ['certificates.activated', 'project.created', 'service_account.created'], 'the writes in the project were audited');
}

async function appliedMigrations(db: Kysely<any>): Promise<Row[]> {
  return (await db.selectFrom('certgate_migrations').selectAll().orderBy('name').execute()).map((r) => ({ name: r.name, applied_at: String(r.applied_at) }));
}

let world: World;

before(async () => {
  const cas = await Promise.all([0, 1, 2, 3].map((n) => makeCa({ name: `migrations CA ${n}`, subject: `CN=migrations CA ${n}, OU=Production` })));
  const client = await makeClient(cas[1]!);
  const ids: Record<string, string> = {};
  const prefixed = { cert: ['cert0', 'cert1', 'cert2', 'cert3'], proj: ['project', 'archived'], svc_acct: ['account', 'keyless', 'archivedAccount'], key: ['ownerKey', 'projectKey', 'archivedProjectKey', 'readerKey', 'deletedKey'], audit_log: ['audit0', 'audit1'] } as const;
  for (const [prefix, names] of Object.entries(prefixed)) for (const name of names) ids[name] = newId(prefix as IdPrefix);
  world = {
    t0: Math.floor(Date.now() / 1000) - 3600,
    cas,
    client,
    crl: await makeCrl(cas[1]!, { revoked: [client] }),
    spare: await makeCa({ name: 'migrations spare CA' }),
    ids,
    keyValues: new Map(),
  };
});

describe('migrations', () => {
  it('every migration has its step here, in order', () => {
    assert.deepEqual(STEPS.map((s) => s.migration), migrations.map((m) => m.name));
  });

  for (const engine of engines) {
    describe(`from every earlier schema version, with data (${engine.name})`, () => {
      let fresh: string[];

      before(async () => {
        const place = await engine.fresh();
        try {
          await (await openStore({ dataDir: place.dataDir, databaseUrl: place.databaseUrl })).close();
          const db = rawDb(place);
          try {
            fresh = await schemaOf(db, engine.name);
          } finally {
            await db.destroy();
          }
        } finally {
          await place.drop();
        }
      });

      for (let k = 1; k < migrations.length; k++) {
        it(`a store at ${migrations[k - 1]!.name} upgrades with every row, and works`, async () => {
          const place = await engine.fresh();
          const written: { table: string; row: Row }[] = [];
          let columnsAtK = new Set<string>();
          try {
            let db = rawDb(place);
            try {
              await migrateTo(db, k);
              const writer: Writer = {
                async put(table, row) {
                  await db.insertInto(table).values(row).execute();
                  written.push({ table, row });
                },
              };
              for (const step of STEPS.slice(0, k)) await step.data(writer, world);
              assert.deepEqual(await tablesOf(db), [...new Set(written.map((w) => w.table))].sort(), `every table of version ${k} holds rows`);
              columnsAtK = await columnsOf(db);
            } finally {
              await db.destroy();
            }

            const rt = await openRuntime({ dataDir: place.dataDir, databaseUrl: place.databaseUrl }); // migrate() at start, as every process does
            try {
              db = rawDb(place);
              try {
                await everyRowAsWritten(db, written, STEPS.slice(k));
                // a column added to a table that had rows says, in its migration's step, what those rows hold in it
                const declared = new Set(STEPS.slice(k).flatMap((s) => Object.entries(s.adds ?? {}).flatMap(([t, cs]) => Object.keys(cs).map((c) => `${t}.${c}`))));
                const tables = new Set([...columnsAtK].map((c) => c.split('.')[0]));
                const added = [...(await columnsOf(db))].filter((c) => !columnsAtK.has(c) && tables.has(c.split('.')[0]));
                assert.deepEqual(added.filter((c) => !declared.has(c)), [], 'every column added to an existing table has its value in older rows declared');
                assert.deepEqual(await schemaOf(db, engine.name), fresh, 'the same schema as a store made by this version');
                const applied = await appliedMigrations(db);
                assert.deepEqual(applied.map((r) => r.name), migrations.map((m) => m.name));
                await runtimeSeesEverything(rt, written, world);
                // migrate() again (the next process to start): nothing changes
                await rt.store.migrate();
                assert.deepEqual(await appliedMigrations(db), applied);
                assert.deepEqual(await schemaOf(db, engine.name), fresh);
                await everyRowAsWritten(db, written, STEPS.slice(k));
              } finally {
                await db.destroy();
              }
              await writesWork(rt, world);
            } finally {
              await rt.close();
            }
          } finally {
            await place.drop();
          }
        });
      }

      it('an upgrade that fails part way leaves the store as it was, for the version before to run on', async () => {
        const place = await engine.fresh();
        const where = { dataDir: place.dataDir, databaseUrl: place.databaseUrl };
        const k = 5;
        try {
          let db = rawDb(place);
          let before: { schema: string[]; applied: Row[] };
          const written: { table: string; row: Row }[] = [];
          try {
            await migrateTo(db, k);
            const writer: Writer = {
              async put(table, row) {
                await db.insertInto(table).values(row).execute();
                written.push({ table, row });
              },
            };
            for (const step of STEPS.slice(0, k)) await step.data(writer, world);
            // something in the way of the last migration's index (tables and indexes share one namespace on both
            // engines): the migrations before it succeed in the transaction, then the last one fails
            await db.schema.createTable('audit_log_resources_by_event').addColumn('x', 'text').execute();
            before = { schema: await schemaOf(db, engine.name), applied: await appliedMigrations(db) };
          } finally {
            await db.destroy();
          }
          await assert.rejects(openStore(where));
          db = rawDb(place);
          try {
            if (engine.name === 'postgres') {
              // the store that failed to open was closed: none of its connections is left behind the error
              const others = async () => Number((await sql<{ n: string }>`select count(*) as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`.execute(db)).rows[0]!.n);
              for (let i = 0; i < 50 && (await others()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
              assert.equal(await others(), 0, 'no connection of the failed store is left open');
            }
            assert.deepEqual(await schemaOf(db, engine.name), before.schema, 'no migration of the failed upgrade is left half applied');
            assert.deepEqual(await appliedMigrations(db), before.applied);
            await everyRowAsWritten(db, written, []);
            await db.schema.dropTable('audit_log_resources_by_event').execute();
          } finally {
            await db.destroy();
          }
          // out of the way, the next start upgrades
          const rt = await openRuntime(where);
          try {
            await runtimeSeesEverything(rt, written, world);
          } finally {
            await rt.close();
          }
        } finally {
          await place.drop();
        }
      });

      // a store a newer certgate has migrated (999_…) is refused at start, as `certgate restore` refuses such a file:
      // served by this older version, it would be read and written by code that does not know its schema
      it('refuses a store that a newer certgate has migrated', async () => {
        const place = await engine.fresh();
        try {
          const db = rawDb(place);
          try {
            await migrateTo(db, migrations.length);
            await db.insertInto('certgate_migrations').values({ name: '999_from_the_future', applied_at: 1_700_000_000 }).execute();
          } finally {
            await db.destroy();
          }
          await assert.rejects(async () => (await openStore({ dataDir: place.dataDir, databaseUrl: place.databaseUrl })).close(), /migrated by a newer certgate \(999_from_the_future\)/);
        } finally {
          await place.drop();
        }
      });
    });
  }
});
