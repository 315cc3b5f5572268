import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anchorChecks, readTrustAnchor } from '../../../src/domain/checks/anchor.js';
import { ApiError } from '../../../src/domain/errors.js';
import { toPem } from '../../../src/domain/x509/pem.js';
import { KeyUsageFlags, makeCa, makeClient } from '../../support/pki.js';

const now = () => new Date();

function refusal(payload: string): ApiError {
  try {
    readTrustAnchor(payload, now());
  } catch (err) {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
    return err;
  }
  assert.fail('the payload was accepted');
}

describe('trust anchor rules', () => {
  it('accepts a CA certificate that meets every rule and returns canonical PEM', async () => {
    const ca = await makeCa();
    const facts = readTrustAnchor(ca.pem, now());
    assert.equal(facts.isCa, true);
    assert.match(facts.pem, /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE-----\n$/);
    assert.equal(facts.notAfter.getTime(), ca.cert.notAfter.getTime());
  });

  it('lists the rules in the order they are checked', () => {
    assert.deepEqual(
      anchorChecks.map((r) => r.name),
      [
        'basic_constraints_ca',
        'subject_key_identifier',
        'authority_key_identifier',
        'key_usage_cert_sign',
        'critical_extensions',
        'name_constraints_supported',
        'not_expired',
        'not_expiring_within_a_day',
      ],
    );
  });

  const failing: [string, Parameters<typeof makeCa>[0], RegExp, string][] = [
    ['CA:FALSE', { ca: false }, /not a CA/, 'mtls_certificate_invalid'],
    ['no Basic Constraints', { ca: null }, /not a CA/, 'mtls_certificate_invalid'],
    ['no Subject Key Identifier', { ski: false }, /Subject Key Identifier/, 'mtls_certificate_invalid'],
    ['no Authority Key Identifier', { aki: false }, /Authority Key Identifier/, 'mtls_certificate_invalid'],
    ['no Key Usage', { keyUsage: null }, /Certificate Sign and CRL Sign/, 'mtls_certificate_invalid'],
    ['Key Usage without CRL Sign', { keyUsage: KeyUsageFlags.keyCertSign }, /Certificate Sign and CRL Sign/, 'mtls_certificate_invalid'],
    ['Key Usage without Certificate Sign', { keyUsage: KeyUsageFlags.cRLSign }, /Certificate Sign and CRL Sign/, 'mtls_certificate_invalid'],
    ['expiring in 23 hours', { notAfter: new Date(Date.now() + 23 * 3600_000) }, /within one day/, 'expired_certificate'],
    ['already expired', { notBefore: new Date(Date.now() - 10 * 86400_000), notAfter: new Date(Date.now() - 86400_000) }, /expired at/, 'expired_certificate'],
  ];
  for (const [label, options, message, code] of failing) {
    it(`refuses a CA certificate with ${label}`, async () => {
      const err = refusal((await makeCa(options)).pem);
      assert.equal(err.code, code);
      assert.equal(err.status, 400);
      assert.equal(err.param, 'certificate');
      assert.match(err.message, message);
    });
  }

  it('accepts one that expires in 25 hours', async () => {
    const ca = await makeCa({ notAfter: new Date(Date.now() + 25 * 3600_000) });
    assert.ok(readTrustAnchor(ca.pem, now()));
  });

  it('uses only the first certificate of a bundle', async () => {
    const first = await makeCa({ name: 'first' });
    const second = await makeCa({ name: 'second', ca: false });
    const facts = readTrustAnchor(first.pem + second.pem, now());
    assert.equal(facts.subject, 'CN=first');
    // and a bundle whose first certificate breaks a rule is refused, whatever follows
    assert.equal(refusal(second.pem + first.pem).code, 'mtls_certificate_invalid');
  });

  it('takes CRLF line endings and surrounding whitespace', async () => {
    const ca = await makeCa();
    const crlf = `\r\n  \t${ca.pem.replace(/\n/g, '\r\n')}\r\n\r\n`;
    assert.equal(readTrustAnchor(crlf, now()).fingerprint, readTrustAnchor(ca.pem, now()).fingerprint);
  });

  it('refuses a payload holding a private key, and says why', async () => {
    const ca = await makeCa();
    const err = refusal(ca.pem + ca.keyPem);
    assert.match(err.message, /private key/);
    assert.ok(!err.message.includes('BEGIN'), 'the message never echoes the key');
    assert.match(refusal(ca.keyPem.replace(/PRIVATE KEY/g, 'EC PRIVATE KEY')).message, /private key/);
  });

  it('refuses text that holds no certificate, a corrupt one, and an oversized payload', async () => {
    assert.match(refusal('hello').message, /No PEM-encoded certificate/);
    assert.match(refusal('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----').message, /not a strictly DER-encoded X.509 certificate/);
    const ca = await makeCa();
    assert.match(refusal(ca.pem + ' '.repeat(16 * 1024)).message, /16 KiB/);
  });

  it('reads corrupted DER as a refusal, never a crash: 300 certificates with one byte changed or cut short', async () => {
    const ca = await makeCa();
    const der = Buffer.from(ca.cert.rawData);
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const bad = Buffer.from(der);
      if (i % 3 === 0) bad[(i * 7919) % bad.length] ^= 0xff;
      const input = i % 3 === 1 ? bad.subarray(0, (i * 13) % bad.length) : bad;
      if (i % 3 === 2) bad[(i * 104729) % bad.length] = (i * 31) & 0xff;
      try {
        readTrustAnchor(toPem('CERTIFICATE', input), now());
      } catch (err) {
        assert.ok(err instanceof ApiError, `not an ApiError: ${String(err)}`);
        assert.equal(err.code, 'mtls_certificate_invalid');
        refused++;
      }
    }
    assert.ok(refused > 100, `only ${refused} refused`);
  });

  it('refuses a client (leaf) certificate as an anchor', async () => {
    const ca = await makeCa();
    const leaf = await makeClient(ca);
    assert.match(refusal(leaf.pem).message, /not a CA/);
  });
});
