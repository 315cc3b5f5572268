import { verify as verifySignature, type KeyObject } from 'node:crypto';
import { ApiError } from '../errors.js';
import { bytes, children, DerError, expectTag, readBitString, readOid, readTlv, readWhole, Tag, type Tlv } from './der.js';
import { readName, type DistinguishedName } from './names.js';
import { isBase64, pemBlocks } from './pem.js';

// Certificate revocation lists for an anchor (a certgate extension). A CRL is read in one strict DER walk
// (RFC 5280 §5.1): its dates, its issuer's name, the bytes its signature covers, and the revoked serials, held as
// one sorted buffer searched by bisection (about 20 bytes a serial, where a Set of strings took some 100). Its
// signature is checked by node:crypto off the event loop. A CRL of 1 MiB (some 30,000 entries) is read in tens of
// milliseconds on the event loop, not the second and more a general ASN.1 parser took, holding hundreds of MiB.

/** The largest CRL accepted, in DER bytes (the PEM of such a CRL is about a third longer). */
export const MAX_CRL_BYTES = 1024 * 1024;

/** The serial numbers a CRL revokes, compactly: normalized bytes (no leading zero bytes), sorted, searched by bisection. */
export class RevokedSerials {
  private constructor(
    private readonly packed: Buffer,
    /** offsets of each serial in `packed`, and one past the last */
    private readonly offsets: Uint32Array,
  ) {}

  static of(serials: readonly Buffer[]): RevokedSerials {
    return RevokedSerials.fromKeys(serials.map((s) => String.fromCharCode(s.length) + s.toString('latin1')));
  }

  /**
   * From sort keys (a character for the length, then the normalized bytes as latin1): sorted as strings, the same
   * order as compareSerials, by the engine's own string sort (some ten times faster on 30,000 serials than a
   * comparator calling Buffer.compare).
   */
  static fromKeys(keys: string[]): RevokedSerials {
    keys.sort();
    const unique = keys.filter((k, i) => i === 0 || k !== keys[i - 1]);
    const offsets = new Uint32Array(unique.length + 1);
    let at = 0;
    unique.forEach((k, i) => {
      offsets[i] = at;
      at += k.length - 1;
    });
    offsets[unique.length] = at;
    const packed = Buffer.allocUnsafe(at);
    unique.forEach((k, i) => packed.write(k.slice(1), offsets[i]!, 'latin1'));
    return new RevokedSerials(packed, offsets);
  }

  get size(): number {
    return this.offsets.length - 1;
  }

  /** Whether the serial (hex, in any case, with or without leading zeros) is listed. */
  has(hex: string): boolean {
    const key = normalized(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex'));
    let low = 0;
    let high = this.size - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const order = compareSerials(this.packed.subarray(this.offsets[mid]!, this.offsets[mid + 1]!), key);
      if (order === 0) return true;
      if (order < 0) low = mid + 1;
      else high = mid - 1;
    }
    return false;
  }

  /** Every serial, as serialKey spells it. */
  keys(): Set<string> {
    const out = new Set<string>();
    for (let i = 0; i < this.size; i++) out.add(serialKey(this.packed.subarray(this.offsets[i]!, this.offsets[i + 1]!).toString('hex')));
    return out;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.packed.length + this.offsets.byteLength;
  }
}

/** Shorter first, then by bytes: an order in which equal numbers are equal byte strings. */
function compareSerials(a: Buffer, b: Buffer): number {
  return a.length - b.length || Buffer.compare(a, b);
}

function normalized(serial: Buffer): Buffer {
  let start = 0;
  while (start < serial.length - 1 && serial[start] === 0) start++;
  return serial.subarray(start);
}

export interface Crl {
  readonly der: Buffer;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly revoked: RevokedSerials;
  readonly issuer: DistinguishedName;
  /** the TBSCertList's bytes, header included: what the signature covers */
  readonly signed: Buffer;
  readonly signatureAlgorithm: string;
  readonly signature: Buffer;
}

