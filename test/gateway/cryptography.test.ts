// At the gate, over real TLS and on both engines: weak keys and MD5/SHA-1 signatures are refused with their
// reason, as `openssl verify -auth_level 2` refuses them; a weak anchor does not upload; the verify endpoint
// names the check. Every certificate is made by the openssl CLI at test time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { call, startScene, type Scene } from '../support/gateway.js';
import { opensslIssue, type OpensslIssued } from '../support/openssl-pki.js';
import { opensslVerify } from '../support/openssl.js';

for (const engine of engines) {
  describe(`weak cryptography at the gate (${engine.name})`, () => {
    let scene: Scene;
    let anchor: OpensslIssued;
    let anchorId: string;

    before(async () => {
      scene = await startScene(await engine.fresh(), 'crypto');
      // an RSA-2048 anchor self-signed with SHA-1: its own signature is never judged, so it uploads and verifies
      anchor = await opensslIssue({ name: 'gate crypto anchor', ca: true, key: 'rsa:2048', digest: 'sha1' });
      anchorId = await scene.enforce(anchor.pem);
    });
    after(() => scene.close());

    const cases: [string, () => Promise<{ client: OpensslIssued; chain: OpensslIssued[] }>, number, string?][] = [
      ['a P-256 leaf signed with SHA-256', async () => ({ client: await opensslIssue({ name: 'good', key: 'ec:P-256', issuer: anchor }), chain: [] }), 200],
      ['an RSA-512 leaf', async () => ({ client: await opensslIssue({ name: 'tiny', key: 'rsa:512', issuer: anchor }), chain: [] }), 403, 'weak_key'],
      ['an RSA-1024 leaf', async () => ({ client: await opensslIssue({ name: 'small', key: 'rsa:1024', issuer: anchor }), chain: [] }), 403, 'weak_key'],
      ['a leaf signed with SHA-1', async () => ({ client: await opensslIssue({ name: 'sha1', key: 'ec:P-256', issuer: anchor, digest: 'sha1' }), chain: [] }), 403, 'weak_signature'],
      ['a leaf signed with MD5', async () => ({ client: await opensslIssue({ name: 'md5', key: 'ec:P-256', issuer: anchor, digest: 'md5' }), chain: [] }), 403, 'weak_signature'],
      [
        'a leaf below an intermediate signed with SHA-1',
        async () => {
          const mid = await opensslIssue({ name: 'sha1 mid', ca: true, key: 'ec:P-256', issuer: anchor, digest: 'sha1' });
          return { client: await opensslIssue({ name: 'below sha1 mid', key: 'ec:P-256', issuer: mid }), chain: [mid] };
        },
        403,
        'weak_signature',
      ],
    ];
    for (const [label, make, status, reason] of cases) {
      it(label, async () => {
        const { client, chain } = await make();
        // a client at OpenSSL's default security level will not even load a certificate signed with SHA-1: this one
        // goes to level 0, as a careless or hostile client would, and to TLS 1.2, where an RSA-512 key can still sign
        // (TLS 1.3 asks for RSA-PSS, which needs a longer key)
        const res = await call(scene.gateway, { key: scene.key, client, chain, tls: { ciphers: 'DEFAULT@SECLEVEL=0', maxVersion: 'TLSv1.2' } });
        assert.equal(res.status, status, JSON.stringify(res.body));
        if (reason) {
          assert.equal(res.body.error.code, 'certificate_verification_failed');
          assert.match(res.body.error.message, new RegExp(`\\(reason: ${reason}\\)$`));
        }
        const openssl = await opensslVerify(anchor.pem, client.pem, chain.map((c) => c.pem));
        assert.equal(openssl.ok, status === 200, openssl.output);
      });
    }

    it('refuses the issue\'s RSA-512 anchor self-signed with SHA-1 at upload, naming the rule, and stores nothing', async () => {
      const weak = await opensslIssue({ name: 'weak anchor', ca: true, key: 'rsa:512', digest: 'sha1' });
      const before = await scene.admin.request('GET', '/v1/organization/certificates?limit=100');
      const res = await scene.admin.request('POST', '/v1/organization/certificates', { certificate: weak.pem });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'mtls_certificate_invalid');
      assert.equal(res.body.error.param, 'certificate');
      assert.match(res.body.error.message, /too weak \(weak_key\): it has an RSA key of 512 bits/);
      const after = await scene.admin.request('GET', '/v1/organization/certificates?limit=100');
      assert.deepEqual(after.body.data.map((c: { id: string }) => c.id), before.body.data.map((c: { id: string }) => c.id));
      assert.deepEqual(after.body.data.map((c: { id: string }) => c.id), [anchorId]);
    });

    it('shows key_strength and signature_strength in the verify endpoint\'s checks', async () => {
      const verify = (certificate: string) => scene.admin.request('POST', '/v1/organization/certificates/verify', { certificate, project_id: scene.project });
      const good = await verify((await opensslIssue({ name: 'good', key: 'ed25519', issuer: anchor })).pem);
      assert.equal(good.body.accepted, true, JSON.stringify(good.body));
      assert.deepEqual(
        good.body.checks.filter((c: { name: string }) => /strength/.test(c.name)).map((c: { name: string; passed: boolean }) => [c.name, c.passed]),
        [['key_strength', true], ['signature_strength', true]],
      );
      const sha1 = await verify((await opensslIssue({ name: 'sha1', key: 'ec:P-256', issuer: anchor, digest: 'sha1' })).pem);
      assert.equal(sha1.body.accepted, false);
      assert.deepEqual(sha1.body.checks.at(-1).name, 'signature_strength');
      assert.equal(sha1.body.refusal.reason, 'weak_signature');
      assert.match(sha1.body.refusal.message, /^The client certificate is signed with sha1WithRSAEncryption, over SHA-1, which is broken/);
    });
  });
}
