// The failed-key throttle's table on a clock the test moves: bursts, refills, one log line per burst, bounded memory.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailedKeyThrottle, sourceOf } from '../../src/state/failed-keys.js';

function throttle(limits = { burst: 5, perSecond: 1, sources: 100 }) {
  const clock = { now: 1000 };
  const bursts: [string, number, number][] = [];
  const t = new FailedKeyThrottle(limits, (source, failures, wait) => bursts.push([source, failures, wait]), () => clock.now);
  return { t, clock, bursts };
}

describe('failed-key throttle', () => {
  it('lets a burst of wrong keys through, then throttles the source until a token comes back, logging the burst once', () => {
    const { t, clock, bursts } = throttle();
    for (let i = 0; i < 5; i++) {
      assert.equal(t.retryAfter('10.0.0.1'), 0, `wrong key ${i + 1} is still looked at`);
      t.failed('10.0.0.1');
    }
    assert.equal(t.retryAfter('10.0.0.1'), 1);
    assert.equal(t.retryAfter('10.0.0.2'), 0, 'another source is not affected');
    // a sustained flood: one key a second is looked at, and the burst is still the one logged
    for (let s = 0; s < 30; s++) {
      clock.now += 0.25;
      if (t.retryAfter('10.0.0.1') === 0) t.failed('10.0.0.1');
    }
    assert.deepEqual(bursts, [['10.0.0.1', 5, 1]]);
    // quiet until the bucket is full: forgotten, and a new burst is logged again
    clock.now += 5;
    assert.equal(t.retryAfter('10.0.0.1'), 0);
    assert.equal(t.size, 0);
    for (let i = 0; i < 5; i++) t.failed('10.0.0.1');
    assert.equal(t.retryAfter('10.0.0.1'), 1);
    assert.equal(bursts.length, 2);
  });

  it('remembers at most `sources` sources, forgetting the least recently failing first', () => {
    const { t } = throttle({ burst: 2, perSecond: 1, sources: 3 });
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1', '10.0.0.4']) {
      t.failed(ip);
      t.failed(ip);
    }
    assert.equal(t.size, 3);
    assert.equal(t.retryAfter('10.0.0.2'), 0, 'the oldest was forgotten');
    for (const ip of ['10.0.0.1', '10.0.0.3', '10.0.0.4']) assert.ok(t.retryAfter(ip) > 0, ip);
    for (let i = 0; i < 50_000; i++) t.failed(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    assert.equal(t.size, 3);
  });

  it('keeps IPv4 per address, IPv6 per /64, and an IPv4-mapped address as its IPv4 address', () => {
    assert.equal(sourceOf('192.0.2.7'), '192.0.2.7');
    assert.equal(sourceOf('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(sourceOf('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(sourceOf('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
    assert.equal(sourceOf('2001:0DB8:0001:0002::9'), '2001:db8:1:2::/64');
    assert.equal(sourceOf('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(sourceOf('::1'), '0:0:0:0::/64');
    assert.equal(sourceOf('fe80::1%eth0'), 'fe80:0:0:0::/64');
    const { t } = throttle({ burst: 1, perSecond: 1, sources: 10 });
    t.failed('2001:db8:1:2::1');
    assert.equal(t.retryAfter('2001:db8:1:2::ffff'), 1, 'the same /64');
    assert.equal(t.retryAfter('2001:db8:1:3::1'), 0, 'another /64');
  });
});
