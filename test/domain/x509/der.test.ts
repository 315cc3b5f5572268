// The strict DER reader, case by case, on bytes written out here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DerError, readBitString, readBoolean, readOid, readSmallUnsigned, readTlv, readWhole, children } from '../../../src/domain/x509/der.js';
import { hex } from '../../support/der.js';

const refuses = (what: () => unknown, message: RegExp) => assert.throws(what, (err: unknown) => err instanceof DerError && message.test(err.message));

describe('strict DER reader', () => {
  const tlvCases: [string, string, RegExp | { start: number; end: number }][] = [
    ['short form', '04 02 aa bb', { start: 2, end: 4 }],
    ['minimal long form', `04 81 80 ${'00'.repeat(128)}`, { start: 3, end: 131 }],
    ['indefinite length', '30 80 00 00', /indefinite/],
    ['long form for a short length', '04 81 02 aa bb', /non-minimal/],
    ['long form with a leading zero byte', `04 82 00 80 ${'00'.repeat(128)}`, /non-minimal/],
    ['a length of more than four bytes', '04 85 01 00 00 00 00', /too large/],
    ['a length past the end', '04 05 aa bb', /truncated/],
    ['a long-form length cut short', '04 82 01', /truncated/],
    ['a lone tag', '04', /truncated/],
    ['a multi-byte tag', '1f 81 00', /multi-byte/],
    ['a length overflowing the buffer by far', '04 84 ff ff ff ff aa', /truncated/],
  ];
  for (const [label, bytes, expected] of tlvCases) {
    it(`TLV: ${label}`, () => {
      const buf = hex(bytes);
      if (expected instanceof RegExp) refuses(() => readTlv(buf, 0), expected);
      else assert.deepEqual({ start: readTlv(buf, 0).start, end: readTlv(buf, 0).end }, expected);
    });
  }

  it('refuses trailing bytes after the one value, and children that do not fill their parent', () => {
    refuses(() => readWhole(hex('05 00 00')), /trailing/);
    refuses(() => children(hex('30 03 05 00 04'), readTlv(hex('30 03 05 00 04'), 0)), /truncated/);
    refuses(() => children(hex('04 02 05 00'), readTlv(hex('04 02 05 00'), 0)), /primitive/);
  });

  const booleans: [string, string, boolean | RegExp][] = [
    ['TRUE', '01 01 ff', true],
    ['FALSE', '01 01 00', false],
    ['zero length', '01 00', /one byte/],
    ['two bytes', '01 02 ff ff', /one byte/],
    ['non-canonical true (0x01)', '01 01 01', /0x00 or 0xFF/],
    ['a non-minimal long-form length', '01 81 01 ff', /non-minimal/],
  ];
  for (const [label, bytes, expected] of booleans) {
    it(`BOOLEAN: ${label}`, () => {
      const buf = hex(bytes);
      if (expected instanceof RegExp) refuses(() => readBoolean(buf, readTlv(buf, 0)), expected);
      else assert.equal(readBoolean(buf, readTlv(buf, 0)), expected);
    });
  }

  const integers: [string, string, number | RegExp][] = [
    ['0', '02 01 00', 0],
    ['128 (a zero byte before a high bit is minimal)', '02 02 00 80', 128],
    ['a non-minimal leading zero', '02 02 00 05', /non-minimal/],
    ['a negative value', '02 01 ff', /negative/],
    ['empty', '02 00', /empty/],
  ];
  for (const [label, bytes, expected] of integers) {
    it(`INTEGER: ${label}`, () => {
      const buf = hex(bytes);
      if (expected instanceof RegExp) refuses(() => readSmallUnsigned(buf, readTlv(buf, 0)), expected);
      else assert.equal(readSmallUnsigned(buf, readTlv(buf, 0)), expected);
    });
  }

  it('OBJECT IDENTIFIER: reads arcs, refuses padding and truncation', () => {
    const ok = hex('06 03 55 1d 13');
    assert.equal(readOid(ok, readTlv(ok, 0)), '2.5.29.19');
    const big = hex('06 09 2a 86 48 86 f7 0d 01 09 01');
    assert.equal(readOid(big, readTlv(big, 0)), '1.2.840.113549.1.9.1');
    const padded = hex('06 04 55 80 1d 13');
    refuses(() => readOid(padded, readTlv(padded, 0)), /non-minimal/);
    const cut = hex('06 02 55 86');
    refuses(() => readOid(cut, readTlv(cut, 0)), /truncated/);
  });

  it('BIT STRING: unused bits at most 7 and zero', () => {
    const ok = hex('03 02 01 86');
    assert.deepEqual([...readBitString(ok, readTlv(ok, 0)).bits], [0x86]);
    const tooMany = hex('03 02 08 00');
    refuses(() => readBitString(tooMany, readTlv(tooMany, 0)), /more than 7/);
    const dirty = hex('03 02 01 87');
    refuses(() => readBitString(dirty, readTlv(dirty, 0)), /non-zero unused/);
  });
});
