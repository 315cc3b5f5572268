// Migration 010 on both engines: sightings stored whole before it (a chain of ten padded certificates) are cut to
// the per-client bound, and the issuer column appears; rows within the bound are left as they were.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { MAX_SIGHTING_CHAIN_BYTES } from '../../src/domain/sightings.js';
import { openStore } from '../../src/store/open.js';
import { SQLITE_FILE } from '../../src/store/sqlite.js';
import { engines } from '../support/engines.js';

/** Runs SQL on the store's database directly, as the build before 010 left it. */
async function raw(place: { dataDir: string; databaseUrl?: string }, statements: string[]): Promise<void> {
  if (place.databaseUrl) {
    const client = new pg.Client({ connectionString: place.databaseUrl });
    await client.connect();
    for (const s of statements) await client.query(s);
    await client.end();
  } else {
    const db = new BetterSqlite3(join(place.dataDir, SQLITE_FILE));
    for (const s of statements) db.exec(s);
    db.close();
  }
}

for (const engine of engines) {
  describe(`migration 010_bounded_sightings (${engine.name})`, () => {
    it('cuts stored chains to the bound and keeps the rest', async () => {
      const place = await engine.fresh();
      try {
        let store = await openStore({ dataDir: place.dataDir, databaseUrl: place.databaseUrl });
        await store.ensureOrganization('org-x', 'x', 1);
        const small = [Buffer.alloc(700, 1), Buffer.alloc(800, 2)];
        await store.recordClients('org-x', [
          { projectId: 'proj_a', serviceAccountId: 'svc_a', fingerprint: 'aa', subject: null, chain: small, certificateId: null, firstSeen: 10, lastSeen: 10, requests: 1 },
          { projectId: 'proj_a', serviceAccountId: 'svc_b', fingerprint: 'bb', subject: null, chain: small, certificateId: null, firstSeen: 10, lastSeen: 10, requests: 1 },
        ], 0, 100);
        await store.close();
        // as before 010: no issuer column, and a chain of ten 8 KB certificates stored as sent
        const whole = Array.from({ length: 10 }, (_, i) => Buffer.alloc(8000, i + 3).toString('base64')).join(',');
        await raw(place, [
          `DELETE FROM certgate_migrations WHERE name = '010_bounded_sightings'`,
          `ALTER TABLE observed_clients DROP COLUMN issuer`,
          `UPDATE observed_clients SET chain = '${whole}' WHERE fingerprint = 'bb'`,
        ]);
        store = await openStore({ dataDir: place.dataDir, databaseUrl: place.databaseUrl });
        const rows = await store.observedClients('org-x', 0);
        const a = rows.find((r) => r.fingerprint === 'aa')!;
        const b = rows.find((r) => r.fingerprint === 'bb')!;
        assert.deepEqual(a.chain, small);
        assert.equal(b.chain.length, 2, 'the leaf and the one 8 KB intermediate that fits');
        assert.ok(b.chain.reduce((n, c) => n + c.length, 0) <= MAX_SIGHTING_CHAIN_BYTES);
        assert.deepEqual(b.chain[0], Buffer.alloc(8000, 3));
        assert.equal(b.issuer, null);
        await store.close();
      } finally {
        await place.drop();
      }
    });
  });
}
