// What a sighting keeps of a client's chain: the leaf and the intermediates after it, within the byte bound.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_INTERMEDIATES } from '../../src/domain/checks/path.js';
import { leafNames, MAX_SIGHTING_CHAIN_BYTES, sightingChain } from '../../src/domain/sightings.js';
import { makeCa, makeClient } from '../support/pki.js';

const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);
const total = (chain: readonly Buffer[]) => chain.reduce((n, c) => n + c.length, 0);

describe('sightingChain', () => {
  it('keeps a short chain whole', () => {
    const chain = [bytes(800, 1), bytes(900, 2)];
    assert.deepEqual(sightingChain(chain), chain);
  });
  it('keeps at most the intermediates a path may use', () => {
    const chain = Array.from({ length: 10 }, (_, i) => bytes(500, i));
    assert.deepEqual(sightingChain(chain), chain.slice(0, 1 + MAX_INTERMEDIATES));
  });
  it('stops at the byte bound, in order, the leaf first', () => {
    const chain = [bytes(1000, 1), ...Array.from({ length: 9 }, (_, i) => bytes(7000, i + 2))];
    const kept = sightingChain(chain);
    assert.deepEqual(kept, chain.slice(0, 3));
    assert.ok(total(kept) <= MAX_SIGHTING_CHAIN_BYTES);
  });
  it('keeps nothing of a leaf larger than the bound, and nothing of no chain', () => {
    assert.deepEqual(sightingChain([bytes(MAX_SIGHTING_CHAIN_BYTES + 1, 1), bytes(100, 2)]), []);
    assert.deepEqual(sightingChain([]), []);
    assert.equal(sightingChain([bytes(MAX_SIGHTING_CHAIN_BYTES, 1)]).length, 1);
  });
});

describe('leafNames', () => {
  it("reads the subject and issuer as RFC 4514, as the preview shows them", async () => {
    const ca = await makeCa({ subject: 'CN=Issuing CA, O=Example' });
    const leaf = await makeClient(ca, { subject: 'CN=w1, OU=Production, O=Example' });
    assert.deepEqual(leafNames(Buffer.from(leaf.cert.rawData)), { subject: 'O=Example,OU=Production,CN=w1', issuer: 'O=Example,CN=Issuing CA' });
  });
  it('is null for bytes that are not a certificate', () => {
    assert.equal(leafNames(Buffer.from('not a certificate')), null);
    assert.equal(leafNames(Buffer.alloc(0)), null);
  });
});
