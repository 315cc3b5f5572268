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

/** An RFC 4514 string read back: `\XX` pairs are UTF-8 bytes, `\c` is c. */
function decodeRfc4514(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(text[i] === '\\' ? text[++i]! : text[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** An XFCC quoted value read back: `\"` and `\\` are `"` and `\`. */
const unquoteXfcc = (quoted: string) => quoted.replace(/\\(["\\])/g, '$1');

for (const engine of engines) {
  describe(`identity forwarding of names beyond ASCII (${engine.name})`, () => {
    let scene: Scene;
    let ca: Issued;

    before(async () => {
      scene = await startScene(await engine.fresh(), 'names', ['--client-id-header', 'x-mtls-client-id', '--client-id-from', 'cn']);
      ca = await makeCa({ name: 'names CA' });
      await scene.enforce(ca.pem);
    });
    after(() => scene.close());

    const names: [string, string | import('@peculiar/x509').JsonName, string][] = [
      ['CJK and an accented organization', 'CN=日本語, O=Société', '日本語'],
      ['a line break', [{ CN: ['line\nbreak'] }, { O: ['Example'] }], 'line\nbreak'],
      ['a Latin-1 letter', 'CN=Müller', 'Müller'],
    ];
    for (const [label, subject, commonName] of names) {
      it(`admits ${label} and forwards it intact: the subject as OpenSSL prints it (RFC 2253), the client id percent-encoded UTF-8`, async () => {
        const client = await makeClient(ca, { subject });
        const res = await call(scene.gateway, { key: scene.key, client });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const seen = res.body.echo.headers;
        const xfcc = seen['x-forwarded-client-cert'] as string;
        assert.match(xfcc, /^[\x20-\x7e]+$/, 'ASCII only: Latin-1 and UTF-8 readers of the header agree');
        const quoted = /;Subject="((?:[^"\\]|\\.)*)"/.exec(xfcc)![1]!;
        const subjectText = unquoteXfcc(quoted);
        const openssl = execFileSync('openssl', ['x509', '-noout', '-subject', '-nameopt', 'RFC2253'], { input: client.pem }).toString().trim().replace(/^subject=/, '');
        assert.equal(subjectText, openssl);
        // and back to the name: the CN is the last RDN in RFC 4514 order
        const cnPart = subjectText.split(/(?<!\\),/).find((rdn) => rdn.startsWith('CN='))!;
        assert.equal(decodeRfc4514(cnPart.slice(3)), commonName);
        assert.equal(decodeURIComponent(seen['x-mtls-client-id']), commonName);
      });
    }
  });
}
