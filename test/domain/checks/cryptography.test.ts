// Modern cryptography only (weak_key, weak_signature), case by case against `openssl verify -auth_level 2` on the
// same chains, every certificate made by the openssl CLI at test time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readTrustAnchor } from '../../../src/domain/checks/anchor.js';
import { verifyClient } from '../../../src/domain/checks/client.js';
import { ApiError } from '../../../src/domain/errors.js';
import { weakKey, weakSignature } from '../../../src/domain/checks/cryptography.js';
import { readCertificate, type CertificateFacts } from '../../../src/domain/x509/certificate.js';
import { certificatesFromPem } from '../../../src/domain/x509/pem.js';
import { opensslIssue, type OpensslIssued, type OpensslOptions } from '../../support/openssl-pki.js';
import { opensslVerify } from '../../support/openssl.js';

type Part = Omit<OpensslOptions, 'name' | 'issuer' | 'ca' | 'key'> & { key?: OpensslOptions['key'] };

interface Case {
  readonly label: string;
  readonly anchor?: Part;
  /** intermediates from the anchor down, each issued by the one before */
  readonly intermediates?: Part[];
  readonly leaf?: Part;
  /** certgate's answer: 'accepted', or the refusal reason */
  readonly expect: 'accepted' | 'weak_key' | 'weak_signature';
  /** openssl verify -auth_level 2's answer, when it differs from certgate's on purpose */
  readonly openssl?: boolean;
}

const cases: Case[] = [
  { label: 'an RSA-512 leaf', leaf: { key: 'rsa:512' }, expect: 'weak_key' },
  { label: 'an RSA-1024 leaf', leaf: { key: 'rsa:1024' }, expect: 'weak_key' },
  // OpenSSL rounds a 2047-bit modulus to 112 bits of security and takes it at level 2; the rule says 2048
  { label: 'an RSA-2047 leaf, one bit short (certgate is stricter than level 2)', leaf: { key: 'rsa:2047' }, expect: 'weak_key', openssl: true },
  { label: 'an RSA-2048 leaf', leaf: { key: 'rsa:2048' }, expect: 'accepted' },
  { label: 'an RSA-PSS key of 1024 bits', leaf: { key: 'rsa-pss:1024' }, expect: 'weak_key' },
  { label: 'an EC P-256 leaf', leaf: { key: 'ec:P-256' }, expect: 'accepted' },
  { label: 'an EC P-384 leaf', leaf: { key: 'ec:P-384' }, expect: 'accepted' },
  { label: 'an EC P-521 leaf', leaf: { key: 'ec:P-521' }, expect: 'accepted' },
  { label: 'an EC P-192 leaf', leaf: { key: 'ec:P-192' }, expect: 'weak_key' },
  // 112 bits: OpenSSL's level 2 takes it; the rule asks for EC of 256 bits or more
  { label: 'an EC P-224 leaf (certgate is stricter than level 2)', leaf: { key: 'ec:P-224' }, expect: 'weak_key', openssl: true },
  { label: 'an EC secp256k1 leaf (a curve outside P-256, P-384, P-521)', leaf: { key: 'ec:secp256k1' }, expect: 'weak_key', openssl: true },
  // RFC 5480 allows only named curves; OpenSSL 3 refuses explicit parameters too (error 94)
  { label: 'an EC P-256 leaf with explicit curve parameters', leaf: { key: 'ec:P-256:explicit' }, expect: 'weak_key' },
  { label: 'a DSA-1024 leaf', leaf: { key: 'dsa:1024' }, expect: 'weak_key' },
  // OpenSSL's level 2 takes DSA of 2048 bits; the rule takes no DSA at all
  { label: 'a DSA-2048 leaf (certgate is stricter than level 2)', leaf: { key: 'dsa:2048' }, expect: 'weak_key', openssl: true },
  { label: 'an Ed25519 leaf', leaf: { key: 'ed25519' }, expect: 'accepted' },
  { label: 'an Ed448 leaf', leaf: { key: 'ed448' }, expect: 'accepted' },
  { label: 'a leaf signed with MD5 (RSA)', anchor: { key: 'rsa:2048' }, leaf: { digest: 'md5' }, expect: 'weak_signature' },
  { label: 'a leaf signed with SHA-1 (RSA)', anchor: { key: 'rsa:2048' }, leaf: { digest: 'sha1' }, expect: 'weak_signature' },
  { label: 'a leaf signed with SHA-1 (ECDSA)', leaf: { digest: 'sha1' }, expect: 'weak_signature' },
  { label: 'a leaf signed with RSASSA-PSS over SHA-1', anchor: { key: 'rsa:2048' }, leaf: { digest: 'sha1', pss: true }, expect: 'weak_signature' },
  { label: 'a leaf signed with RSASSA-PSS over SHA-256', anchor: { key: 'rsa:2048' }, leaf: { pss: true }, expect: 'accepted' },
  { label: 'a leaf signed with SHA-224 (112 bits, as level 2)', leaf: { digest: 'sha224' }, expect: 'accepted' },
  { label: 'a leaf signed by an Ed25519 anchor', anchor: { key: 'ed25519' }, expect: 'accepted' },
  { label: 'an intermediate signed with SHA-1', intermediates: [{ digest: 'sha1' }], expect: 'weak_signature' },
  { label: 'an intermediate with an RSA-1024 key', intermediates: [{ key: 'rsa:1024' }], expect: 'weak_key' },
  { label: 'a leaf signed with SHA-1 by an intermediate', intermediates: [{}], leaf: { digest: 'sha1' }, expect: 'weak_signature' },
  { label: 'a good path through two intermediates', intermediates: [{ key: 'rsa:2048' }, {}], expect: 'accepted' },
  // the anchor is trusted as it is: its own signature is never checked, by certgate or by OpenSSL
  { label: 'an anchor self-signed with SHA-1, RSA-2048 key', anchor: { key: 'rsa:2048', digest: 'sha1' }, expect: 'accepted' },
  { label: 'an anchor self-signed with MD5, RSA-2048 key', anchor: { key: 'rsa:2048', digest: 'md5' }, expect: 'accepted' },
  // its key is: an anchor uploaded before the rule held admits no one
  { label: 'an anchor with an RSA-1024 key', anchor: { key: 'rsa:1024' }, expect: 'weak_key' },
];

