// Just enough DER to read a certificate's extensions: node:crypto parses the
// rest, and a full ASN.1 library costs more per certificate than a TLS handshake.

export class DerError extends Error {}

export interface Tlv {
  readonly tag: number;
  /** first byte of the contents */
  readonly start: number;
  /** one past the last byte of the contents */
  readonly end: number;
}

export function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used in certificates');
  let length = buf[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || start + bytes > limit) throw new DerError('bad length');
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + buf[start + i]!;
    start += bytes;
  }
  const end = start + length;
  if (end > limit) throw new DerError('truncated');
  return { tag, start, end };
}

/** The elements inside a constructed value. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = readTlv(buf, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

export function decodeOid(buf: Uint8Array, tlv: Tlv): string {
  if (tlv.tag !== 0x06 || tlv.end === tlv.start) throw new DerError('not an OBJECT IDENTIFIER');
  const parts: number[] = [];
  let value = 0;
  for (let i = tlv.start; i < tlv.end; i++) {
    value = value * 128 + (buf[i]! & 0x7f);
    if (!(buf[i]! & 0x80)) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

const EXTENSIONS_TAG = 0xa3;

/** Each extension of a DER certificate: its OID and the DER inside its extnValue OCTET STRING. */
export function certificateExtensions(der: Uint8Array): Map<string, Uint8Array> {
  const certificate = readTlv(der, 0);
  const [tbs] = children(der, certificate);
  if (!tbs || tbs.tag !== 0x30) throw new DerError('no TBSCertificate');
  const extensions = new Map<string, Uint8Array>();
  const wrapper = children(der, tbs).find((field) => field.tag === EXTENSIONS_TAG);
  if (!wrapper) return extensions;
  const [list] = children(der, wrapper);
  if (!list) return extensions;
  for (const extension of children(der, list)) {
    const fields = children(der, extension);
    const value = fields[fields.length - 1];
    if (!fields[0] || !value || value.tag !== 0x04) throw new DerError('malformed extension');
    extensions.set(decodeOid(der, fields[0]), der.subarray(value.start, value.end));
  }
  return extensions;
}
