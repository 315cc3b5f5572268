import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openStore } from '../../src/store/open.js';
import { engines, POSTGRES_URL } from '../support/engines.js';
import { within } from '../support/wait.js';

describe('store engines', () => {
  it('runs the PostgreSQL store tests', { skip: POSTGRES_URL ? false : 'PostgreSQL tests skipped: set CERTGATE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (as .ci/run does) to run every store, API, gateway and cluster test on PostgreSQL too' }, () => {
    assert.deepEqual(engines.map((e) => e.name), ['sqlite', 'postgres']);
  });

  // On SQLite one process holds one store (better-sqlite3 waits for a lock
  // synchronously, so two writers in one thread would wait on each other);
  // concurrent starts there are covered by the cluster test's two processes.
  for (const engine of engines.filter((e) => e.name === 'postgres')) {
    it(`applies migrations exactly once when five stores start at once (${engine.name})`, async () => {
      const place = await engine.fresh();
      try {
        const stores = await Promise.all(Array.from({ length: 5 }, () => openStore({ dataDir: place.dataDir, databaseUrl: place.databaseUrl })));
        for (const store of stores) {
          await store.ensureOrganization('org-x', 'x', 1);
          assert.equal((await store.loadOrganization('org-x')).certificates.length, 0);
        }
        await Promise.all(stores.map((s) => s.close()));
      } finally {
        await place.drop();
      }
    });
  }

  for (const engine of engines) {
    it(`tells other store connections of changes to organizations, and not of traffic counters (${engine.name})`, async () => {
      const place = await engine.fresh();
      const where = { dataDir: place.dataDir, databaseUrl: place.databaseUrl };
      const [writer, reader] = [await openStore(where), await openStore(where)];
      try {
        await writer.ensureOrganization('org-x', 'x', 1);
        await new Promise((r) => setTimeout(r, 400)); // the reader has seen the start
        let told = 0;
        const stop = reader.onExternalChange(() => told++);
        await new Promise((r) => setTimeout(r, 400)); // a PostgreSQL listener says once that it is connected
        const baseline = told;
        await writer.addObservations('org-x', 'organization', 3, 4, 10);
        await writer.recordClients('org-x', [], 0, 10);
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(told, baseline, 'a counter or a sighting made another connection reload');
        await writer.write({ organizationId: 'org-x', key: null, local: 'test' }, 11, (tx) => tx.setMode('organization', 'observe', 11));
        await within(1000, async () => told > baseline);
        assert.deepEqual(await reader.observations('org-x', 'organization'), { wouldRefuse: 0, admitted: 0, since: null }, 'a mode change restarts the counts');
        stop();
      } finally {
        await writer.close();
        await reader.close();
        await place.drop();
      }
    });
  }
});