/** One spelling of a serial number for comparison: lowercase hex without leading zeros. */
export function serialKey(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

const invalid = (message: string) => new ApiError('crl_invalid', message, 'crl');

/** The DER of a CRL sent as PEM (-----BEGIN X509 CRL-----) or as base64 DER, at most MAX_CRL_BYTES of it. */
export function crlDer(text: string): Buffer {
  // a text far larger than any CRL within the limit is not decoded at all (base64 is 4/3 of the DER, plus line breaks)
  if (text.length > MAX_CRL_BYTES * 2) throw invalid('The CRL must be at most 1 MiB (of DER).');
  // RFC 7468 labels it X509 CRL; some tools write CRL
  const block = pemBlocks(text).find((b) => b.label === 'X509 CRL' || b.label === 'CRL');
  let der = block?.der;
  if (!der) {
    const compact = text.replace(/\s+/g, '');
    if (compact.length === 0 || !isBase64(compact)) {
      throw invalid('Send the CRL as PEM (-----BEGIN X509 CRL-----) or as base64-encoded DER.');
    }
    der = Buffer.from(compact, 'base64');
  }
  if (der.length > MAX_CRL_BYTES) throw invalid(`The CRL must be at most 1 MiB of DER; this one is ${der.length.toLocaleString('en')} bytes.`);
  return der;
}

/** UTCTime (RFC 5280: YYMMDDHHMMSSZ, 50-99 → 19xx) or GeneralizedTime (YYYYMMDDHHMMSSZ). */
function readTime(der: Uint8Array, tlv: Tlv): Date {
  const text = bytes(der, tlv).toString('latin1');
  const match = tlv.tag === Tag.utcTime ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) throw new DerError('a CRL time must be UTCTime or GeneralizedTime in UTC, to the second');
  let year = Number(match[1]);
  if (tlv.tag === Tag.utcTime) year += year < 50 ? 2000 : 1900;
  const time = Date.UTC(year, Number(match[2]) - 1, Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6]));
  if (Number.isNaN(time)) throw new DerError('an impossible CRL time');
  return new Date(time);
}

const isTime = (tag: number) => tag === Tag.utcTime || tag === Tag.generalizedTime;

/** A CRL's DER, read whole and strictly (RFC 5280 §5.1). Throws DerError on anything else. */
export function parseCrl(der: Buffer): Crl {
  const list = readWhole(der, Tag.sequence);
  const parts = children(der, list);
  if (parts.length !== 3) throw new DerError('a CertificateList has three parts');
  const [tbs, algorithm, signature] = parts as [Tlv, Tlv, Tlv];
  expectTag(tbs, Tag.sequence);
  const signatureAlgorithm = readOid(der, readTlv(der, expectTag(algorithm, Tag.sequence).start, algorithm.end));
  const { bits, unused } = readBitString(der, signature);
  if (unused !== 0) throw new DerError('a signature is a whole number of bytes');
  // the TBSCertList's own header starts where the CertificateList's contents start
  const signed = der.subarray(list.start, tbs.end);

  let at = tbs.start;
  let field = readTlv(der, at, tbs.end);
  if (field.tag === Tag.integer) field = readTlv(der, (at = field.end), tbs.end); // version
  expectTag(field, Tag.sequence); // signature algorithm, again
  const inner = readOid(der, readTlv(der, field.start, field.end));
  if (inner !== signatureAlgorithm) throw new DerError('the signature algorithm inside and outside the TBSCertList differ');
  const issuerTlv = expectTag(readTlv(der, (at = field.end), tbs.end), Tag.sequence);
  const issuer = readName(der, issuerTlv);
  field = readTlv(der, (at = issuerTlv.end), tbs.end);
  if (!isTime(field.tag)) throw new DerError('TBSCertList: expected thisUpdate');
  const thisUpdate = readTime(der, field);
  let nextUpdate: Date | undefined;
  const serials: string[] = [];
  at = field.end;
  if (at < tbs.end) {
    field = readTlv(der, at, tbs.end);
    if (isTime(field.tag)) {
      nextUpdate = readTime(der, field);
      at = field.end;
      field = at < tbs.end ? readTlv(der, at, tbs.end) : field;
    }
    if (at < tbs.end && field.tag === Tag.sequence) {
      for (let entryAt = field.start; entryAt < field.end; ) {
        const entry = readTlv(der, entryAt, field.end);
        if (entry.tag !== Tag.sequence) throw new DerError('a revoked certificate entry must be a SEQUENCE');
        const serial = readTlv(der, entry.start, entry.end);
        if (serial.tag !== Tag.integer || serial.end === serial.start) throw new DerError('a revoked certificate entry must start with its serial number');
        const [first, second] = [der[serial.start]!, der[serial.start + 1]];
        if (second !== undefined && serial.end - serial.start > 1 && ((first === 0x00 && !(second & 0x80)) || (first === 0xff && second & 0x80))) {
          throw new DerError('non-minimal INTEGER');
        }
        let start = serial.start;
        while (start < serial.end - 1 && der[start] === 0) start++;
        serials.push(String.fromCharCode(serial.end - start) + der.toString('latin1', start, serial.end));
        entryAt = entry.end;
      }
      at = field.end;
    }
    if (at < tbs.end) {
      const extensions = readTlv(der, at, tbs.end);
      if (extensions.tag !== 0xa0 || extensions.end !== tbs.end) throw new DerError('TBSCertList: unexpected field after the revoked certificates');
    }
  }
  return { der, thisUpdate, nextUpdate, revoked: RevokedSerials.fromKeys(serials), issuer, signed, signatureAlgorithm, signature: Buffer.from(bits) };
}

