import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readCrl, serialKey, signedBy } from '../../../src/domain/x509/crl.js';
import { makeCa, makeClient, makeCrl } from '../../support/pki.js';

describe('CRL reading', () => {
  it('reads a CRL of 10,000 serials into a set, and checks who signed it', async () => {
    const ca = await makeCa();
    const revoked = await makeClient(ca);
    const serials = Array.from({ length: 9_999 }, (_, i) => (0x10000000 + i * 7919).toString(16) + 'abcdef0123');
    const crl = readCrl(await makeCrl(ca, { revoked: [revoked], serials }));
    assert.equal(crl.revoked.size, 10_000);
    assert.ok(crl.revoked.has(serialKey(new (await import('node:crypto')).X509Certificate(revoked.pem).serialNumber)));
    assert.equal(await signedBy(crl, Buffer.from(ca.cert.rawData)), true);
    assert.equal(await signedBy(crl, Buffer.from((await makeCa()).cert.rawData)), false);
  });

  it('spells serials one way: lowercase, no leading zeros', () => {
    assert.equal(serialKey('00AB01'), 'ab01');
    assert.equal(serialKey('0'), '0');
  });
});
