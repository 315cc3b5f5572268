// The change feed: a snapshot that catches up by the rows changed since its revision equals one loaded whole,
// after every kind of change, made here or by another process, on every engine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ORGANIZATION_ID, type Actor } from '../../src/domain/model.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import type { OrganizationSnapshot } from '../../src/state/snapshot.js';
import { createProject, archiveProject, updateProject } from '../../src/services/projects.js';
import { uploadCertificate, setActive, renameCertificate, deleteCertificate } from '../../src/services/certificates.js';
import { createServiceAccount, deleteServiceAccount, updateServiceAccount } from '../../src/services/service-accounts.js';
import { setFilter } from '../../src/services/filters.js';
import { setMode } from '../../src/services/mtls-settings.js';
import { createAdminKey, deleteAdminKey } from '../../src/services/admin-keys.js';
import { engines } from '../support/engines.js';
import { makeCa } from '../support/pki.js';

const BY: Actor = { organizationId: DEFAULT_ORGANIZATION_ID, key: null, local: 'test' };

/** ids of every admin key the test made, deleted or not */
const adminKeyIds: string[] = [];

/** Everything a snapshot says, in a canonical order. */
function view(s: OrganizationSnapshot) {
  return JSON.stringify({
    revision: s.revision,
    adminKeys: adminKeyIds.filter((id) => s.hasAdminKey(id)),
    certificates: s.certificates,
    projects: s.projects,
    serviceAccounts: s.serviceAccounts,
    activations: s.activations().map((a) => `${a.scope} ${a.certificateId}`).sort(),
    activeIn: [...new Set(s.activations().map((a) => a.scope))].sort().map((scope) => `${scope}: ${[...s.activeIn(scope)].sort().join(',')}`),
    modes: [...s.modes()].sort((a, b) => (a.scope < b.scope ? -1 : 1)),
  });
}

function random<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

