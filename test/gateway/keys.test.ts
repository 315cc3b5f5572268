// A kept-alive connection's key is resolved once: what a key is never changes, and whether it still exists is read
// from the snapshot (a project key lives and dies with its service account). Through a second runtime on the same
// store, as a second gateway process would.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_ORGANIZATION_ID } from '../../src/domain/model.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { admitRequest, type Presented } from '../../src/services/admission.js';
import { engines } from '../support/engines.js';
import { makeCa } from '../support/pki.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { within } from '../support/wait.js';

for (const engine of engines) {
  describe(`a connection's key (${engine.name})`, () => {
    let admin: TestServer;
    let gate: Runtime;
    let drop: () => Promise<void>;
    let lookups = 0;

    before(async () => {
      const place = await engine.fresh();
      drop = place.drop;
      admin = await startTestServer(place);
      gate = await openRuntime({ dataDir: place.dataDir, databaseUrl: place.databaseUrl });
      const lookup = gate.store.projectKeyOwner.bind(gate.store);
      gate.store.projectKeyOwner = (hash: string) => {
        lookups++;
        return lookup(hash);
      };
    });
    after(async () => {
      await gate.close();
      await admin.close();
      await drop();
    });

    const revision = async () => (await gate.snapshot(DEFAULT_ORGANIZATION_ID)).revision;

    it('is looked up once, across changes, and refused once its service account is deleted elsewhere', async () => {
      const org = admin.sdk.admin.organization;
      const project = (await org.projects.create({ name: 'keys' })).id;
      const account = await org.projects.serviceAccounts.create(project, { name: 'svc' });
      const connection = {};
      const presented: Presented = { connection, chain: () => [] };
      const admit = () => admitRequest(gate, `Bearer ${account.api_key!.value}`, presented);

      assert.equal((await admit()).admitted, true);
      const before = lookups;
      assert.ok(before >= 1);
      assert.equal((await admit()).admitted, true);

      // a certificate uploaded and renamed elsewhere: the gateway's snapshot catches up, the key is not looked up again
      const seen = await revision();
      const ca = await org.certificates.create({ certificate: (await makeCa()).pem });
      await org.certificates.update(ca.id, { name: 'renamed' });
      await within(1000, async () => (await admit()).admitted && (await revision()) > seen);
      assert.equal(lookups, before);

      // the service account deleted elsewhere: its key is refused on this same connection, and on a new one,
      // as soon as the snapshot has caught up, without asking the store about the key again
      await org.projects.serviceAccounts.delete(account.id, { project_id: project });
      await within(1000, async () => {
        const admission = await admit();
        return !admission.admitted && admission.reason === 'unknown_key';
      });
      const elsewhere = await admitRequest(gate, `Bearer ${account.api_key!.value}`, { connection: {}, chain: () => [] });
      assert.equal(elsewhere.admitted, false);
      assert.equal(elsewhere.admitted === false && elsewhere.error.status, 401);
      assert.equal(lookups, before);
    });
  });
}
