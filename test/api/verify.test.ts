// "Test this certificate": the verify endpoint and `certgate verify`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { engines } from '../support/engines.js';
import { SERVER_AUTH, makeCa, makeClient, type Issued } from '../support/pki.js';
import { CLI } from '../support/processes.js';
import { startTestServer, tempDir, type TestServer } from '../support/server.js';

const run = promisify(execFile);

for (const engine of engines) {
  describe(`verify endpoint and CLI (${engine.name})`, () => {
    let server: TestServer;
    let place: Awaited<ReturnType<typeof engine.fresh>>;
    let orgCa: Issued, projCa: Issued;
    let orgCaId: string, projCaId: string, project: string;
    const verify = (certificate: string, project_id?: string) =>
      server.request('POST', '/v1/organization/certificates/verify', project_id ? { certificate, project_id } : { certificate });

    before(async () => {
      place = await engine.fresh();
      server = await startTestServer(place);
      [orgCa, projCa] = await Promise.all([makeCa({ name: 'org CA' }), makeCa({ name: 'project CA' })]);
      orgCaId = (await server.sdk.admin.organization.certificates.create({ certificate: orgCa.pem })).id;
      projCaId = (await server.sdk.admin.organization.certificates.create({ certificate: projCa.pem })).id;
      project = (await server.sdk.admin.organization.projects.create({ name: 'verify' })).id;
    });
    after(async () => {
      await server.close();
      await place.drop();
    });

    it('says no certificate is required while no anchor is in force', async () => {
      const res = await verify((await makeClient(orgCa)).pem);
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body).sort(), ['accepted', 'certificate_id', 'checks', 'object', 'refusal', 'required', 'scope']);
      assert.equal(res.body.refusal, null);
      assert.equal(res.body.object, 'certificate.verification');
      assert.equal(res.body.required, false);
      assert.equal(res.body.accepted, true);
      assert.equal(res.body.scope, null);
      assert.equal(res.body.certificate_id, null);
    });

    it('accepts a good certificate, naming the anchor and scope, with every check passed', async () => {
      await server.sdk.admin.organization.certificates.activate({ certificate_ids: [orgCaId] });
      await server.sdk.admin.organization.projects.certificates.activate(project, { certificate_ids: [projCaId] });
      const org = await verify((await makeClient(orgCa)).pem);
      assert.equal(org.body.accepted, true);
      assert.equal(org.body.required, true);
      assert.equal(org.body.scope, 'organization');
      assert.equal(org.body.certificate_id, orgCaId);
      assert.deepEqual(
        org.body.checks.map((c: any) => [c.name, c.passed]),
        [
          'certificate_present',
          'well_formed',
          'authority_key_identifier',
          'subject_key_identifier',
          'trusted_issuer',
          'not_revoked',
          'key_strength',
          'signature_strength',
          'path_length',
          'name_constraints',
          'validity',
          'critical_extensions',
          'key_usage',
          'extended_key_usage',
          'filter',
        ].map((n) => [n, true]),
      );
      const proj = await verify((await makeClient(projCa)).pem, project);
      assert.equal(proj.body.checks[0].name, 'project_usable');
      assert.equal(proj.body.scope, 'project');
      assert.equal(proj.body.certificate_id, projCaId);
      // the project anchor does not count outside its project
      const outside = await verify((await makeClient(projCa)).pem);
      assert.equal(outside.body.accepted, false);
      assert.deepEqual(outside.body.checks.at(-1).name, 'trusted_issuer');
    });

    it('shows exactly which rule a bad certificate breaks', async () => {
      const res = await verify((await makeClient(orgCa, { eku: [SERVER_AUTH] })).pem);
      assert.equal(res.body.accepted, false);
      const failed = res.body.checks.filter((c: any) => !c.passed);
      assert.deepEqual(failed.map((c: any) => c.name), ['extended_key_usage']);
      assert.deepEqual(res.body.refusal, { code: 'certificate_verification_failed', reason: 'missing_client_auth_eku', message: failed[0].message });
      assert.match(failed[0].message, /TLS Web Client Authentication/);
    });

    it('refuses bad input with a 4xx and changes nothing', async () => {
      const client = await makeClient(orgCa);
      const withKey = await verify(client.pem + client.keyPem);
      assert.equal(withKey.status, 400);
      assert.equal(withKey.body.error.code, 'mtls_certificate_invalid');
      assert.equal((await verify('not a certificate')).status, 400);
      assert.equal((await verify(client.pem, 'proj_unknown')).status, 404);
      assert.equal((await server.request('POST', '/v1/organization/certificates/verify', {})).status, 400);
    });

    it('prints the same verdict for a person with `certgate verify`', async () => {
      const dir = tempDir();
      try {
        const good = join(dir.path, 'good.pem');
        const bad = join(dir.path, 'bad.pem');
        writeFileSync(good, (await makeClient(projCa)).pem);
        writeFileSync(bad, (await makeClient(orgCa, { eku: [SERVER_AUTH] })).pem);
        const env = { ...process.env, CERTGATE_DATA_DIR: place.dataDir, CERTGATE_DATABASE_URL: place.databaseUrl ?? '' };
        const ok = await run(process.execPath, [CLI, 'verify', '--cert', good, '--project', project], { env });
        assert.match(ok.stdout, /ACCEPTED by project trust anchor/);
        assert.ok(ok.stdout.includes(projCaId));
        const refused = await run(process.execPath, [CLI, 'verify', '--cert', bad], { env }).then(
          () => assert.fail('exit status 0 for a refused certificate'),
          (err: { code: number; stdout: string }) => err,
        );
        assert.equal(refused.code, 1);
        assert.match(refused.stdout, /REFUSED: certificate_verification_failed \(missing_client_auth_eku\)/);
        assert.match(refused.stdout, /FAIL {2}extended_key_usage/);
      } finally {
        dir.remove();
      }
    });
  });
}
