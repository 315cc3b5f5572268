// Behind an ingress (issue 20): `certgate decide` and `certgate gateway --behind-ingress` as real processes over
// one store, asked as an ingress asks them (its secret, the certificate in a header, the client's Authorization),
// on every engine. The decision service runs with the default worker count.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { availableParallelism, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { statSync } from 'node:fs';
import { engines } from '../support/engines.js';
import { startUpstream } from '../support/gateway.js';
import { makeCa, makeClient, makeCrl, type Issued } from '../support/pki.js';
import { spawnCertgate, storeArgs, type CertgateProcess } from '../support/processes.js';
import { startTestServer, tempDir, type TestServer } from '../support/server.js';
import { within } from '../support/wait.js';

const SECRET = 'ingress-secret-0123456789abcdef';
const FILTER = 'subject.organizational_unit == "Production"';

const rfc9440 = (c: Issued) => `:${Buffer.from(c.cert.rawData).toString('base64')}:`;
const fingerprintOf = (c: Issued) => createHash('sha256').update(Buffer.from(c.cert.rawData)).digest('hex');

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

async function ask(url: string, headers: Record<string, string>, path = '/v1/chat/completions', method = 'GET'): Promise<Answer> {
  const res = await request(url + path, { method: method as 'GET', headers });
  const text = await res.body.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* empty or not JSON */
  }
  return { status: res.statusCode, headers: res.headers, body };
}

/** The machine's first address that is not loopback: a peer there is not the ingress. */
function outsideAddress(): string {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  assert.fail('this test needs a non-loopback IPv4 address on the machine (a peer that is not the ingress)');
}

