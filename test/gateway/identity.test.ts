// The verified client identity forwarded upstream (Envoy's x-forwarded-client-cert, certgate's ids, a configured
// client-id header), and every copy a client forges removed, with or without a certificate.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { call, startScene, type Scene } from '../support/gateway.js';
import { makeCa, makeClient, type Issued } from '../support/pki.js';

const FORGED = {
  'x-forwarded-client-cert': 'Hash=forged;Subject="CN=admin"',
  'X-Certgate-Project-Id': 'proj_forged',
  'x-certgate-certificate-id': 'cert_forged',
  'x-mtls-client-id': 'admin',
};

for (const engine of engines) {
  describe(`identity forwarding (${engine.name})`, () => {
    let scene: Scene;
    let client: Issued;
    let certificateId: string;
    let openKey: string;

    before(async () => {
      scene = await startScene(await engine.fresh(), 'identity', ['--client-id-header', 'X-MTLS-Client-Id', '--client-id-from', 'san-uri']);
      const ca = await makeCa({ name: 'identity CA' });
      certificateId = await scene.enforce(ca.pem);
      client = await makeClient(ca, {
        subject: 'CN=w1, OU=Production, O=Example\\, Inc.',
        sans: [
          { type: 'url', value: 'spiffe://example.com/ns/prod/sa/w1' },
          { type: 'dns', value: 'w1.example.com' },
          { type: 'dns', value: 'w1.internal' },
        ],
      });
      // a second project with no anchor in force: nothing is verified there
      const org = scene.admin.sdk.admin.organization;
      const open = (await org.projects.create({ name: 'open' })).id;
      openKey = (await org.projects.serviceAccounts.create(open, { name: 'svc' })).api_key!.value;
    });
    after(() => scene.close());

    it('forwards the verified identity exactly, replacing every forged copy', async () => {
      const res = await call(scene.gateway, { key: scene.key, client, headers: FORGED });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const seen = res.body.echo.headers;
      const hash = createHash('sha256').update(Buffer.from(client.cert.rawData)).digest('hex');
      // the subject as OpenSSL writes it in RFC 2253 form, asked at test time
      const subject = execFileSync('openssl', ['x509', '-noout', '-subject', '-nameopt', 'RFC2253'], { input: client.pem }).toString().trim().replace(/^subject=/, '');
      assert.equal(subject, 'O=Example\\, Inc.,OU=Production,CN=w1');
      const quoted = subject.replace(/["\\]/g, (c) => `\\${c}`);
      assert.equal(seen['x-forwarded-client-cert'], `Hash=${hash};Subject="${quoted}";URI=spiffe://example.com/ns/prod/sa/w1;DNS=w1.example.com;DNS=w1.internal`);
      assert.equal(seen['x-certgate-project-id'], scene.project);
      assert.equal(seen['x-certgate-certificate-id'], certificateId);
      assert.equal(seen['x-mtls-client-id'], 'spiffe://example.com/ns/prod/sa/w1');
    });

    it('keeps forged identity headers from the upstream when no certificate is verified', async () => {
      const res = await call(scene.gateway, { key: openKey, headers: FORGED });
      assert.equal(res.status, 200);
      const seen = res.body.echo.headers;
      for (const name of Object.keys(FORGED)) assert.equal(seen[name.toLowerCase()], undefined, name);
      // a certificate presented where no anchor is in force is not verified, so it is not forwarded either
      const unverified = await call(scene.gateway, { key: openKey, client, headers: FORGED });
      for (const name of Object.keys(FORGED)) assert.equal(unverified.body.echo.headers[name.toLowerCase()], undefined, name);
    });

    it('replaces forged headers on every request, also when the verdict is reused from an earlier connection', async () => {
      for (let i = 0; i < 3; i++) {
        const res = await call(scene.gateway, { key: scene.key, client, headers: { ...FORGED, 'x-forwarded-client-cert': `forged ${i}` } });
        assert.match(res.body.echo.headers['x-forwarded-client-cert'], /^Hash=[0-9a-f]{64};Subject="/);
      }
    });
  });
}
