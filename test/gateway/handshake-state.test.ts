// The two tables behind the gateway's TLS layer: the per-source handshake budget, and the chains kept for resumed
// sessions, with their bounds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandshakeBudget, sourceOf } from '../../src/state/handshake-budget.js';
import { MAX_LEAVES, SessionChains } from '../../src/state/session-chains.js';

describe('handshake budget', () => {
  it('counts IPv6 per /64 and IPv4-mapped addresses as IPv4', () => {
    assert.equal(sourceOf('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(sourceOf('2001:0db8:0001:0002:ffff:1:2:3'), '2001:db8:1:2::/64');
    assert.equal(sourceOf('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(sourceOf('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(sourceOf('192.0.2.7'), '192.0.2.7');
  });

  it('refuses a source past its burst until it refills; ordinary handshakes cost nothing; others are unaffected', () => {
    let now = 0;
    const budget = new HandshakeBudget({ ratePerSecond: 1, burst: 2 }, () => now);
    for (let i = 0; i < 50; i++) budget.settle('192.0.2.1', budget.accept('192.0.2.1') === 'held', false);
    assert.equal(budget.size, 0, 'ordinary handshakes are never tracked');
    budget.settle('192.0.2.1', budget.accept('192.0.2.1') === 'held', true);
    budget.settle('192.0.2.1', budget.accept('192.0.2.1') === 'held', true);
    assert.equal(budget.accept('192.0.2.1'), 'refused');
    assert.equal(budget.accept('192.0.2.2'), 'free');
    now += 1000;
    assert.equal(budget.accept('192.0.2.1'), 'held');
    assert.equal(budget.accept('192.0.2.1'), 'refused', 'a handshake in flight holds its token');
    budget.settle('192.0.2.1', true, false);
    assert.equal(budget.accept('192.0.2.1'), 'held', 'an ordinary one gives it back');
  });
});

describe('session chains', () => {
  it('keeps a chain per leaf, each intermediate once, and empties itself (rotating the ticket key) at its bound', () => {
    let rotations = 0;
    const chains = new SessionChains(() => rotations++);
    const intermediate = Buffer.alloc(800, 7);
    chains.remember('leaf-alone', [Buffer.alloc(500, 1)]);
    assert.equal(chains.recall('leaf-alone'), undefined, 'a leaf without intermediates needs nothing kept');
    for (let i = 0; i < MAX_LEAVES; i++) chains.remember(`leaf-${i}`, [Buffer.from(`leaf ${i}`), intermediate]);
    assert.equal(chains.size, MAX_LEAVES);
    assert.equal(rotations, 0);
    assert.ok(chains.recall('leaf-7')![1]!.equals(intermediate));
    chains.remember('one more', [Buffer.from('x'), intermediate]);
    assert.equal(rotations, 1);
    assert.equal(chains.size, 1);
    assert.equal(chains.recall('leaf-7'), undefined);
  });
});