for (const engine of engines) {
  describe(`behind an ingress (${engine.name})`, () => {
    let place: Awaited<ReturnType<typeof engine.fresh>>;
    let admin: TestServer;
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let decide: CertgateProcess;
    let gateway: CertgateProcess;
    let gatewayPort: number;
    let dir: ReturnType<typeof tempDir>;
    let project: string, open: string, key: string, openKey: string, caId: string;
    let ca: Issued, mid: Issued, good: Issued, staging: Issued, revoked: Issued, stranger: Issued, strangerCa: Issued, belowMid: Issued;

    before(async () => {
      place = await engine.fresh();
      dir = tempDir();
      admin = await startTestServer(place);
      upstream = await startUpstream();
      const org = admin.sdk.admin.organization;
      project = (await org.projects.create({ name: 'behind ingress' })).id;
      open = (await org.projects.create({ name: 'no anchor' })).id;
      key = (await org.projects.serviceAccounts.create(project, { name: 'ingress svc' })).api_key!.value;
      openKey = (await org.projects.serviceAccounts.create(open, { name: 'open svc' })).api_key!.value;
      ca = await makeCa({ name: 'ingress CA' });
      mid = await makeCa({ name: 'ingress intermediate', issuer: ca });
      strangerCa = await makeCa({ name: 'another CA' });
      good = await makeClient(ca, { subject: 'CN=good, OU=Production, O=Example' });
      staging = await makeClient(ca, { subject: 'CN=staging, OU=Staging, O=Example' });
      revoked = await makeClient(ca, { subject: 'CN=revoked, OU=Production, O=Example' });
      belowMid = await makeClient(mid, { subject: 'CN=below, OU=Production, O=Example' });
      stranger = await makeClient(strangerCa, { subject: 'CN=stranger, OU=Production, O=Example' });
      caId = (await org.certificates.create({ certificate: ca.pem })).id;
      await org.projects.certificates.activate(project, { certificate_ids: [caId] });
      assert.equal((await admin.request('PUT', `/v1/organization/certificates/${caId}/crl`, { crl: await makeCrl(ca, { revoked: [revoked] }) })).status, 200);
      assert.equal((await admin.request('PUT', `/v1/organization/certificates/${caId}/filter`, { expression: FILTER })).status, 200);
      const secretFile = join(dir.path, 'ingress-secret');
      writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
      // the decision service with the default worker count, known by its secret
      decide = await spawnCertgate('decide', [...storeArgs(place), '--ingress-secret-file', secretFile, '--client-id-header', 'x-mtls-client-id', '--client-id-from', 'cn'], {
        CERTGATE_WORKERS: undefined,
      });
      // the terminated gateway on every address, trusting loopback peers only
      gateway = await spawnCertgate('gateway', [...storeArgs(place), '--behind-ingress', '--trust-loopback', '--host', '0.0.0.0', '--upstream-url', upstream.url]);
      gatewayPort = Number(new URL(gateway.url).port);
      assert.match(decide.output(), new RegExp(`"workers":${availableParallelism()}`), 'the default worker count');
    });
    after(async () => {
      await decide?.stop();
      await gateway?.stop();
      await upstream?.close();
      await admin?.close();
      await place?.drop();
      dir?.remove();
    });

    const asIngress = (client: Issued | undefined, more: Record<string, string> = {}) => ({
      authorization: `Bearer ${key}`,
      'x-certgate-ingress-secret': SECRET,
      ...(client ? { 'client-cert': rfc9440(client) } : {}),
      ...more,
    });

    it('decide: admits the right certificate with the identity headers to copy upstream, in every header format', async () => {
      const formats: Record<string, string>[] = [
        { 'client-cert': rfc9440(good) },
        { 'client-cert': encodeURIComponent(good.pem) }, // nginx $ssl_client_escaped_cert
        { 'client-cert': Buffer.from(good.cert.rawData).toString('base64') }, // HAProxy ssl_c_der,base64 / Caddy
        { 'client-cert': `Hash=x;Cert="${encodeURIComponent(good.pem)}"` }, // Envoy XFCC
      ];
      for (const headers of formats) {
        const res = await ask(decide.url, { ...asIngress(undefined), ...headers });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body, '');
        assert.match(String(res.headers['x-forwarded-client-cert']), new RegExp(`^Hash=${fingerprintOf(good)};Subject="[^"]*CN=good[^"]*"`));
        assert.equal(res.headers['x-certgate-project-id'], project);
        assert.equal(res.headers['x-certgate-certificate-id'], caId);
        assert.equal(res.headers['x-mtls-client-id'], 'good');
        assert.equal(res.headers['x-certgate-would-refuse'], undefined);
      }
      // a leaf issued by an intermediate, with the intermediate in the chain header (HAProxy's concatenated DERs)
      const chained = await ask(decide.url, asIngress(belowMid, { 'client-cert-chain': Buffer.from(mid.cert.rawData).toString('base64') }));
      assert.equal(chained.status, 200, JSON.stringify(chained.body));
      // a project with no anchor in force: admitted, no identity header
      const openAnswer = await ask(decide.url, { ...asIngress(undefined), authorization: `Bearer ${openKey}` });
      assert.equal(openAnswer.status, 200);
      assert.equal(openAnswer.headers['x-forwarded-client-cert'], undefined);
    });

    it("decide: refuses with OpenAI's status and envelope, repeated in x-certgate-status and x-certgate-error", async () => {
      const cases: [string, Record<string, string>, number, string, string][] = [
        ['no certificate', asIngress(undefined), 403, 'certificate_required', 'no_certificate'],
        ['a certificate of another CA', asIngress(stranger), 403, 'certificate_verification_failed', 'untrusted_issuer'],
        ['a revoked certificate', asIngress(revoked), 403, 'certificate_verification_failed', 'revoked'],
        ['a certificate the filter rejects', asIngress(staging), 403, 'certificate_attribute_verification_failed', 'filter_rejected'],
        ['no key', { 'x-certgate-ingress-secret': SECRET, 'client-cert': rfc9440(good) }, 401, 'missing_api_key', ''],
        ['an unreadable certificate header', asIngress(undefined, { 'client-cert': 'garbage-certificate-value' }), 403, 'invalid_certificate', 'unreadable_certificate_header'],
        ['two certificate headers', asIngress(good, { 'Client-Cert': rfc9440(stranger) }), 403, 'invalid_certificate', 'unreadable_certificate_header'],
      ];
      for (const [what, headers, status, code, reason] of cases) {
        const res = await ask(decide.url, headers);
        assert.equal(res.status, status, what);
        assert.equal(res.body.error.code, code, what);
        assert.deepEqual(Object.keys(res.body.error), ['message', 'type', 'param', 'code'], what);
        if (reason) assert.match(res.body.error.message, new RegExp(`\\(reason: ${reason}\\)$`), what);
        assert.equal(res.headers['x-certgate-status'], String(status), what);
        assert.deepEqual(JSON.parse(String(res.headers['x-certgate-error'])), res.body, what);
        assert.equal(res.headers['x-forwarded-client-cert'], undefined, what);
      }
      assert.ok(!decide.output().includes('garbage-certificate-value'), 'a header value is never logged');
    });

    it('decide: a request without the secret, or with a wrong one, is refused and logged, certificate or not', async () => {
      const unproven: Record<string, string>[] = [
        asIngress(good, { 'x-certgate-ingress-secret': 'wrong-secret-0123456789abcdef' }),
        { authorization: `Bearer ${key}`, 'client-cert': rfc9440(good) },
        { authorization: `Bearer ${key}` },
      ];
      for (const headers of unproven) {
        const res = await ask(decide.url, headers);
        assert.equal(res.status, 403);
        assert.equal(res.body.error.code, 'certificate_verification_failed');
        assert.match(res.body.error.message, /\(reason: untrusted_certificate_source\)$/);
        assert.equal(res.headers['x-certgate-status'], '403');
      }
      await within(2000, async () => (decide.output().match(/"reason":"untrusted_certificate_source"/g) ?? []).length >= 3);
      assert.ok(!decide.output().includes(SECRET) && !decide.output().includes('wrong-secret'), 'no secret in the log');
      assert.ok(!decide.output().includes(key), 'no key in the log');
      // health checks carry none of a decision's headers
      assert.deepEqual((await ask(decide.url, {}, '/healthz')).body, { status: 'ok' });
      assert.equal((await ask(decide.url, asIngress(undefined), '/healthz')).status, 403, 'a decision about /healthz is a decision');
    });

    it('gateway --behind-ingress: proxies an admitted request with the identity, never the ingress headers or forged ones', async () => {
      const local = `http://127.0.0.1:${gatewayPort}`;
      const res = await ask(local, {
        authorization: `Bearer ${key}`,
        'client-cert': rfc9440(good),
        'x-certgate-ingress-secret': 'anything',
        'x-forwarded-client-cert': 'Hash=forged;Subject="CN=admin"',
        x_forwarded_client_cert: 'Hash=forged-underscore',
        'x-certgate-project-id': 'proj_forged',
      }, '/v1/echo', 'POST');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const seen = res.body.echo.headers as Record<string, string>;
      assert.match(seen['x-forwarded-client-cert']!, new RegExp(`^Hash=${fingerprintOf(good)};`));
      assert.equal(seen['x-certgate-project-id'], project);
      for (const name of ['client-cert', 'client-cert-chain', 'x-certgate-ingress-secret', 'x_forwarded_client_cert']) assert.equal(seen[name], undefined, name);
      assert.equal(seen['x-forwarded-proto'], 'https');
      // where no anchor is in force, a forged identity is dropped and none is set
      const opened = await ask(local, { authorization: `Bearer ${openKey}`, 'x-forwarded-client-cert': 'Hash=forged', x_forwarded_client_cert: 'forged' }, '/v1/echo');
      assert.equal(opened.status, 200);
      assert.equal(opened.body.echo.headers['x-forwarded-client-cert'], undefined);
      assert.equal(opened.body.echo.headers['x_forwarded_client_cert'], undefined);
      // refusals as the TLS gateway answers them
      for (const [client, code] of [
        [undefined, 'certificate_required'],
        [stranger, 'certificate_verification_failed'],
        [revoked, 'certificate_verification_failed'],
        [staging, 'certificate_attribute_verification_failed'],
      ] as const) {
        const refused = await ask(local, { authorization: `Bearer ${key}`, ...(client ? { 'client-cert': rfc9440(client) } : {}) }, '/v1/echo');
        assert.equal(refused.status, 403);
        assert.equal(refused.body.error.code, code);
      }
    });

    it('gateway --behind-ingress: a peer that is not on loopback is refused and logged, certificate headers or not', async () => {
      const before = upstream.seen.length;
      const outside = `http://${outsideAddress()}:${gatewayPort}`;
      const requests: Record<string, string>[] = [{ authorization: `Bearer ${key}`, 'client-cert': rfc9440(good) }, { authorization: `Bearer ${openKey}` }];
      for (const headers of requests) {
        const res = await ask(outside, headers, '/v1/echo');
        assert.equal(res.status, 403);
        assert.match(res.body.error.message, /\(reason: untrusted_certificate_source\)$/);
      }
      assert.equal(upstream.seen.length, before, 'nothing reached the upstream');
      await within(2000, async () => /"reason":"untrusted_certificate_source","peer":"[^"]*192|"reason":"untrusted_certificate_source","peer":"(?!127)/.test(gateway.output()));
    });

    it('decide --socket: a request on the Unix socket is from the ingress (mode 0660), no secret needed', async () => {
      const socket = join(dir.path, 'decide.sock');
      const onSocket = await spawnCertgate('decide', [...storeArgs(place), '--socket', socket]);
      try {
        assert.equal(onSocket.url, `unix:${socket}`);
        assert.equal(statSync(socket).mode & 0o777, 0o660);
        const agent = new Agent({ connect: { socketPath: socket } });
        const res = await request('http://ingress/v1/models', { headers: { authorization: `Bearer ${key}`, 'client-cert': rfc9440(good) }, dispatcher: agent });
        await res.body.dump();
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['x-certgate-project-id'], project);
        await agent.close();
      } finally {
        await onSocket.stop();
      }
      // the path can be listened on again by the next start
      const again = await spawnCertgate('decide', [...storeArgs(place), '--socket', socket]);
      await again.stop();
    });

    it('enforces an activation change within the propagation bound (250 ms), and observe mode marks what it lets through', async () => {
      const org = admin.sdk.admin.organization;
      assert.equal((await ask(decide.url, asIngress(stranger))).status, 403);
      const strangerId = (await org.certificates.create({ certificate: strangerCa.pem })).id;
      await org.projects.certificates.activate(project, { certificate_ids: [strangerId] });
      await within(250, async () => (await ask(decide.url, asIngress(stranger))).status === 200);
      await within(250, async () => (await ask(`http://127.0.0.1:${gatewayPort}`, { authorization: `Bearer ${key}`, 'client-cert': rfc9440(stranger) }, '/v1/echo')).status === 200);
      await org.projects.certificates.deactivate(project, { certificate_ids: [strangerId] });
      await within(250, async () => (await ask(decide.url, asIngress(stranger))).status === 403);

      const set = await admin.request('POST', `/v1/organization/projects/${project}/mtls_settings`, { mode: 'observe' });
      assert.equal(set.status, 200, set.text);
      await within(1000, async () => (await ask(decide.url, asIngress(undefined))).status === 200);
      const marked = await ask(decide.url, asIngress(undefined));
      assert.equal(marked.headers['x-certgate-would-refuse'], 'certificate_required');
      const through = await ask(`http://127.0.0.1:${gatewayPort}`, { authorization: `Bearer ${key}` }, '/v1/echo');
      assert.equal(through.status, 200);
      assert.equal(through.body.echo.headers['x-certgate-would-refuse'], 'certificate_required');
      assert.equal((await admin.request('POST', `/v1/organization/projects/${project}/mtls_settings`, { mode: 'enforce' })).status, 200);
    });
  });
}
