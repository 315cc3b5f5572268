// The official openai package drives every endpoint, on every engine: the major the CLI is built on (the newest
// that admits every supported runtime) and the latest major (devDependency `openai-latest`), each unchanged.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAICli from 'openai';
import OpenAILatest from 'openai-latest';
import { VERSION as LATEST_VERSION } from 'openai-latest/version';
import { VERSION as CLI_VERSION } from 'openai/version';
import { hashKey } from '../../src/state/keys.js';
import { engines } from '../support/engines.js';
import { makeCa } from '../support/pki.js';
import { ADMIN_KEY, serverOnEngine, type TestServer } from '../support/server.js';

/** Both majors, typed as the CLI's: their admin resources have the same shapes. */
const SDKS: { name: string; OpenAI: typeof OpenAICli }[] = [
  { name: `openai ${CLI_VERSION}, the CLI's`, OpenAI: OpenAICli },
  { name: `openai ${LATEST_VERSION}, the latest`, OpenAI: OpenAILatest as unknown as typeof OpenAICli },
];

for (const engine of engines) for (const { name: sdkName, OpenAI } of SDKS) {
  describe(`official SDK (${sdkName}) against certgate (${engine.name})`, () => {
    const on = serverOnEngine(engine);
    let server: TestServer;
    let admin: OpenAICli['admin']['organization'];
    before(() => {
      server = on.server;
      admin = new OpenAI({ adminAPIKey: ADMIN_KEY, baseURL: server.baseURL, maxRetries: 0 }).admin.organization;
    });

    it('uploads, retrieves with and without content, renames and deletes a certificate', async () => {
      const ca = await makeCa({ name: 'sdk anchor' });
      const created = await admin.certificates.create({ certificate: ca.pem, name: 'Production CA' });
      assert.equal(created.object, 'certificate');
      assert.match(created.id, /^cert_[0-9a-z]{26}$/);
      assert.equal(created.name, 'Production CA');
      assert.equal(created.active, undefined);
      assert.equal(created.certificate_details.valid_at, Math.floor(ca.cert.notBefore.getTime() / 1000));
      assert.equal(created.certificate_details.expires_at, Math.floor(ca.cert.notAfter.getTime() / 1000));
      assert.equal(created.certificate_details.content, undefined);
      assert.ok(Math.abs(created.created_at - Date.now() / 1000) < 5);

      const plain = await admin.certificates.retrieve(created.id);
      assert.deepEqual(plain, created);
      const withContent = await admin.certificates.retrieve(created.id, { include: ['content'] });
      assert.equal(withContent.certificate_details.content, ca.pem);

      const renamed = await admin.certificates.update(created.id, { name: 'Renamed CA' });
      assert.equal(renamed.name, 'Renamed CA');
      assert.equal((await admin.certificates.retrieve(created.id)).name, 'Renamed CA');

      const deleted = await admin.certificates.delete(created.id);
      assert.deepEqual(deleted, { id: created.id, object: 'certificate.deleted' });
      await assert.rejects(admin.certificates.retrieve(created.id), (err: unknown) => err instanceof OpenAI.NotFoundError);
    });

    it('lists with auto-pagination in both orders, and reports activation per scope', async () => {
      const created = [];
      for (let i = 0; i < 5; i++) {
        created.push(await admin.certificates.create({ certificate: (await makeCa({ name: `list ${i}` })).pem, name: `list ${i}` }));
      }
      const ids = created.map((c) => c.id);

      const asc: string[] = [];
      for await (const item of admin.certificates.list({ limit: 2, order: 'asc' })) {
        assert.equal(item.object, 'organization.certificate');
        assert.equal(item.active, false);
        assert.equal((item.certificate_details as { content?: string }).content, undefined);
        asc.push(item.id);
      }
      assert.deepEqual(asc.filter((id) => ids.includes(id)), ids);

      const desc: string[] = [];
      for await (const item of admin.certificates.list({ limit: 3 })) desc.push(item.id);
      assert.deepEqual(desc, [...asc].reverse());

      const firstPage = await admin.certificates.list({ limit: 2, order: 'asc' });
      assert.equal(firstPage.has_more, true);
      assert.equal(firstPage.data.length, 2);

      const activated = await admin.certificates.activate({ certificate_ids: [ids[3]!, ids[1]!, ids[3]!] });
      assert.deepEqual(activated.data.map((c) => [c.id, c.object, c.active]), [
        [ids[3], 'organization.certificate', true],
        [ids[1], 'organization.certificate', true],
      ]);
      const active = new Set<string>();
      for await (const item of admin.certificates.list()) if (item.active) active.add(item.id);
      assert.deepEqual([...active].sort(), [ids[1], ids[3]].sort());

      const deactivated = await admin.certificates.deactivate({ certificate_ids: [ids[1]!] });
      assert.deepEqual(deactivated.data.map((c) => [c.id, c.active]), [[ids[1], false]]);
      await admin.certificates.deactivate({ certificate_ids: [ids[3]!] });
    });

    it('manages projects and project-scoped activations', async () => {
      const project = await admin.projects.create({ name: 'Payments' });
      assert.equal(project.object, 'organization.project');
      assert.match(project.id, /^proj_[0-9a-z]{26}$/);
      assert.equal(project.status, 'active');
      assert.equal(project.archived_at, null);
      assert.deepEqual(await admin.projects.retrieve(project.id), project);
      assert.equal((await admin.projects.update(project.id, { name: 'Payments EU' })).name, 'Payments EU');

      const listed: string[] = [];
      for await (const p of admin.projects.list({ limit: 1 })) listed.push(p.id);
      assert.ok(listed.includes(project.id));

      const cert = await admin.certificates.create({ certificate: (await makeCa()).pem });
      assert.equal(cert.name, null);
      const on = await admin.projects.certificates.activate(project.id, { certificate_ids: [cert.id] });
      assert.deepEqual(on.data.map((c) => [c.object, c.id, c.active]), [['organization.project.certificate', cert.id, true]]);

      const inProject = new Map<string, boolean>();
      for await (const c of admin.projects.certificates.list(project.id, { limit: 2 })) {
        assert.equal(c.object, 'organization.project.certificate');
        inProject.set(c.id, c.active);
      }
      assert.equal(inProject.get(cert.id), true);
      assert.ok([...inProject.entries()].filter(([, a]) => a).length === 1, 'only the activated certificate is active for the project');
      // activation for a project is not activation for the organization
      const orgView = (await admin.certificates.list({ limit: 100 })).data.find((c) => c.id === cert.id);
      assert.equal(orgView?.active, false);

      await assert.rejects(admin.certificates.delete(cert.id), (err: unknown) => err instanceof OpenAI.BadRequestError && (err as any).code === 'certificate_in_use');
      const off = await admin.projects.certificates.deactivate(project.id, { certificate_ids: [cert.id] });
      assert.deepEqual(off.data.map((c) => c.active), [false]);
      await admin.certificates.delete(cert.id);

      const archived = await admin.projects.archive(project.id);
      assert.equal(archived.status, 'archived');
      assert.equal(typeof archived.archived_at, 'number');
      const visible: string[] = [];
      for await (const p of admin.projects.list()) visible.push(p.id);
      assert.ok(!visible.includes(project.id), 'archived projects are hidden by default');
      const all: string[] = [];
      for await (const p of admin.projects.list({ include_archived: true })) all.push(p.id);
      assert.ok(all.includes(project.id));
    });

    it('manages service accounts and their project keys', async () => {
      const project = (await admin.projects.create({ name: 'keys' })).id;
      const created = await admin.projects.serviceAccounts.create(project, { name: 'ci bot' });
      assert.equal(created.object, 'organization.project.service_account');
      assert.match(created.id, /^svc_acct_[0-9a-z]{26}$/);
      assert.equal(created.role, 'member');
      assert.equal(created.api_key?.object, 'organization.project.service_account.api_key');
      assert.match(created.api_key!.value, /^sk-svcacct-[A-Za-z0-9_-]{40,}$/);
      const keyless = await admin.projects.serviceAccounts.create(project, { name: 'no key', create_service_account_only: true });
      assert.equal(keyless.api_key, null);
      assert.equal(keyless.role, 'none');

      const fetched = await admin.projects.serviceAccounts.retrieve(created.id, { project_id: project });
      assert.deepEqual(fetched, { object: 'organization.project.service_account', id: created.id, name: 'ci bot', role: 'member', created_at: created.created_at });

      const renamed = await admin.projects.serviceAccounts.update(created.id, { project_id: project, name: 'ci bot 2', role: 'owner' });
      assert.deepEqual([renamed.name, renamed.role], ['ci bot 2', 'owner']);
      assert.equal((await admin.projects.serviceAccounts.retrieve(created.id, { project_id: project })).role, 'owner');
      await assert.rejects(
        admin.projects.serviceAccounts.update(created.id, { project_id: project, role: 'admin' as 'owner' }),
        (err: unknown) => err instanceof OpenAI.BadRequestError,
      );
      const listed: string[] = [];
      for await (const a of admin.projects.serviceAccounts.list(project, { limit: 1 })) listed.push(a.id);
      assert.deepEqual(listed, [created.id, keyless.id]);

      // stored as a hash: found by its hash, and the clear value is nowhere in the SQLite files
      assert.equal((await server.store.projectKeyOwner(hashKey(created.api_key!.value)))?.projectId, project);
      if (engine.name === 'sqlite') {
        const files = readdirSync(server.dataDir).map((f) => readFileSync(join(server.dataDir, f)).toString('latin1'));
        assert.ok(files.length > 0 && files.every((bytes) => !bytes.includes(created.api_key!.value)));
      }
      const deleted = await admin.projects.serviceAccounts.delete(created.id, { project_id: project });
      assert.deepEqual(deleted, { object: 'organization.project.service_account.deleted', id: created.id, deleted: true });
      await assert.rejects(admin.projects.serviceAccounts.retrieve(created.id, { project_id: project }), (err: unknown) => err instanceof OpenAI.NotFoundError);
      assert.equal(await server.store.projectKeyOwner(hashKey(created.api_key!.value)), undefined);
    });

    it('creates, retrieves, lists and deletes admin keys, and reads the audit log of it all', async () => {
      const key = await admin.adminAPIKeys.create({ name: 'sdk key' });
      assert.match(key.value, /^sk-admin-/);
      assert.equal((await admin.adminAPIKeys.retrieve(key.id)).name, 'sdk key');
      const listed: string[] = [];
      for await (const k of admin.adminAPIKeys.list({ limit: 1 })) listed.push(k.id);
      assert.ok(listed.includes(key.id) && listed.length >= 2);
      assert.deepEqual(await admin.adminAPIKeys.delete(key.id), { id: key.id, object: 'organization.admin_api_key.deleted', deleted: true });
      await assert.rejects(admin.adminAPIKeys.retrieve(key.id), (err: unknown) => err instanceof OpenAI.NotFoundError);

      const events: { type: string; id: string }[] = [];
      for await (const e of admin.auditLogs.list({ limit: 2, resource_ids: [key.id] })) events.push({ type: e.type, id: e.id });
      assert.deepEqual(events.map((e) => e.type), ['api_key.deleted', 'api_key.created']);
      const deletions: string[] = [];
      for await (const e of admin.auditLogs.list({ event_types: ['certificate.deleted'] })) deletions.push(e.type);
      assert.ok(deletions.length >= 1 && deletions.every((t) => t === 'certificate.deleted'));
    });
  });
}
