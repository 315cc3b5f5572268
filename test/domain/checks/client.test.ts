import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyClient } from '../../../src/domain/checks/client.js';
import type { AnchorScope, TrustAnchor } from '../../../src/domain/trust-anchor.js';
import { readCertificate } from '../../../src/domain/x509/certificate.js';
import { KeyUsageFlags, makeCa, makeClient, type Issued } from '../../support/pki.js';

function anchor(ca: Issued, id: string, scope: AnchorScope): TrustAnchor {
  const der = Buffer.from(ca.cert.rawData);
  return { id, scope, facts: readCertificate(der), filter: null, revoked: null };
}
const der = (...certs: Issued[]) => certs.map((c) => Buffer.from(c.cert.rawData));
const now = () => new Date();

describe('verifyClient', () => {
  it('requires nothing when no anchor is in force', () => {
    const v = verifyClient([], [], now());
    assert.equal(v.required, false);
    assert.equal(v.accepted, true);
    assert.equal(v.refusal, null);
  });

  it("tries the project's anchors before the organization's", async () => {
    const ca = await makeCa();
    const leaf = await makeClient(ca);
    const v = verifyClient(der(leaf), [anchor(ca, 'cert_p', 'project'), anchor(ca, 'cert_o', 'organization')], now());
    assert.deepEqual([v.accepted, v.scope, v.certificateId], [true, 'project', 'cert_p']);
    assert.equal(v.until, leaf.cert.notAfter.getTime());
  });

  it('builds a path through two intermediates the client sent, in any order', async () => {
    const root = await makeCa({ name: 'root' });
    const mid = await makeCa({ name: 'mid', issuer: root });
    const low = await makeCa({ name: 'low', issuer: mid });
    const leaf = await makeClient(low);
    const v = verifyClient(der(leaf, mid, low), [anchor(root, 'cert_root', 'organization')], now());
    assert.equal(v.accepted, true, JSON.stringify(v.refusal));
    assert.match(v.checks.find((c) => c.name === 'trusted_issuer')!.message, /through 2 intermediate/);
  });

  it('refuses a path through an intermediate that is not a CA, or has expired', async () => {
    const root = await makeCa();
    const notCa = await makeCa({ issuer: root, ca: false });
    const expired = await makeCa({ issuer: root, notBefore: new Date(Date.now() - 9e8), notAfter: new Date(Date.now() - 1e7) });
    for (const bad of [notCa, expired]) {
      const v = verifyClient(der(await makeClient(bad), bad), [anchor(root, 'cert_root', 'organization')], now());
      assert.equal(v.refusal?.code, 'certificate_verification_failed');
      assert.equal(v.refusal?.reason, 'invalid_intermediate');
    }
  });

  it('does not trust an anchor outside its own validity', async () => {
    const ca = await makeCa({ notAfter: new Date(Date.now() + 2 * 86400_000) });
    const leaf = await makeClient(ca, { notAfter: new Date(Date.now() + 30 * 86400_000) });
    const later = new Date(Date.now() + 3 * 86400_000);
    assert.equal(verifyClient(der(leaf), [anchor(ca, 'cert_a', 'organization')], later).refusal?.reason, 'untrusted_issuer');
  });

  it('refuses a forged certificate whose names and key identifiers match the anchor', async () => {
    const ca = await makeCa({ name: 'real' });
    const impostor = await makeCa({ name: 'real' });
    // same issuer name and the real CA's key identifier: only the signature tells them apart
    const leaf = await makeClient(impostor, { akiOf: ca });
    assert.equal(leaf.cert.issuer, ca.cert.subject);
    assert.equal(verifyClient(der(leaf), [anchor(ca, 'cert_a', 'organization')], now()).refusal?.reason, 'untrusted_issuer');
    assert.equal(verifyClient(der(leaf), [anchor(impostor, 'cert_i', 'organization')], now()).refusal?.reason, 'untrusted_issuer');
  });

  it('reports malformed material as invalid_certificate', () => {
    const v = verifyClient([Buffer.from('not der')], [{ id: 'x', scope: 'organization' } as TrustAnchor], now());
    assert.deepEqual([v.refusal?.code, v.refusal?.reason], ['invalid_certificate', 'malformed']);
  });

  it('asks Key Encipherment of RSA leaves only', async () => {
    const ca = await makeCa();
    const anchors = [anchor(ca, 'cert_a', 'organization')];
    const ecOnlySig = await makeClient(ca, { keyUsage: KeyUsageFlags.digitalSignature });
    assert.equal(verifyClient(der(ecOnlySig), anchors, now()).accepted, true);
    const rsaOnlySig = await makeClient(ca, { key: 'rsa', keyUsage: KeyUsageFlags.digitalSignature });
    assert.equal(verifyClient(der(rsaOnlySig), anchors, now()).refusal?.reason, 'bad_key_usage');
  });
});
