// What the upstream hears: only the gateway speaks for the client. Forged identity headers under underscore names,
// the client's request id, the account headers that pick the upstream's project, and X-Forwarded-For/Forwarded, as
// they arrive at an upstream that records the raw header list. Requests are written on raw TLS sockets so that every
// name goes out exactly as an attacker would write it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gatewayConfig } from '../../src/config.js';
import { hopFrom, parseTrustedProxies } from '../../src/gateway/forwarded.js';
import { engines } from '../support/engines.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { makeCa, makeClient, type Issued } from '../support/pki.js';
import { rawRequest, rawValues, startRecordingUpstream, type RecordedRequest } from '../support/raw-http.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { within } from '../support/wait.js';

/** Underscore twins of the identity headers (CGI-style servers read them as the dashed names), and other claims a client may not make. */
const FORGED: [string, string][] = [
  ['x_forwarded_client_cert', 'Hash=forged;Subject="CN=admin"'],
  ['X_Certgate_Project_Id', 'proj_forged'],
  ['x_certgate_certificate_id', 'cert_forged'],
  ['x_mtls_client_id', 'admin'],
  ['x-certgate-anything', 'forged'],
  ['X-Request-Id', 'client-chosen-id'],
  ['X-Forwarded-For', '10.9.8.7'],
  ['x_forwarded_for', '10.9.8.6'],
  ['Forwarded', 'for=10.9.8.7;proto=http;host=admin.internal'],
  ['X-Forwarded-Proto', 'http'],
  ['X-Forwarded-Host', 'admin.internal'],
  ['X-Real-IP', '10.9.8.7'],
  ['OpenAI-Project', 'proj_someone_elses'],
  ['OpenAI-Organization', 'org_someone_elses'],
  ['X-Custom', 'kept'],
];

describe('the hop a peer adds', () => {
  it('writes IPv4, IPv4-mapped and IPv6 peers as RFC 7239 asks, and trusts by address and range', () => {
    const trusted = parseTrustedProxies('10.0.0.0/8, 192.0.2.7, fd00::/8');
    assert.deepEqual(hopFrom('10.1.2.3', trusted), { trusted: true, forwardedFor: '10.1.2.3', forwarded: 'for=10.1.2.3;proto=https' });
    assert.deepEqual(hopFrom('::ffff:192.0.2.7', trusted), { trusted: true, forwardedFor: '192.0.2.7', forwarded: 'for=192.0.2.7;proto=https' });
    assert.deepEqual(hopFrom('fd00::1', trusted), { trusted: true, forwardedFor: 'fd00::1', forwarded: 'for="[fd00::1]";proto=https' });
    assert.equal(hopFrom('192.0.2.8', trusted).trusted, false);
    assert.equal(hopFrom('2001:db8::1', trusted).trusted, false);
    assert.equal(hopFrom('10.1.2.3', undefined).trusted, false);
    assert.deepEqual(hopFrom(undefined, trusted), { trusted: false, forwardedFor: 'unknown', forwarded: 'for=unknown;proto=https' });
  });
});