/** The serial numbers a CRL revokes (DER). Throws DerError on anything that is not a strict DER CRL. */
export function revokedSerials(der: Buffer): RevokedSerials {
  return parseCrl(der).revoked;
}

/** A CRL as PEM (-----BEGIN X509 CRL-----) or as base64 DER; refused with crl_invalid when it cannot be read. */
export function readCrl(text: string): Crl {
  const der = crlDer(text);
  try {
    return parseCrl(der);
  } catch (err) {
    if (err instanceof DerError) throw invalid(`The CRL could not be read as an X.509 CRL (${err.message}).`);
    throw err;
  }
}

/** Hash per signature algorithm a CRL may use (null: the algorithm names none); SHA-1 and MD5 are not accepted. */
const SIGNATURE_HASHES: Readonly<Record<string, string | null>> = {
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null, // Ed25519
  '1.3.101.113': null, // Ed448
};

/** Names compare by their attributes' types and values, whatever string type encodes each. */
const sameName = (a: DistinguishedName, b: DistinguishedName) => JSON.stringify(a.map((rdn) => rdn.map((x) => [x.oid, x.value]))) === JSON.stringify(b.map((rdn) => rdn.map((x) => [x.oid, x.value])));

/**
 * Does the anchor vouch for the CRL: issued under its name and signed with its key, by an accepted algorithm?
 * The signature is checked on libuv's thread pool, not on the event loop.
 */
export async function signedBy(crl: Crl, anchor: { readonly subjectName: DistinguishedName; readonly native: { readonly publicKey: KeyObject } }): Promise<boolean> {
  if (!sameName(crl.issuer, anchor.subjectName)) return false;
  const hash = SIGNATURE_HASHES[crl.signatureAlgorithm];
  if (hash === undefined) return false;
  return new Promise((resolve) => {
    verifySignature(hash, crl.signed, anchor.native.publicKey, crl.signature, (err, ok) => resolve(!err && ok));
  });
}

/** Why a CRL cannot be accepted from this anchor, for the refusal's message; null when signedBy holds. */
export function signatureAlgorithmAccepted(crl: Crl): boolean {
  return SIGNATURE_HASHES[crl.signatureAlgorithm] !== undefined;
}