const der = (pem: string) => certificatesFromPem(pem)[0]!;

/** An anchor, the intermediates below it (nearest the leaf first) and a leaf, all made by openssl. */
async function chain(c: Pick<Case, 'anchor' | 'intermediates' | 'leaf'>): Promise<{ anchor: OpensslIssued; intermediates: OpensslIssued[]; leaf: OpensslIssued }> {
  const anchor = await opensslIssue({ name: 'crypto anchor', ca: true, key: 'ec:P-256', ...c.anchor });
  let issuer = anchor;
  const intermediates: OpensslIssued[] = [];
  for (const [i, part] of (c.intermediates ?? []).entries()) {
    issuer = await opensslIssue({ name: `crypto intermediate ${i + 1}`, ca: true, key: 'ec:P-256', ...part, issuer });
    intermediates.unshift(issuer);
  }
  const leaf = await opensslIssue({ name: 'crypto client', key: 'ec:P-256', ...c.leaf, issuer });
  return { anchor, intermediates, leaf };
}

describe('modern cryptography only: certgate and openssl verify -auth_level 2 on the same chains', () => {
  for (const c of cases) {
    it(c.label, async () => {
      const { anchor, intermediates, leaf } = await chain(c);
      const verdict = verifyClient(
        [der(leaf.pem), ...intermediates.map((i) => der(i.pem))],
        [{ id: 'cert_anchor', scope: 'organization', facts: readCertificate(der(anchor.pem)), filter: null, revoked: null }],
        new Date(),
      );
      const ours = verdict.accepted ? 'accepted' : verdict.refusal!.reason;
      assert.equal(ours, c.expect, JSON.stringify(verdict.refusal));
      if (!verdict.accepted) {
        assert.equal(verdict.refusal!.code, 'certificate_verification_failed');
        const failed = verdict.checks.at(-1)!;
        assert.equal(failed.name, c.expect === 'weak_key' ? 'key_strength' : 'signature_strength');
        assert.equal(failed.passed, false);
      } else {
        assert.ok(verdict.checks.some((check) => check.name === 'key_strength' && check.passed));
        assert.ok(verdict.checks.some((check) => check.name === 'signature_strength' && check.passed));
      }
      const openssl = await opensslVerify(anchor.pem, leaf.pem, intermediates.map((i) => i.pem));
      assert.equal(openssl.ok, c.openssl ?? verdict.accepted, `openssl verify -auth_level 2 said: ${openssl.output}`);
    });
  }

  it('names the certificate and what is wrong with it', async () => {
    const weakMid = await chain({ intermediates: [{ digest: 'sha1', key: 'rsa:2048' }] });
    const verdict = verifyClient(
      [der(weakMid.leaf.pem), der(weakMid.intermediates[0]!.pem)],
      [{ id: 'cert_anchor', scope: 'organization', facts: readCertificate(der(weakMid.anchor.pem)), filter: null, revoked: null }],
      new Date(),
    );
    assert.match(verdict.refusal!.message, /^Intermediate certificate CN=crypto intermediate 1 is signed with ecdsa-with-SHA1, over SHA-1, which is broken; /);
    const small = await chain({ leaf: { key: 'rsa:1024' } });
    const refused = verifyClient([der(small.leaf.pem)], [{ id: 'cert_anchor', scope: 'organization', facts: readCertificate(der(small.anchor.pem)), filter: null, revoked: null }], new Date());
    assert.match(refused.refusal!.message, /^The client certificate has an RSA key of 1024 bits; certgate accepts RSA of 2048 bits or more/);
  });
});

