// The 50-certificate limit under concurrent uploads, and state surviving a restart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { makeCa } from '../support/pki.js';
import { startTestServer } from '../support/server.js';

for (const engine of engines) {
  describe(`durability and limits (${engine.name})`, () => {
    it('stores exactly 50 when 100 uploads race at an organization holding 45', async () => {
      const place = await engine.fresh();
      const server = await startTestServer(place);
      try {
        for (let i = 0; i < 45; i++) {
          const res = await server.request('POST', '/v1/organization/certificates', { certificate: (await makeCa()).pem });
          assert.equal(res.status, 200);
        }
        const pems = await Promise.all(Array.from({ length: 100 }, () => makeCa().then((ca) => ca.pem)));
        const results = await Promise.all(pems.map((certificate) => server.request('POST', '/v1/organization/certificates', { certificate })));
        const accepted = results.filter((r) => r.status === 200);
        const refused = results.filter((r) => r.status !== 200);
        assert.equal(accepted.length, 5);
        assert.equal(refused.length, 95);
        for (const r of refused) {
          assert.equal(r.status, 400);
          assert.equal(r.body.error.code, 'certificate_limit_reached');
        }
        const listed = await server.request('GET', '/v1/organization/certificates?limit=100');
        assert.equal(listed.body.data.length, 50);
        assert.equal(listed.body.has_more, false);
        // counted by the database itself, not the snapshot
        const stored = await server.store.loadOrganization('org-default');
        assert.equal(stored.certificates.length, 50);
      } finally {
        await server.close();
        await place.drop();
      }
    });

    it('finds everything intact after a restart', async () => {
      const place = await engine.fresh();
      let server = await startTestServer(place);
      let before;
      let ids: string[];
      try {
        const project = (await server.sdk.admin.organization.projects.create({ name: 'kept' })).id;
        ids = [];
        for (let i = 0; i < 3; i++) ids.push((await server.sdk.admin.organization.certificates.create({ certificate: (await makeCa()).pem, name: `kept ${i}` })).id);
        await server.sdk.admin.organization.certificates.activate({ certificate_ids: [ids[0]!] });
        await server.sdk.admin.organization.projects.certificates.activate(project, { certificate_ids: [ids[1]!, ids[2]!] });
        await server.sdk.admin.organization.certificates.update(ids[2]!, { name: 'renamed' });
        before = {
          org: (await server.request('GET', '/v1/organization/certificates?limit=100')).body,
          project: (await server.request('GET', `/v1/organization/projects/${project}/certificates?limit=100`)).body,
          content: (await server.request('GET', `/v1/organization/certificates/${ids[1]}?include[]=content`)).body,
          projects: (await server.request('GET', '/v1/organization/projects?include_archived=true')).body,
          projectId: project,
        };
      } finally {
        await server.close();
      }
      server = await startTestServer(place);
      try {
        assert.deepEqual((await server.request('GET', '/v1/organization/certificates?limit=100')).body, before.org);
        assert.deepEqual((await server.request('GET', `/v1/organization/projects/${before.projectId}/certificates?limit=100`)).body, before.project);
        assert.deepEqual((await server.request('GET', `/v1/organization/certificates/${ids[1]}?include[]=content`)).body, before.content);
        assert.deepEqual((await server.request('GET', '/v1/organization/projects?include_archived=true')).body, before.projects);
        assert.equal(before.org.data.filter((c: any) => c.active).length, 1);
        assert.equal(before.project.data.filter((c: any) => c.active).length, 2);
      } finally {
        await server.close();
        await place.drop();
      }
    });
  });
}