for (const engine of engines) {
  describe(`what the upstream hears (${engine.name})`, () => {
    let place: Awaited<ReturnType<typeof engine.fresh>>;
    let admin: TestServer;
    let upstream: Awaited<ReturnType<typeof startRecordingUpstream>>;
    let plain: TestGateway;
    let keyed: TestGateway;
    let behindProxy: TestGateway;
    let client: Issued;
    let anchoredKey = '';
    let openKey = '';
    let anchored = '';

    before(async () => {
      place = await engine.fresh();
      admin = await startTestServer(place);
      upstream = await startRecordingUpstream();
      plain = await startTestGateway(place, upstream.url, undefined, ['--client-id-header', 'x-mtls-client-id', '--client-id-from', 'cn']);
      // a shared upstream key, and trusted proxies that do not include the test's own address
      keyed = await startTestGateway(place, upstream.url, 'sk-upstream-shared', ['--trusted-proxies', '10.0.0.0/8, 192.0.2.7, fd00::/8']);
      behindProxy = await startTestGateway(place, upstream.url, undefined, ['--trusted-proxies', '127.0.0.1/32']);
      const org = admin.sdk.admin.organization;
      anchored = (await org.projects.create({ name: 'anchored' })).id;
      anchoredKey = (await org.projects.serviceAccounts.create(anchored, { name: 'svc' })).api_key!.value;
      const open = (await org.projects.create({ name: 'open' })).id;
      openKey = (await org.projects.serviceAccounts.create(open, { name: 'svc' })).api_key!.value;
      const ca = await makeCa({ name: 'headers CA' });
      client = await makeClient(ca, { name: 'w1' });
      const caId = (await org.certificates.create({ certificate: ca.pem })).id;
      await org.projects.certificates.activate(anchored, { certificate_ids: [caId] });
      for (const gateway of [plain, keyed, behindProxy]) {
        await within(2000, async () => (await send(gateway, anchoredKey)).status === 403);
      }
    });
    after(async () => {
      for (const gateway of [plain, keyed, behindProxy]) await gateway?.close().catch(() => undefined);
      await upstream?.close();
      await admin?.close().catch(() => undefined);
      await place?.drop();
    });

    function send(gateway: TestGateway, key: string, options: { client?: Issued; headers?: [string, string][] } = {}) {
      const head = ['GET /v1/models HTTP/1.1', 'Host: localhost', `Authorization: Bearer ${key}`, ...(options.headers ?? []).map(([n, v]) => `${n}: ${v}`)];
      return rawRequest(gateway, head, options.client ? { client: options.client } : {});
    }

    async function heard(gateway: TestGateway, key: string, options: { client?: Issued; headers?: [string, string][] } = {}): Promise<{ seen: RecordedRequest; requestId: string }> {
      const before = upstream.seen.length;
      const res = await send(gateway, key, options);
      assert.equal(res.status, 200, res.body);
      assert.equal(upstream.seen.length, before + 1);
      return { seen: upstream.seen[before]!, requestId: res.headers['x-request-id']! };
    }

    const names = (raw: string[]) => raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());

    it('drops every header whose name has an underscore, with or without a verified certificate', async () => {
      for (const [key, cert] of [
        [openKey, undefined],
        [anchoredKey, client],
      ] as const) {
        const { seen } = await heard(plain, key, { headers: FORGED, ...(cert ? { client: cert } : {}) });
        assert.deepEqual(names(seen.rawHeaders).filter((n) => n.includes('_')), []);
        assert.deepEqual(rawValues(seen.rawHeaders, 'x-custom'), ['kept']);
        assert.deepEqual(rawValues(seen.rawHeaders, 'x-certgate-anything'), []);
        if (cert) {
          assert.equal(rawValues(seen.rawHeaders, 'x-forwarded-client-cert').length, 1);
          assert.match(rawValues(seen.rawHeaders, 'x-forwarded-client-cert')[0]!, /^Hash=[0-9a-f]{64};Subject="CN=w1"$/);
          assert.deepEqual(rawValues(seen.rawHeaders, 'x-certgate-project-id'), [anchored]);
          assert.deepEqual(rawValues(seen.rawHeaders, 'x-mtls-client-id'), ['w1']);
        } else {
          for (const name of ['x-forwarded-client-cert', 'x-certgate-project-id', 'x-certgate-certificate-id', 'x-mtls-client-id']) assert.deepEqual(rawValues(seen.rawHeaders, name), [], name);
        }
      }
    });

    it("replaces the client's x-request-id with the gateway's own, the one the client is answered with", async () => {
      const { seen, requestId } = await heard(plain, openKey, { headers: [['X-Request-Id', 'client-chosen-id'], ['x-request-id', 'second']] });
      assert.match(requestId, /^req_[0-9a-f]{24}$/);
      assert.deepEqual(rawValues(seen.rawHeaders, 'x-request-id'), [requestId]);
    });

    it('strips OpenAI-Project and OpenAI-Organization when the upstream key is shared, and passes them with the client’s own key', async () => {
      const account: [string, string][] = [
        ['OpenAI-Project', 'proj_someone_elses'],
        ['OpenAI-Organization', 'org_someone_elses'],
      ];
      const shared = (await heard(keyed, openKey, { headers: account })).seen;
      assert.deepEqual(rawValues(shared.rawHeaders, 'authorization'), ['Bearer sk-upstream-shared']);
      assert.deepEqual(rawValues(shared.rawHeaders, 'openai-project'), []);
      assert.deepEqual(rawValues(shared.rawHeaders, 'openai-organization'), []);
      const own = (await heard(plain, openKey, { headers: account })).seen;
      assert.deepEqual(rawValues(own.rawHeaders, 'authorization'), [`Bearer ${openKey}`]);
      assert.deepEqual(rawValues(own.rawHeaders, 'openai-project'), ['proj_someone_elses']);
      assert.deepEqual(rawValues(own.rawHeaders, 'openai-organization'), ['org_someone_elses']);
    });

    it("sets X-Forwarded-For and Forwarded to the peer alone when the peer is not trusted, discarding the client's", async () => {
      for (const gateway of [plain, keyed]) {
        const { seen } = await heard(gateway, openKey, { headers: FORGED });
        assert.deepEqual(rawValues(seen.rawHeaders, 'x-forwarded-for'), ['127.0.0.1']);
        assert.deepEqual(rawValues(seen.rawHeaders, 'forwarded'), ['for=127.0.0.1;proto=https']);
        assert.deepEqual(rawValues(seen.rawHeaders, 'x-forwarded-proto'), ['https']);
        assert.deepEqual(rawValues(seen.rawHeaders, 'x-forwarded-host'), []);
        assert.deepEqual(rawValues(seen.rawHeaders, 'x-real-ip'), []);
      }
      // without any header of the kind, the same
      const { seen } = await heard(plain, openKey);
      assert.deepEqual(rawValues(seen.rawHeaders, 'x-forwarded-for'), ['127.0.0.1']);
    });

    it('appends the peer to the X-Forwarded-For and Forwarded of a trusted proxy, and keeps its other forwarding headers', async () => {
      const { seen } = await heard(behindProxy, openKey, {
        headers: [
          ['X-Forwarded-For', '203.0.113.9, 198.51.100.2'],
          ['X-Forwarded-For', '192.0.2.33'],
          ['Forwarded', 'for=203.0.113.9;proto=https'],
          ['X-Forwarded-Proto', 'https'],
          ['X-Real-IP', '203.0.113.9'],
          // a client cannot have the gateway's own values removed by naming them in Connection
          ['Connection', 'X-Forwarded-For, Forwarded'],
        ],
      });
      assert.deepEqual(rawValues(seen.rawHeaders, 'x-forwarded-for'), ['203.0.113.9, 198.51.100.2, 192.0.2.33, 127.0.0.1']);
      assert.deepEqual(rawValues(seen.rawHeaders, 'forwarded'), ['for=203.0.113.9;proto=https, for=127.0.0.1;proto=https']);
      assert.deepEqual(rawValues(seen.rawHeaders, 'x-forwarded-proto'), ['https']);
      assert.deepEqual(rawValues(seen.rawHeaders, 'x-real-ip'), ['203.0.113.9']);
      // underscores and the gateway's namespace are dropped from a trusted proxy too: it speaks for earlier hops, not for the gateway
      const forged = (await heard(behindProxy, openKey, { headers: FORGED })).seen;
      assert.deepEqual(names(forged.rawHeaders).filter((n) => n.includes('_') || n === 'x-certgate-anything'), []);
    });

    it('takes --trusted-proxies as addresses and CIDR ranges, and refuses anything else naming the flag', () => {
      const base = ['--upstream-url', 'http://127.0.0.1:9'];
      assert.equal(gatewayConfig(base, {}).trustedProxies, undefined);
      assert.equal(gatewayConfig([...base, '--trusted-proxies', '10.0.0.0/8,::1'], {}).trustedProxies, '10.0.0.0/8,::1');
      assert.equal(gatewayConfig(base, { CERTGATE_TRUSTED_PROXIES: '192.0.2.0/24' }).trustedProxies, '192.0.2.0/24');
      for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/8/1', '::1/129', '10.0.0.0/-1', '10.0.0.0/'])
        assert.throws(() => gatewayConfig([...base, '--trusted-proxies', bad], {}), /--trusted-proxies/, bad);
      // a client-id header with an underscore would be its dashed twin to a CGI-style upstream: refused
      assert.throws(() => gatewayConfig([...base, '--client-id-header', 'x_mtls_client_id'], {}), /--client-id-header/);
      assert.throws(() => gatewayConfig([...base, '--client-id-header', 'x-forwarded-for'], {}), /--client-id-header/);
    });
  });
}
