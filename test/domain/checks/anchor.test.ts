import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anchorChecks, readTrustAnchor } from '../../../src/domain/checks/anchor.js';
import { ApiError } from '../../../src/domain/errors.js';
import { toPem } from '../../../src/domain/x509/pem.js';
import { dnsName, hex, nameConstraints, tlv } from '../../support/der.js';
import { opensslVerify } from '../../support/openssl.js';
import { Extension, KeyUsageFlags, makeCa, makeClient } from '../../support/pki.js';

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
        'key_strength',
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

describe('crafted trust anchors: refused at upload, and what openssl verify says of a leaf under each', () => {
  const raw = (oid: string, critical: boolean, bytes: string) => new Extension(oid, critical, new Uint8Array(hex(bytes)));
  const caUsage = { keyUsage: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign };
  const crafted: [string, Parameters<typeof makeCa>[0], RegExp, boolean][] = [
    // [label, anchor, certgate's message, openssl verify accepts a leaf under it]
    ['Basic Constraints whose BOOLEAN has length zero (30 02 01 00)', { ca: null, ...caUsage, extra: [raw('2.5.29.19', true, '30 02 01 00')] }, /BOOLEAN must be one byte long/, false],
    ['two Basic Constraints, CA:FALSE then CA:TRUE', { ca: false, ...caUsage, extra: [raw('2.5.29.19', true, '30 03 01 01 ff')] }, /2\.5\.29\.19 appears more than once/, false],
    ['an unknown extension marked critical', { extra: [raw('1.3.6.1.4.1.55555.1', true, '05 00')] }, /critical extension certgate does not process \(1\.3\.6\.1\.4\.1\.55555\.1\)/, false],
    // DER forbids it; OpenSSL's BER-tolerant reader takes it as CA:TRUE. The one place certgate is deliberately stricter.
    ['a BOOLEAN with a non-minimal long-form length (01 81 01 ff)', { ca: null, ...caUsage, extra: [raw('2.5.29.19', true, '30 04 01 81 01 ff')] }, /non-minimal length/, true],
  ];
  for (const [label, options, message, opensslAccepts] of crafted) {
    it(label, async () => {
      const anchor = await makeCa(options);
      const err = refusal(anchor.pem);
      assert.equal(err.code, 'mtls_certificate_invalid');
      assert.equal(err.status, 400);
      assert.match(err.message, message);
      const openssl = await opensslVerify(anchor.pem, (await makeClient(anchor)).pem);
      assert.equal(openssl.ok, opensslAccepts, openssl.output);
    });
  }

  it('refuses Name Constraints of a form certgate cannot enforce (otherName), and accepts supported ones', async () => {
    const otherName = tlv(0xa0, hex('06 03 2a 03 04'), tlv(0xa0, tlv(0x0c, Buffer.from('x'))));
    const unsupported = await makeCa({ extra: [new Extension('2.5.29.30', true, new Uint8Array(nameConstraints([otherName])))] });
    assert.match(refusal(unsupported.pem).message, /Name Constraints use name forms certgate cannot enforce \(other\)/);
    const supported = await makeCa({ extra: [new Extension('2.5.29.30', true, new Uint8Array(nameConstraints([dnsName('.example.com')])))] });
    assert.deepEqual(readTrustAnchor(supported.pem, now()).nameConstraints?.permitted, [{ kind: 'dns', value: '.example.com' }]);
  });

  it('refuses a pathLenConstraint on a certificate that is not a CA', async () => {
    const leafWithPathLen = await makeCa({ ca: null, extra: [raw('2.5.29.19', true, '30 03 02 01 00')] });
    assert.match(refusal(leafWithPathLen.pem).message, /pathLenConstraint on a certificate that is not a CA/);
  });
});
