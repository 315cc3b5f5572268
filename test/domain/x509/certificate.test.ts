// The certificate reader on real certificates, and on a few thousand broken ones (property-based, fast-check).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MalformedCertificate, readCertificate } from '../../../src/domain/x509/certificate.js';
import { makeCa, makeClient } from '../../support/pki.js';

const RUNS = Number(process.env.CERTGATE_FUZZ_RUNS ?? 2000);

describe('certificate reader', () => {
  it('reads names, SANs, path length and key usage as the certificate states them', async () => {
    const ca = await makeCa({ pathLength: 2 });
    const leaf = await makeClient(ca, {
      subject: 'CN=w1, OU=Production, O=Example, C=DE',
      sans: [
        { type: 'dns', value: 'a.example.com' },
        { type: 'ip', value: '10.0.0.7' },
        { type: 'email', value: 'ops@example.com' },
        { type: 'url', value: 'spiffe://example.com/w1' },
      ],
    });
    const caFacts = readCertificate(Buffer.from(ca.cert.rawData));
    assert.deepEqual([caFacts.isCa, caFacts.pathLength, caFacts.selfIssued], [true, 2, true]);
    const facts = readCertificate(Buffer.from(leaf.cert.rawData));
    assert.equal(facts.isCa, false);
    assert.equal(facts.selfIssued, false);
    assert.deepEqual(
      facts.subjectAltNames.map((n) => [n.kind, n.value]),
      [
        ['dns', 'a.example.com'],
        ['ip', '10.0.0.7'],
        ['email', 'ops@example.com'],
        ['uri', 'spiffe://example.com/w1'],
      ],
    );
    assert.deepEqual(
      facts.subjectName.flat().map((a) => a.value),
      ['w1', 'Production', 'Example', 'DE'],
    );
    assert.deepEqual(facts.unhandledCritical, []);
  });

  it('answers every mutated certificate with facts or MalformedCertificate, never another error', async () => {
    const ca = await makeCa();
    const der = Buffer.from((await makeClient(ca, { dnsNames: ['a.example.com'] })).cert.rawData);
    let malformed = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(der.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat(der.length), { nil: undefined }),
        (edits, cut) => {
          const bytes = Buffer.from(der);
          for (const [at, value] of edits) bytes[at] = value;
          try {
            readCertificate(cut === undefined ? bytes : bytes.subarray(0, cut));
          } catch (err) {
            assert.ok(err instanceof MalformedCertificate, `threw ${String(err)}`);
            malformed++;
          }
        },
      ),
      { numRuns: RUNS },
    );
    assert.ok(malformed > RUNS / 10, `only ${malformed} of ${RUNS} were refused`);
  });

  it('refuses random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        assert.throws(() => readCertificate(Buffer.from(bytes)), MalformedCertificate);
      }),
      { numRuns: RUNS },
    );
  });
});