for (const engine of engines) {
  describe(`change feed (${engine.name})`, () => {
    it('catches up to exactly what a whole load reads, after every kind of change made by another process', async () => {
      const place = await engine.fresh();
      const where = { dataDir: place.dataDir, databaseUrl: place.databaseUrl };
      const writer = await openRuntime(where);
      const reader = await openRuntime(where);
      const pems = await Promise.all(Array.from({ length: 6 }, (_, i) => makeCa({ name: `feed ${i}` }).then((ca) => ca.pem)));
      try {
        await reader.snapshot(DEFAULT_ORGANIZATION_ID); // the reader holds an old snapshot from here on
        const certs: string[] = [];
        const projects: string[] = [];
        const accounts: { id: string; project: string }[] = [];
        const ops: Record<string, (rt: Runtime) => Promise<unknown>> = {
          upload: async (rt) => pems.length && certs.push((await uploadCertificate(rt, BY, { certificate: pems.pop()! })).id),
          project: async (rt) => projects.push((await createProject(rt, BY, { name: `p${projects.length}` })).id),
          rename: async (rt) => certs.length && renameCertificate(rt, BY, random(certs), `n${Math.random()}`),
          activateOrg: async (rt) => certs.length && setActive(rt, BY, 'organization', [random(certs)], true),
          deactivateOrg: async (rt) => certs.length && setActive(rt, BY, 'organization', [random(certs)], false),
          activateProject: async (rt) => certs.length && projects.length && setActive(rt, BY, random(projects), [random(certs)], true).catch(() => undefined),
          deactivateProject: async (rt) => certs.length && projects.length && setActive(rt, BY, random(projects), [random(certs)], false).catch(() => undefined),
          filter: async (rt) => certs.length && setFilter(rt, BY, random(certs), Math.random() < 0.5 ? null : 'subject.common_name != ""'),
          mode: async (rt) => setMode(rt, BY, projects.length && Math.random() < 0.5 ? random(projects) : null, random(['enforce', 'observe'] as const)).catch(() => undefined),
          account: async (rt) => {
            if (!projects.length) return;
            const project = random(projects);
            const made = await createServiceAccount(rt, BY, project, { name: 'svc' }).catch(() => undefined);
            if (made) accounts.push({ id: made.account.id, project });
          },
          renameAccount: async (rt) => accounts.length && updateServiceAccount(rt, BY, accounts[0]!.project, accounts[0]!.id, { name: 'renamed' }).catch(() => undefined),
          deleteAccount: async (rt) => {
            const a = accounts.pop();
            if (a) await deleteServiceAccount(rt, BY, a.project, a.id);
          },
          renameProject: async (rt) => projects.length && updateProject(rt, BY, random(projects), { name: 'renamed' }).catch(() => undefined),
          archive: async (rt) => projects.length > 2 && archiveProject(rt, BY, random(projects)),
          adminKey: async (rt) => adminKeyIds.push((await createAdminKey(rt, BY, { name: 'feed', permissions: ['api.mtls.read'] })).record.id),
          deleteAdminKey: async (rt) => {
            const id = adminKeyIds.length ? random(adminKeyIds) : undefined;
            if (id) await deleteAdminKey(rt, BY, id).catch(() => undefined);
          },
          delete: async (rt) => certs.length && deleteCertificate(rt, BY, certs[0]!).then(() => certs.shift(), () => undefined),
        };
        const names = Object.keys(ops);
        for (let round = 0; round < 60; round++) {
          // one to three changes between two reads, made by the other process
          for (let n = 1 + Math.floor(Math.random() * 3); n > 0; n--) await ops[round < names.length ? names[round]! : random(names)]!(writer);
          reader.snapshot(DEFAULT_ORGANIZATION_ID); // (a read may race the notice: the next one must still be right)
          const whole = await openRuntime(where);
          try {
            const expected = view(await whole.snapshot(DEFAULT_ORGANIZATION_ID));
            // another process hears of the commit within the propagation bound; then its catch-up equals the whole load
            let seen = '';
            for (let i = 0; i < 100 && seen !== expected; i++) {
              seen = view(await reader.snapshot(DEFAULT_ORGANIZATION_ID));
              if (seen !== expected) await new Promise((r) => setTimeout(r, 20));
            }
            assert.equal(seen, expected, `after round ${round}`);
          } finally {
            await whole.close();
          }
        }
      } finally {
        await writer.close();
        await reader.close();
        await place.drop();
      }
    });

    it('reads only the rows a change touched, and reloads whole when the feed does not reach back', async () => {
      const place = await engine.fresh();
      const rt = await openRuntime({ dataDir: place.dataDir, databaseUrl: place.databaseUrl });
      try {
        for (let i = 0; i < 20; i++) await createProject(rt, BY, { name: `bulk ${i}` });
        const before = await rt.snapshot(DEFAULT_ORGANIZATION_ID);
        const made = await createProject(rt, BY, { name: 'one more' });
        const patch = await rt.store.catchUp(DEFAULT_ORGANIZATION_ID, before.revision);
        assert.ok(patch);
        assert.equal(patch.revision, before.revision + 1);
        assert.deepEqual([...patch.projects.keys()], [made.id], 'only the new project is read');
        assert.equal(patch.certificates.size + patch.serviceAccounts.size + patch.activationsOf.size + patch.modes.size, 0);
        assert.equal(patch.adminKeys.size, 0);
        assert.equal((await rt.store.catchUp(DEFAULT_ORGANIZATION_ID, patch.revision))?.revision, patch.revision, 'nothing new: an empty patch');
        assert.equal(await rt.store.catchUp(DEFAULT_ORGANIZATION_ID, -1), null, 'older than the feed: reload whole');
        assert.equal(await rt.store.catchUp(DEFAULT_ORGANIZATION_ID, patch.revision + 5), null, 'newer than the store (a restored backup): reload whole');
        const account = await createServiceAccount(rt, BY, made.id, { name: 'svc' });
        const withKey = await rt.store.catchUp(DEFAULT_ORGANIZATION_ID, patch.revision);
        assert.deepEqual([...withKey!.serviceAccounts.keys()], [account.account.id]);
        assert.equal(withKey!.adminKeys.size, 0, 'a project key is read with its service account');
        const adminKey = await createAdminKey(rt, BY, { name: 'feed', permissions: ['api.mtls.read'] });
        await deleteAdminKey(rt, BY, adminKey.record.id);
        const withAdminKey = await rt.store.catchUp(DEFAULT_ORGANIZATION_ID, withKey!.revision);
        assert.deepEqual([...withAdminKey!.adminKeys], [[adminKey.record.id, null]], 'an admin key made and deleted since: gone');
      } finally {
        await rt.close();
        await place.drop();
      }
    });
  });
}
