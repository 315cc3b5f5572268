// Who is the ingress: each configured condition must hold (unit level; the processes are in ingress.test.ts).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { IngressTrust, isLoopback } from '../../src/authz/trust.js';

const SECRET = 'ingress-secret-0123456789abcdef';

it('knows loopback peers in every form Node reports them, and nothing else', () => {
  for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopback(a), a);
  for (const a of [undefined, '192.0.2.2', '::ffff:192.0.2.2', 'fd00::2', '::', '0.0.0.0', '128.0.0.1', '::ffff:7f00:1x']) assert.ok(!isLoopback(a), String(a));
});

it('requires the secret on every request when one is set, whatever the listener, and exactly one copy of it', () => {
  for (const options of [
    { secret: SECRET, socket: false, loopback: false },
    { secret: SECRET, socket: true, loopback: false },
    { secret: SECRET, socket: false, loopback: true },
  ]) {
    const trust = new IngressTrust(options);
    assert.equal(trust.fromIngress([], '127.0.0.1'), false);
    assert.equal(trust.fromIngress(['wrong'], '127.0.0.1'), false);
    assert.equal(trust.fromIngress([SECRET.slice(0, -1)], '127.0.0.1'), false);
    assert.equal(trust.fromIngress([SECRET, SECRET], '127.0.0.1'), false);
    assert.equal(trust.fromIngress([SECRET], '127.0.0.1'), true);
  }
  // with --trust-loopback too, both must hold
  assert.equal(new IngressTrust({ secret: SECRET, socket: false, loopback: true }).fromIngress([SECRET], '192.0.2.2'), false);
  assert.equal(new IngressTrust({ secret: SECRET, socket: false, loopback: false }).fromIngress([SECRET], '192.0.2.2'), true);
});

it('believes a Unix socket listener, and loopback peers only with --trust-loopback', () => {
  assert.equal(new IngressTrust({ secret: undefined, socket: true, loopback: false }).fromIngress([], undefined), true);
  const loopback = new IngressTrust({ secret: undefined, socket: false, loopback: true });
  assert.equal(loopback.fromIngress([], '127.0.0.1'), true);
  assert.equal(loopback.fromIngress([], '192.0.2.2'), false);
  assert.equal(new IngressTrust({ secret: undefined, socket: false, loopback: false }).fromIngress([], '127.0.0.1'), false);
});
