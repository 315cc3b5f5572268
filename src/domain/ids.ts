import { randomBytes } from 'node:crypto';

// Ids are a 48-bit millisecond timestamp followed by 80 random bits, written
// in lowercase Crockford base32 (26 characters). The alphabet is in ASCII
// order, so comparing two ids as strings compares their creation times, and
// a list ordered by id is ordered by creation: a cursor keeps its place even
// when the item it names has been deleted.

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const BODY = /^[0-9a-hjkmnp-tv-z]{26}$/;

let lastTime = 0;
let lastRandom = 0n;

function nextValue(now: number): bigint {
  let random = BigInt('0x' + randomBytes(10).toString('hex'));
  if (now <= lastTime) {
    // Same millisecond (or a clock step back): stay strictly increasing, by a
    // random stride so that the next id is still not guessable from this one.
    now = lastTime;
    const stride = (BigInt('0x' + randomBytes(4).toString('hex')) & 0xffffffffn) + 1n;
    random = lastRandom + stride;
    if (random >= 1n << 80n) {
      now += 1;
      random &= (1n << 79n) - 1n;
    }
  }
  lastTime = now;
  lastRandom = random;
  return (BigInt(now) << 80n) | random;
}

function encode(value: bigint): string {
  let out = '';
  for (let i = 0; i < 26; i++) {
    out = ALPHABET[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

export type IdPrefix = 'cert' | 'proj' | 'svc_acct' | 'key' | 'org' | 'audit_log';

export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  return `${prefix}_${encode(nextValue(now))}`;
}

export function isId(prefix: IdPrefix, value: string): boolean {
  return value.length === prefix.length + 27 && value.startsWith(prefix + '_') && BODY.test(value.slice(prefix.length + 1));
}

/** Creation time in whole seconds, read back from the id itself. */
export function idSeconds(id: string): number {
  const body = id.slice(id.lastIndexOf('_') + 1);
  let value = 0n;
  // The first 10 characters carry 50 bits: two zero bits, then the 48-bit time.
  for (const ch of body.slice(0, 10)) value = (value << 5n) | BigInt(ALPHABET.indexOf(ch));
  return Math.floor(Number(value) / 1000);
}

/** An id as it may be quoted back in a message: as is when well formed, else JSON-quoted and cut short. */
export function shownId(prefix: IdPrefix, value: string): string {
  return isId(prefix, value) ? value : JSON.stringify(value.slice(0, 80));
}
