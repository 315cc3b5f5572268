// A strict DER reader for the few certificate fields node:crypto does not
// expose (key usage bits, key identifiers, names, constraints). Strict means
// what DER allows and nothing else: definite minimal lengths, single-byte
// tags, canonical BOOLEANs and INTEGERs, no bytes after a value. Anything
// else is an error, so certgate never reads a value another parser would read
// differently.

export class DerError extends Error {}

export interface Tlv {
  readonly tag: number;
  /** first byte of the contents */
  readonly start: number;
  /** one past the last byte of the contents */
  readonly end: number;
}

export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  numericString: 0x12,
  printableString: 0x13,
  teletexString: 0x14,
  ia5String: 0x16,
  visibleString: 0x1a,
  utcTime: 0x17,
  generalizedTime: 0x18,
  universalString: 0x1c,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

/** One TLV at offset, ending at or before limit. */
export function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated value');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tag');
  const first = buf[offset + 1]!;
  let start = offset + 2;
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0) throw new DerError('indefinite length');
    if (count > 4) throw new DerError('length too large');
    if (start + count > limit) throw new DerError('truncated length');
    if (buf[start] === 0) throw new DerError('non-minimal length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[start + i]!;
    if (length < 0x80) throw new DerError('non-minimal length');
    start += count;
  }
  const end = start + length;
  if (end > limit) throw new DerError('truncated value');
  return { tag, start, end };
}

/** The only TLV in buf: nothing may follow it. */
export function readWhole(buf: Uint8Array, tag?: number): Tlv {
  const tlv = readTlv(buf, 0);
  if (tlv.end !== buf.length) throw new DerError('trailing bytes');
  if (tag !== undefined) expectTag(tlv, tag);
  return tlv;
}

export function expectTag(tlv: Tlv, tag: number): Tlv {
  if (tlv.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)}, found 0x${tlv.tag.toString(16)}`);
  return tlv;
}

/** The elements inside a constructed value, which must fill it exactly. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  if (!(parent.tag & 0x20)) throw new DerError('primitive value where a constructed one was expected');
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = readTlv(buf, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

export function bytes(buf: Uint8Array, tlv: Tlv): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + tlv.start, tlv.end - tlv.start);
}

/** BOOLEAN: exactly one byte, 0x00 or 0xFF. */
export function readBoolean(buf: Uint8Array, tlv: Tlv): boolean {
  expectTag(tlv, Tag.boolean);
  if (tlv.end - tlv.start !== 1) throw new DerError('BOOLEAN must be one byte long');
  const value = buf[tlv.start]!;
  if (value !== 0x00 && value !== 0xff) throw new DerError('BOOLEAN must be 0x00 or 0xFF');
  return value === 0xff;
}

/** A non-negative INTEGER small enough for a number (path lengths, subtree bounds). */
export function readSmallUnsigned(buf: Uint8Array, tlv: Tlv): number {
  expectTag(tlv, Tag.integer);
  const length = tlv.end - tlv.start;
  if (length === 0) throw new DerError('empty INTEGER');
  if (length > 1 && buf[tlv.start] === 0x00 && !(buf[tlv.start + 1]! & 0x80)) throw new DerError('non-minimal INTEGER');
  if (buf[tlv.start]! & 0x80) throw new DerError('negative INTEGER');
  if (length > 5) throw new DerError('INTEGER too large');
  let value = 0;
  for (let i = tlv.start; i < tlv.end; i++) value = value * 256 + buf[i]!;
  return value;
}

/** OBJECT IDENTIFIER in dotted form; each arc minimally encoded. */
export function readOid(buf: Uint8Array, tlv: Tlv): string {
  expectTag(tlv, Tag.oid);
  if (tlv.end === tlv.start) throw new DerError('empty OBJECT IDENTIFIER');
  if (buf[tlv.end - 1]! & 0x80) throw new DerError('truncated OBJECT IDENTIFIER');
  const arcs: (number | bigint)[] = [];
  let value = 0n;
  let fresh = true;
  for (let i = tlv.start; i < tlv.end; i++) {
    const byte = buf[i]!;
    if (fresh && byte === 0x80) throw new DerError('non-minimal OBJECT IDENTIFIER arc');
    value = (value << 7n) | BigInt(byte & 0x7f);
    fresh = !(byte & 0x80);
    if (fresh) {
      if (arcs.length === 0) {
        if (value < 80n) arcs.push(Number(value / 40n), Number(value % 40n));
        else arcs.push(2, value - 80n);
      } else {
        arcs.push(value);
      }
      value = 0n;
    }
  }
  return arcs.join('.');
}

/** BIT STRING: its bits as bytes, with the unused trailing bits required to be zero. */
export function readBitString(buf: Uint8Array, tlv: Tlv): { bits: Buffer; unused: number } {
  expectTag(tlv, Tag.bitString);
  if (tlv.end === tlv.start) throw new DerError('empty BIT STRING');
  const unused = buf[tlv.start]!;
  if (unused > 7) throw new DerError('BIT STRING with more than 7 unused bits');
  const bits = Buffer.from(buf.buffer, buf.byteOffset + tlv.start + 1, tlv.end - tlv.start - 1);
  if (bits.length === 0 && unused !== 0) throw new DerError('BIT STRING with unused bits and no bytes');
  if (bits.length > 0 && bits[bits.length - 1]! & ((1 << unused) - 1)) throw new DerError('BIT STRING with non-zero unused bits');
  return { bits, unused };
}

/** IA5String contents (and the IA5 names of GeneralName): ASCII only. */
export function readAscii(buf: Uint8Array, tlv: Tlv): string {
  for (let i = tlv.start; i < tlv.end; i++) if (buf[i]! > 0x7f) throw new DerError('non-ASCII byte in an IA5String');
  return bytes(buf, tlv).toString('latin1');
}

/** A directory string of any of the types certificates use, as text. */
export function readString(buf: Uint8Array, tlv: Tlv): string {
  const raw = bytes(buf, tlv);
  switch (tlv.tag) {
    case Tag.utf8String: {
      const text = raw.toString('utf8');
      if (!Buffer.from(text, 'utf8').equals(raw)) throw new DerError('invalid UTF-8 in a UTF8String');
      return text;
    }
    case Tag.numericString:
    case Tag.printableString:
    case Tag.ia5String:
    case Tag.visibleString:
      return readAscii(buf, tlv);
    case Tag.teletexString:
      return raw.toString('latin1');
    case Tag.bmpString: {
      if (raw.length % 2) throw new DerError('odd-length BMPString');
      const swapped = Buffer.from(raw);
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    case Tag.universalString: {
      if (raw.length % 4) throw new DerError('UniversalString length not a multiple of 4');
      let out = '';
      for (let i = 0; i < raw.length; i += 4) out += String.fromCodePoint(raw.readUInt32BE(i));
      return out;
    }
    default:
      throw new DerError(`unsupported string type 0x${tlv.tag.toString(16)}`);
  }
}
