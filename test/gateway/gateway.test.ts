// The mTLS data plane over real TLS sockets, a real upstream, and certificates made here.
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch, request } from 'undici';
import { engines } from '../support/engines.js';
import { within } from '../support/wait.js';
import { call, startTestGateway, startUpstream, type TestGateway } from '../support/gateway.js';
import { KeyUsageFlags, SERVER_AUTH, makeCa, makeClient, type Issued } from '../support/pki.js';
import { startTestServer, type TestServer } from '../support/server.js';


for (const engine of engines) {
  describe(`gateway (${engine.name})`, () => {
    let admin: TestServer;
    let gateway: TestGateway;
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let drop: () => Promise<void>;
    let keyA: string; // project A: gets its own anchor
    let keyB: string; // project B: never has one
    let projectA: string;
    let orgCa: Issued, projCa: Issued, strangerCa: Issued, intermediate: Issued;
    let orgCaId: string, projCaId: string;

    const org = () => admin.sdk.admin.organization;
    const setOrg = (active: boolean) =>
      active ? org().certificates.activate({ certificate_ids: [orgCaId] }) : org().certificates.deactivate({ certificate_ids: [orgCaId] });
    const setProject = (active: boolean) =>
      active
        ? org().projects.certificates.activate(projectA, { certificate_ids: [projCaId] })
        : org().projects.certificates.deactivate(projectA, { certificate_ids: [projCaId] });
    /** waits until the gateway refuses a certificate-less request of project A (or lets it through) */
    const enforced = (required: boolean) => within(1000, async () => (await call(gateway, { key: keyA })).status === (required ? 403 : 200));

    before(async () => {
      const place = await engine.fresh();
      drop = place.drop;
      admin = await startTestServer(place);
      upstream = await startUpstream();
      gateway = await startTestGateway(place, upstream.url, 'sk-upstream-secret');
      projectA = (await org().projects.create({ name: 'A' })).id;
      const projectB = (await org().projects.create({ name: 'B' })).id;
      keyA = (await org().projects.serviceAccounts.create(projectA, { name: 'svc A' })).api_key!.value;
      keyB = (await org().projects.serviceAccounts.create(projectB, { name: 'svc B' })).api_key!.value;
      [orgCa, projCa, strangerCa] = await Promise.all([makeCa({ name: 'org CA' }), makeCa({ name: 'project CA' }), makeCa({ name: 'stranger CA' })]);
      intermediate = await makeCa({ name: 'intermediate CA', issuer: orgCa });
      orgCaId = (await org().certificates.create({ certificate: orgCa.pem })).id;
      projCaId = (await org().certificates.create({ certificate: projCa.pem })).id;
    });
    after(async () => {
      await gateway.close();
      await upstream.close();
      await admin.close();
      await drop();
    });

    it('refuses requests without a project key, or with an unknown or admin key, with 401', async () => {
      for (const key of [undefined, 'sk-svcacct-unknown', 'sk-admin-test-0123456789abcdefghijklmnop']) {
        const res = await call(gateway, key ? { key } : {});
        assert.equal(res.status, 401);
        assert.ok(['missing_api_key', 'invalid_api_key'].includes(res.body.error.code));
        assert.match(String(res.headers['x-request-id']), /^req_/);
      }
    });

    it('passes requests through when no anchor is in force, replacing the key and adding x-request-id', async () => {
      const res = await call(gateway, { key: keyA, path: '/v1/echo?x=1', method: 'POST', body: '{"hello":"world"}', headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 200);
      const echo = res.body.echo;
      // undici will not send a Connection header, so node's own client sends this one
      const hop = await new Promise<any>((resolve, reject) => {
        const req = httpsRequest(
          `${gateway.url}/v1/echo`,
          { ca: gateway.ca, servername: 'localhost', headers: { authorization: `Bearer ${keyA}`, connection: 'close, x-secret-hop', 'x-secret-hop': '1', 'x-kept': '1' } },
          (res) => {
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () => resolve(JSON.parse(text)));
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.equal(hop.echo.headers['x-secret-hop'], undefined, 'headers named in Connection are hop-by-hop');
      assert.equal(hop.echo.headers['x-kept'], '1');
      assert.equal(echo.url, '/v1/echo?x=1');
      assert.equal(echo.method, 'POST');
      assert.equal(echo.body, '{"hello":"world"}');
      assert.equal(echo.headers.authorization, 'Bearer sk-upstream-secret');
      assert.equal(echo.headers['x-request-id'], res.headers['x-request-id']);
      assert.equal(res.headers['x-upstream'], 'yes');
    });

    it('enforces an organization anchor: the whole matrix of client certificates', async () => {
      await setOrg(true);
      await enforced(true);
      const cases: [string, () => Promise<{ client?: Issued; chain?: Issued[] }>, number, string?, string?][] = [
        ['no certificate', async () => ({}), 403, 'certificate_required'],
        ['a valid certificate', async () => ({ client: await makeClient(orgCa) }), 200],
        ['a valid RSA certificate', async () => ({ client: await makeClient(orgCa, { key: 'rsa' }) }), 200],
        ['a certificate through an intermediate', async () => ({ client: await makeClient(intermediate), chain: [intermediate] }), 200],
        ['an intermediate-issued certificate without its intermediate', async () => ({ client: await makeClient(intermediate) }), 403, 'certificate_verification_failed', 'untrusted_issuer'],
        ['an expired certificate', async () => ({ client: await makeClient(orgCa, { notBefore: new Date(Date.now() - 9e8), notAfter: new Date(Date.now() - 6e7) }) }), 403, 'certificate_verification_failed', 'expired'],
        ['a not-yet-valid certificate', async () => ({ client: await makeClient(orgCa, { notBefore: new Date(Date.now() + 6e7) }) }), 403, 'certificate_verification_failed', 'not_yet_valid'],
        ['a certificate from another CA', async () => ({ client: await makeClient(strangerCa) }), 403, 'certificate_verification_failed', 'untrusted_issuer'],
        ['a certificate without clientAuth', async () => ({ client: await makeClient(orgCa, { eku: [SERVER_AUTH] }) }), 403, 'certificate_verification_failed', 'missing_client_auth_eku'],
        ['a certificate without Extended Key Usage', async () => ({ client: await makeClient(orgCa, { eku: null }) }), 403, 'certificate_verification_failed', 'missing_client_auth_eku'],
        ['a certificate without digitalSignature', async () => ({ client: await makeClient(orgCa, { keyUsage: KeyUsageFlags.keyAgreement }) }), 403, 'certificate_verification_failed', 'bad_key_usage'],
        ['an RSA certificate without keyEncipherment', async () => ({ client: await makeClient(orgCa, { key: 'rsa', keyUsage: KeyUsageFlags.digitalSignature }) }), 403, 'certificate_verification_failed', 'bad_key_usage'],
        ['a certificate without Authority Key Identifier', async () => ({ client: await makeClient(orgCa, { aki: false }) }), 403, 'invalid_certificate', 'missing_ski_aki'],
        ['a certificate without Subject Key Identifier', async () => ({ client: await makeClient(orgCa, { ski: false }) }), 403, 'certificate_verification_failed', 'missing_ski_aki'],
      ];
      for (const [label, make, status, code, reason] of cases) {
        const res = await call(gateway, { key: keyA, ...(await make()) });
        assert.equal(res.status, status, `${label}: ${JSON.stringify(res.body)}`);
        if (code) {
          assert.equal(res.body.error.code, code, label);
          assert.ok(!res.body.error.message.includes(orgCaId), 'the refusal never lists the anchors');
        }
        if (reason) assert.match(res.body.error.message, new RegExp(`reason: ${reason}`), label);
      }
      // an acceptance through an intermediate is not carried over to a connection that omits the intermediate
      const viaIntermediate = await makeClient(intermediate);
      assert.equal((await call(gateway, { key: keyA, client: viaIntermediate, chain: [intermediate] })).status, 200);
      assert.equal((await call(gateway, { key: keyA, client: viaIntermediate })).status, 403);
      // the organization's anchor binds every project, B included
      assert.equal((await call(gateway, { key: keyB })).status, 403);
      assert.equal((await call(gateway, { key: keyB, client: await makeClient(orgCa) })).status, 200);
      await setOrg(false);
      await enforced(false);
    });

    it('enforces a project anchor for that project only, and accepts either anchor when both are active', async () => {
      await setProject(true);
      await enforced(true);
      assert.equal((await call(gateway, { key: keyA, client: await makeClient(projCa) })).status, 200);
      const orgIssued = await makeClient(orgCa);
      assert.equal((await call(gateway, { key: keyA, client: orgIssued })).status, 403, 'an inactive org anchor does not count');
      assert.equal((await call(gateway, { key: keyB })).status, 200, 'project B has no anchor in force');
      await setOrg(true);
      await within(1000, async () => (await call(gateway, { key: keyA, client: orgIssued })).status === 200);
      assert.equal((await call(gateway, { key: keyA, client: await makeClient(projCa) })).status, 200);
      const strangerRes = await call(gateway, { key: keyA, client: await makeClient(strangerCa) });
      assert.equal(strangerRes.status, 403);
      assert.equal((await call(gateway, { key: keyB, client: await makeClient(projCa) })).status, 403, "B is bound by the org anchor, not A's");
      await setOrg(false);
      // a certificate accepted on earlier connections is refused on new ones once its anchor is deactivated
      await within(1000, async () => (await call(gateway, { key: keyA, client: orgIssued })).status === 403);
      await setProject(false);
      await enforced(false);
    });

    it('sees activation and deactivation through the admin API within one second', async () => {
      await setOrg(true);
      const on = await enforced(true);
      await setOrg(false);
      const off = await enforced(false);
      assert.ok(on < 1000 && off < 1000, `activation seen after ${on.toFixed(0)} ms, deactivation after ${off.toFixed(0)} ms`);
    });

    it('re-verifies a kept-alive connection when the anchors change', async () => {
      const client = await makeClient(projCa);
      const agent = new Agent({ connect: { ca: gateway.ca, servername: 'localhost', cert: client.pem, key: client.keyPem }, connections: 1 });
      const send = async () => {
        const res = await request(`${gateway.url}/v1/echo`, { headers: { authorization: `Bearer ${keyA}` }, dispatcher: agent });
        await res.body.text();
        return res.statusCode;
      };
      try {
        await setOrg(true);
        await enforced(true);
        assert.equal(await send(), 403, 'a project-CA certificate is not accepted by the org anchor alone');
        await setProject(true);
        await within(1000, async () => (await send()) === 200);
        await setProject(false);
        await within(1000, async () => (await send()) === 403);
      } finally {
        await agent.close();
        await setOrg(false);
        await enforced(false);
      }
    });

    it('streams server-sent events through as they are produced', async () => {
      await setProject(true);
      await enforced(true);
      const client = await makeClient(projCa);
      const agent = new Agent({ connect: { ca: gateway.ca, servername: 'localhost', cert: client.pem, key: client.keyPem } });
      try {
        const res = await request(`${gateway.url}/v1/stream`, { headers: { authorization: `Bearer ${keyA}` }, dispatcher: agent });
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['content-type'], 'text/event-stream');
        assert.equal(res.headers['x-upstream-custom'], 'kept', 'end-to-end headers pass through');
        const reader = res.body[Symbol.asyncIterator]();
        const first = await reader.next();
        // the upstream holds event 2 back until we release it: event 1 arrived on its own
        assert.match(Buffer.from(first.value).toString(), /"n":1/);
        upstream.release();
        let rest = '';
        for (let next = await reader.next(); !next.done; next = await reader.next()) rest += Buffer.from(next.value).toString();
        assert.match(rest, /"n":2[\s\S]*\[DONE\]/);
      } finally {
        await agent.close();
        await setProject(false);
        await enforced(false);
      }
    });

    it('serves the official SDK with a client certificate carried by an undici Agent', async () => {
      await setProject(true);
      await enforced(true);
      const client = await makeClient(projCa);
      const withCert = new OpenAI({
        apiKey: keyA,
        baseURL: `${gateway.url}/v1`,
        maxRetries: 0,
        fetch: undiciFetch as unknown as typeof fetch,
        fetchOptions: { dispatcher: new Agent({ connect: { ca: gateway.ca, servername: 'localhost', cert: client.pem, key: client.keyPem } }) } as any,
      });
      const models = await withCert.models.list();
      assert.deepEqual(models.data.map((m) => m.id), ['test-model']);
      const without = new OpenAI({
        apiKey: keyA,
        baseURL: `${gateway.url}/v1`,
        maxRetries: 0,
        fetch: undiciFetch as unknown as typeof fetch,
        fetchOptions: { dispatcher: new Agent({ connect: { ca: gateway.ca, servername: 'localhost' } }) } as any,
      });
      await assert.rejects(without.models.list(), (err: unknown) => err instanceof OpenAI.PermissionDeniedError && (err as any).code === 'certificate_required');
      await setProject(false);
    });

    it('stops honouring a key once its service account is deleted or its project archived', async () => {
      const projectId = (await org().projects.create({ name: 'short-lived' })).id;
      const account = await org().projects.serviceAccounts.create(projectId, { name: 'temp' });
      assert.equal((await call(gateway, { key: account.api_key!.value })).status, 200);
      await org().projects.serviceAccounts.delete(account.id, { project_id: projectId });
      await within(1000, async () => (await call(gateway, { key: account.api_key!.value })).status === 401);
      // and a key of an archived project stops working too
      const archivedProject = (await org().projects.create({ name: 'to archive' })).id;
      const kept = (await org().projects.serviceAccounts.create(archivedProject, { name: 'kept' })).api_key!.value;
      assert.equal((await call(gateway, { key: kept })).status, 200);
      await org().projects.archive(archivedProject);
      await within(1000, async () => (await call(gateway, { key: kept })).status === 401);
    });

    it('answers /healthz over TLS', async () => {
      const res = await call(gateway, { path: '/healthz' });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: 'ok' });
    });
  });
}