describe('modern cryptography at upload: the anchor key counts, its self-signature does not', () => {
  const upload = (pem: string) => {
    try {
      return readTrustAnchor(pem, new Date());
    } catch (err) {
      assert.ok(err instanceof ApiError, String(err));
      return err;
    }
  };
  const uploads: [string, Part, RegExp | null][] = [
    ['an RSA-512 anchor self-signed with SHA-1 (the issue)', { key: 'rsa:512', digest: 'sha1' }, /too weak \(weak_key\): it has an RSA key of 512 bits/],
    ['an RSA-1024 anchor', { key: 'rsa:1024' }, /an RSA key of 1024 bits/],
    ['a DSA-2048 anchor', { key: 'dsa:2048' }, /a DSA key of 2048 bits/],
    ['an EC P-224 anchor', { key: 'ec:P-224' }, /an EC key on secp224r1/],
    ['an RSA-2048 anchor self-signed with SHA-1', { key: 'rsa:2048', digest: 'sha1' }, null],
    ['an EC P-384 anchor', { key: 'ec:P-384' }, null],
    ['an Ed448 anchor', { key: 'ed448' }, null],
  ];
  for (const [label, part, refused] of uploads) {
    it(`${refused ? 'refuses' : 'accepts'} ${label}`, async () => {
      const anchor = await opensslIssue({ name: 'uploaded anchor', ca: true, key: 'ec:P-256', ...part });
      const result = upload(anchor.pem);
      if (refused) {
        assert.ok(result instanceof ApiError, 'the anchor was accepted');
        assert.equal(result.code, 'mtls_certificate_invalid');
        assert.equal(result.status, 400);
        assert.match(result.message, refused);
      } else {
        assert.ok(!(result instanceof ApiError), result instanceof ApiError ? result.message : '');
      }
      // openssl verify -auth_level 2 refuses a chain to an anchor whose key is too small (CA_KEY_TOO_SMALL) and takes one
      // whose only weakness is its own signature
      const leaf = await opensslIssue({ name: 'client under uploaded anchor', key: 'ec:P-256', issuer: anchor });
      const openssl = await opensslVerify(anchor.pem, leaf.pem);
      const certgateStricter = /P-224|DSA-2048/.test(label); // level 2 takes these; certgate's rule does not
      assert.equal(openssl.ok, !refused || certgateStricter, openssl.output);
    });
  }
});

