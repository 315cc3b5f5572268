// The audit log, driven by the official openai package, on every engine: one event per change, in the change's
// own transaction, with OpenAI's types and payloads, filtered and paged as the SDK asks.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { engines } from '../support/engines.js';
import { makeCa } from '../support/pki.js';
import { ADMIN_KEY, serverOnEngine, type TestServer } from '../support/server.js';

type Entry = OpenAI.Admin.Organization.AuditLogListResponse;

for (const engine of engines) {
  describe(`audit log (${engine.name})`, () => {
    const on = serverOnEngine(engine);
    let server: TestServer;
    let admin: OpenAI['admin']['organization'];

    async function all(query: OpenAI.Admin.Organization.AuditLogListParams = {}): Promise<Entry[]> {
      const out: Entry[] = [];
      for await (const e of admin.auditLogs.list({ limit: 100, ...query })) out.push(e);
      return out;
    }
    before(() => {
      server = on.server;
      admin = server.sdk.admin.organization;
    });

    it('records each change with OpenAI\'s type and payload, the acting key named but never its secret', async () => {
      const start = await all();
      const ca = await makeCa({ name: 'audited anchor' });
      const cert = await admin.certificates.create({ certificate: ca.pem, name: 'Audited' });
      const project = await admin.projects.create({ name: 'Audited project' });
      await admin.projects.certificates.activate(project.id, { certificate_ids: [cert.id] });
      await admin.projects.certificates.deactivate(project.id, { certificate_ids: [cert.id] });
      await admin.certificates.update(cert.id, { name: 'Audited, renamed' });
      await server.request('PUT', `/v1/organization/certificates/${cert.id}/filter`, { expression: 'subject.common_name == "x"' });
      const account = await admin.projects.serviceAccounts.create(project.id, { name: 'bot' });
      await admin.projects.serviceAccounts.delete(account.id, { project_id: project.id });
      await admin.projects.update(project.id, { name: 'Audited project 2' });
      const key = await admin.adminAPIKeys.create({ name: 'audited key' });
      await admin.adminAPIKeys.delete(key.id);
      await admin.certificates.delete(cert.id);

      const events = (await all()).slice(0, (await all()).length - start.length);
      assert.deepEqual(
        events.map((e) => e.type).reverse(),
        [
          'certificate.created',
          'project.created',
          'certificates.activated',
          'certificates.deactivated',
          'certificate.updated',
          'certificate.filter.updated',
          'service_account.created',
          'service_account.deleted',
          'project.updated',
          'api_key.created',
          'api_key.deleted',
          'certificate.deleted',
        ] as string[],
      );
      const byType = new Map(events.map((e) => [e.type as string, e as any]));
      assert.deepEqual(byType.get('certificate.created')['certificate.created'], { id: cert.id, name: 'Audited' });
      assert.deepEqual(byType.get('certificate.updated')['certificate.updated'], { id: cert.id, name: 'Audited, renamed' });
      assert.deepEqual(byType.get('certificate.deleted')['certificate.deleted'], { id: cert.id, name: 'Audited, renamed', certificate: ca.pem.replace(/\r\n/g, '\n') });
      const activated = byType.get('certificates.activated');
      assert.deepEqual(activated['certificates.activated'], { certificates: [{ id: cert.id, name: 'Audited' }] });
      assert.deepEqual(activated.project, { id: project.id, name: 'Audited project' });
      assert.deepEqual(byType.get('project.created')['project.created'], { id: project.id, data: { name: 'Audited project', title: 'Audited project' } });
      assert.deepEqual(byType.get('project.updated')['project.updated'], { id: project.id, changes_requested: { title: 'Audited project 2' } });
      assert.deepEqual(byType.get('service_account.created')['service_account.created'], { id: account.id, data: { role: 'member' } });
      assert.deepEqual(byType.get('api_key.created')['api_key.created'].id, key.id);
      assert.equal(byType.get('certificate.filter.updated')['certificate.filter.updated'].expression, 'subject.common_name == "x"');

      const me = (await admin.adminAPIKeys.list()).data.find((k) => k.name === 'configured owner key')!;
      for (const e of events) {
        assert.match(e.id, /^audit_log_[0-9a-z]{26}$/);
        assert.ok(Math.abs(e.effective_at - Date.now() / 1000) < 30);
        assert.deepEqual(e.actor, { type: 'api_key', api_key: { id: me.id, type: 'user', name: 'configured owner key', redacted_value: me.redacted_value } });
      }
      const text = JSON.stringify(await all());
      assert.ok(!text.includes(ADMIN_KEY) && !text.includes(key.value) && !text.includes(account.api_key!.value), 'a secret reached the audit log');
    });

    it('filters by type, project, resource, actor and time, and pages both ways', async () => {
      const ca = await makeCa({ name: 'filtered anchor' });
      const cert = await admin.certificates.create({ certificate: ca.pem });
      const p1 = await admin.projects.create({ name: 'one' });
      const p2 = await admin.projects.create({ name: 'two' });
      await admin.projects.certificates.activate(p1.id, { certificate_ids: [cert.id] });
      await admin.projects.certificates.activate(p2.id, { certificate_ids: [cert.id] });
      const other = await admin.adminAPIKeys.create({ name: 'other actor', permissions: ['api.management.write'] } as any);
      const otherClient = new OpenAI({ adminAPIKey: other.value, baseURL: server.baseURL, maxRetries: 0 }).admin.organization;
      const p3 = await otherClient.projects.create({ name: 'three' });

      const activations = await all({ event_types: ['certificates.activated'], resource_ids: [cert.id] });
      assert.deepEqual(activations.map((e) => e.project?.id), [p2.id, p1.id], 'newest first');
      assert.deepEqual((await all({ project_ids: [p1.id] })).map((e) => e.type), ['certificates.activated', 'project.created']);
      assert.deepEqual((await all({ project_ids: [p1.id, p2.id], event_types: ['project.created'] })).map((e) => e.project?.id), [p2.id, p1.id]);
      const byOther = await all({ actor_ids: [other.id] });
      assert.deepEqual(byOther.map((e) => [e.type, (e as any)['project.created']?.id]), [['project.created', p3.id]]);
      assert.deepEqual(await all({ actor_ids: ['key_nope'] }), []);
      assert.deepEqual(await all({ resource_ids: ['cert_0000000000000000000000000z'] }), []);
      assert.deepEqual(await all({ actor_emails: ['someone@example.com'] }), []);

      const newest = (await admin.auditLogs.list({ limit: 1 })).data[0]!;
      assert.deepEqual((await all({ effective_at: { gt: newest.effective_at } })), []);
      assert.ok((await all({ effective_at: { gte: newest.effective_at } })).some((e) => e.id === newest.id));
      assert.ok((await all({ effective_at: { lt: newest.effective_at + 1, lte: newest.effective_at } })).some((e) => e.id === newest.id));

      // pages: after walks to older entries, before back to newer ones
      const everything = await all();
      const first = await admin.auditLogs.list({ limit: 3 });
      assert.deepEqual(first.data.map((e) => e.id), everything.slice(0, 3).map((e) => e.id));
      assert.equal(first.has_more, true);
      const second = await admin.auditLogs.list({ limit: 3, after: first.last_id });
      assert.deepEqual(second.data.map((e) => e.id), everything.slice(3, 6).map((e) => e.id));
      const back = await admin.auditLogs.list({ limit: 3, before: second.data[0]!.id });
      assert.deepEqual(back.data.map((e) => e.id), everything.slice(0, 3).map((e) => e.id));
      const ids = everything.map((e) => e.id);
      assert.deepEqual([...ids].sort().reverse(), ids, 'newest first, by id');
      assert.equal(new Set(ids).size, ids.length);
    });

    it('writes exactly one event per change, and none for a change that was refused or rolled back', async () => {
      const count = async () => (await all()).length;
      const start = await count();
      const project = await admin.projects.create({ name: 'hundred' });
      const cas = await Promise.all(Array.from({ length: 4 }, (_, i) => makeCa({ name: `hundred ${i}` })));
      const certs = [];
      for (const ca of cas) certs.push(await admin.certificates.create({ certificate: ca.pem }));
      let changes = 1 + cas.length;
      while (changes < 100) {
        const cert = certs[changes % certs.length]!;
        if (changes % 3 === 0) await admin.projects.certificates.activate(project.id, { certificate_ids: [cert.id] });
        else if (changes % 3 === 1) await admin.projects.certificates.deactivate(project.id, { certificate_ids: [cert.id] });
        else await admin.certificates.update(cert.id, { name: `n${changes}` });
        changes++;
      }
      assert.equal(await count(), start + 100);

      // refused: nothing changes and nothing is recorded
      await assert.rejects(admin.certificates.create({ certificate: cas[0]!.pem }), (e: any) => e.status === 400);
      await assert.rejects(admin.projects.certificates.activate(project.id, { certificate_ids: [certs[0]!.id, 'cert_0000000000000000000000000z'] }), (e: any) => e.status === 404);
      await assert.rejects(admin.certificates.delete('cert_0000000000000000000000000z'), (e: any) => e.status === 404);
      await assert.rejects(admin.projects.serviceAccounts.create('proj_0000000000000000000000000z', { name: 'x' }), (e: any) => e.status === 404);
      assert.equal(await count(), start + 100);
    });

    it('refuses bad queries in the envelope', async () => {
      for (const query of [
        'limit=0',
        'limit=101',
        'limit=abc',
        'after=nope',
        'before=audit_log_x',
        'after=audit_log_0000000000000000000000000z&before=audit_log_0000000000000000000000000z',
        'event_types[]=certificate.exploded',
        'effective_at[gt]=-1',
        'effective_at[gt]=soon',
        'unknown=1',
        `project_ids[]=${'p'.repeat(500)}`,
      ]) {
        const res = await server.request('GET', `/v1/organization/audit_logs?${query}`);
        assert.equal(res.status, 400, query);
        assert.deepEqual(Object.keys(res.body.error).sort(), ['code', 'message', 'param', 'type'], query);
      }
      // a NUL or any id certgate cannot have made matches nothing, on both engines
      for (const query of ['project_ids[]=%00', 'resource_ids[]=proj_%00', 'actor_ids[]=key_%27']) {
        const res = await server.request('GET', `/v1/organization/audit_logs?${query}`);
        assert.equal(res.status, 200, query);
        assert.deepEqual(res.body.data, []);
      }
    });
  });
}
