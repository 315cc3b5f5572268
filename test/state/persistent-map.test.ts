// The persistent map under snapshots: it says what a plain Map says after any sequence of sets and deletes, and
// every earlier version keeps saying what it said.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PersistentMap } from '../../src/state/persistent-map.js';

/** A small deterministic generator, so that a failure can be replayed. */
function generator(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function contents<V>(map: PersistentMap<V>): [string, V][] {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

describe('PersistentMap', () => {
  it('agrees with a Map after random sets and deletes, and leaves every earlier version as it was', () => {
    const random = generator(11);
    // few distinct keys among many operations, so that keys are set again, deleted and set once more
    const keys = Array.from({ length: 3000 }, (_, i) => `proj_${i.toString(36)}${i % 7 === 0 ? 'x'.repeat(i % 5) : ''}`);
    let map = PersistentMap.empty<number>();
    const plain = new Map<string, number>();
    const versions: { map: PersistentMap<number>; expected: [string, number][] }[] = [];
    for (let op = 0; op < 20_000; op++) {
      const key = keys[Math.floor(random() * keys.length)]!;
      if (random() < 0.3) {
        map = map.delete(key);
        plain.delete(key);
      } else {
        map = map.set(key, op);
        plain.set(key, op);
      }
      if (op % 2000 === 0) versions.push({ map, expected: [...plain].sort(([a], [b]) => (a < b ? -1 : 1)) });
    }
    assert.equal(map.size, plain.size);
    for (const key of keys) {
      assert.equal(map.get(key), plain.get(key), key);
      assert.equal(map.has(key), plain.has(key), key);
    }
    assert.deepEqual(contents(map), [...plain].sort(([a], [b]) => (a < b ? -1 : 1)));
    for (const v of versions) {
      assert.deepEqual(contents(v.map), v.expected);
      assert.equal(v.map.size, v.expected.length);
    }
  });

  it('gives back the same map for a change that changes nothing', () => {
    const value = { id: 'a' };
    const map = PersistentMap.of([['a', value] as const]);
    assert.equal(map.set('a', value), map);
    assert.equal(map.delete('b'), map);
    assert.notEqual(map.set('a', { id: 'a' }), map);
  });

  it('holds keys whose hashes collide, and empties to nothing', () => {
    // proj_5pwu and proj_g5fa have the same 32-bit FNV-1a hash (found by search); the rest share some levels' bits
    const colliding = ['proj_5pwu', 'proj_g5fa'];
    let pair = PersistentMap.of(colliding.map((k) => [k, k] as const));
    assert.deepEqual([pair.get('proj_5pwu'), pair.get('proj_g5fa'), pair.size], ['proj_5pwu', 'proj_g5fa', 2]);
    pair = pair.set('proj_g5fa', 'again').delete('proj_5pwu');
    assert.deepEqual([pair.get('proj_5pwu'), pair.get('proj_g5fa'), pair.size], [undefined, 'again', 1]);
    const keys = [...colliding, ...Array.from({ length: 5000 }, (_, i) => String.fromCharCode(33 + (i % 90), 33 + Math.floor(i / 90)))];
    let map = PersistentMap.of(keys.map((k) => [k, k] as const));
    assert.equal(map.size, keys.length);
    for (const k of keys) assert.equal(map.get(k), k);
    for (const k of keys) map = map.delete(k);
    assert.equal(map.size, 0);
    assert.deepEqual([...map.entries()], []);
  });
});