describe('the signature algorithm and key, as read', () => {
  it('reads the algorithm, its family and digest, and the RSASSA-PSS hash from its parameters', async () => {
    const rsa = await opensslIssue({ name: 'rsa', ca: true, key: 'rsa:2048' });
    const read = async (part: Part, issuer: OpensslIssued = rsa) => readCertificate(der((await opensslIssue({ name: 'x', key: 'ec:P-256', ...part, issuer })).pem));
    assert.deepEqual((await read({ digest: 'md5' })).signatureAlgorithm, { oid: '1.2.840.113549.1.1.4', name: 'md5WithRSAEncryption', family: 'rsa', digest: 'MD5' });
    assert.deepEqual((await read({ digest: 'sha1' })).signatureAlgorithm, { oid: '1.2.840.113549.1.1.5', name: 'sha1WithRSAEncryption', family: 'rsa', digest: 'SHA-1' });
    assert.deepEqual((await read({ pss: true, digest: 'sha384' })).signatureAlgorithm, { oid: '1.2.840.113549.1.1.10', name: 'RSASSA-PSS', family: 'rsa-pss', digest: 'SHA-384' });
    const ed = await opensslIssue({ name: 'ed', ca: true, key: 'ed25519' });
    assert.deepEqual((await read({}, ed)).signatureAlgorithm, { oid: '1.3.101.112', name: 'Ed25519', family: 'eddsa', digest: null });
  });

  // certgate reads key sizes from the DER (node's asymmetricKeyDetails costs 10-34 µs of CPU a key); it must read
  // what OpenSSL reads
  const keys = ['rsa:512', 'rsa:1023', 'rsa:2047', 'rsa:2048', 'rsa:3072', 'rsa-pss:2048', 'ec:P-192', 'ec:P-224', 'ec:P-256', 'ec:P-384', 'ec:P-521', 'ec:secp256k1', 'dsa:1024', 'dsa:2048', 'ed25519', 'ed448'] as const;
  it(`reads each key's size and curve as node:crypto (OpenSSL) does: ${keys.join(', ')}`, async () => {
    for (const key of keys) {
      const facts = readCertificate(der((await opensslIssue({ name: key, ca: true, key })).pem));
      const details = facts.native.publicKey.asymmetricKeyDetails ?? {};
      assert.equal(facts.publicKeyBits, details.modulusLength, `${key}: bits`);
      assert.equal(facts.publicKeyCurve, details.namedCurve, `${key}: curve`);
    }
  });

  it('reads no curve from explicit EC parameters, where OpenSSL finds the named curve they spell', async () => {
    const facts = readCertificate(der((await opensslIssue({ name: 'explicit', ca: true, key: 'ec:P-256:explicit' })).pem));
    assert.equal(facts.publicKeyCurve, undefined);
    assert.equal(facts.publicKeyType, 'ec');
  });
});

describe('the rule on what openssl cannot be asked to make', () => {
  const facts = (fields: Partial<CertificateFacts>) => fields as CertificateFacts;
  it('refuses a signature algorithm it does not know, DSA signatures, and RSASSA-PSS over an unknown digest', () => {
    assert.match(weakSignature(facts({ signatureAlgorithm: { oid: '1.2.156.10197.1.501', name: '1.2.156.10197.1.501', family: undefined, digest: undefined } }))!, /^an algorithm certgate does not know \(1\.2\.156\.10197\.1\.501\)/);
    assert.match(weakSignature(facts({ signatureAlgorithm: { oid: '2.16.840.1.101.3.4.3.2', name: 'dsa-with-sha256', family: 'dsa', digest: 'SHA-256' } }))!, /^DSA \(dsa-with-sha256\)/);
    assert.match(weakSignature(facts({ signatureAlgorithm: { oid: '1.2.840.113549.1.1.10', name: 'RSASSA-PSS', family: 'rsa-pss', digest: undefined } }))!, /over a digest certgate does not know/);
    assert.match(weakSignature(facts({ signatureAlgorithm: { oid: '1.2.840.113549.1.1.2', name: 'md2WithRSAEncryption', family: 'rsa', digest: 'MD2' } }))!, /over MD2, which is broken/);
    assert.equal(weakSignature(facts({ signatureAlgorithm: { oid: '2.16.840.1.101.3.4.3.10', name: 'id-ecdsa-with-sha3-256', family: 'ecdsa', digest: 'SHA3-256' } })), undefined);
  });
  it('refuses a key type it does not list (a key-agreement key cannot sign)', () => {
    assert.match(weakKey(facts({ publicKeyType: 'x25519' }))!, /^a key of type x25519; certgate accepts/);
    assert.equal(weakKey(facts({ publicKeyType: 'ec', publicKeyCurve: 'secp521r1' })), undefined);
  });
});
