// At the gate, over real TLS: what OpenSSL refuses (an unknown critical extension, a path past its
// pathLenConstraint, a name outside Name Constraints), certgate refuses too, with OpenAI's code.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { dnsName, hex, nameConstraints } from '../support/der.js';
import { call, startScene, type Scene } from '../support/gateway.js';
import { opensslVerify } from '../support/openssl.js';
import { Extension, makeCa, makeClient, type Issued } from '../support/pki.js';

for (const engine of engines) {
  describe(`the gate and openssl verify agree (${engine.name})`, () => {
    let scene: Scene;
    let anchor: Issued;

    before(async () => {
      scene = await startScene(await engine.fresh(), 'constrained');
      // an anchor for *.example.com only, with no CA below its intermediates' children
      anchor = await makeCa({
        name: 'constrained anchor',
        pathLength: 1,
        extra: [new Extension('2.5.29.30', true, new Uint8Array(nameConstraints([dnsName('.example.com')])))],
      });
      await scene.enforce(anchor.pem);
    });
    after(() => scene.close());

    const cases: [string, () => Promise<{ client: Issued; chain: Issued[] }>, number, string?][] = [
      ['a leaf inside the constraints', async () => ({ client: await makeClient(anchor, { dnsNames: ['api.example.com'] }), chain: [] }), 200],
      ['a leaf outside the Name Constraints', async () => ({ client: await makeClient(anchor, { dnsNames: ['evil.org'] }), chain: [] }), 403, 'name_constraints_violated'],
      [
        'a leaf with an unknown critical extension',
        async () => ({ client: await makeClient(anchor, { dnsNames: ['api.example.com'], extra: [new Extension('1.3.6.1.4.1.55555.1', true, new Uint8Array(hex('05 00')))] }), chain: [] }),
        403,
        'unhandled_critical_extension',
      ],
      [
        'a leaf one intermediate down (pathLen 1 allows it)',
        async () => {
          const mid = await makeCa({ name: 'mid', issuer: anchor });
          return { client: await makeClient(mid, { dnsNames: ['api.example.com'] }), chain: [mid] };
        },
        200,
      ],
      [
        'a leaf two intermediates down, past the pathLenConstraint',
        async () => {
          const mid = await makeCa({ name: 'mid', issuer: anchor });
          const low = await makeCa({ name: 'low', issuer: mid });
          return { client: await makeClient(low, { dnsNames: ['api.example.com'] }), chain: [low, mid] };
        },
        403,
        'path_length_exceeded',
      ],
    ];
    for (const [label, make, status, reason] of cases) {
      it(label, async () => {
        const { client, chain } = await make();
        const res = await call(scene.gateway, { key: scene.key, client, chain });
        assert.equal(res.status, status, JSON.stringify(res.body));
        if (reason) {
          assert.equal(res.body.error.code, 'certificate_verification_failed');
          assert.match(res.body.error.message, new RegExp(`\\(reason: ${reason}\\)$`));
        }
        const openssl = await opensslVerify(anchor.pem, client.pem, chain.map((c) => c.pem));
        assert.equal(openssl.ok, status === 200, openssl.output);
      });
    }
  });
}
