import type * as x509 from '@peculiar/x509';
import { ApiError } from '../errors.js';
import { DerError, readTlv, readWhole, Tag } from './der.js';
import { peculiar } from './peculiar.js';
import { pemBlocks } from './pem.js';

// Certificate revocation lists for an anchor (a certgate extension). An
// upload is read with @peculiar/x509 (loaded with the first upload: the
// signature and the dates); the
// revoked serials are read by a strict DER walk into a set, both on upload and
// at the gate, so a lookup costs the same for 10 serials or 10,000 and reading
// a 10,000-entry list takes milliseconds, not the event loop for a fifth of a
// second (a stall under load left the gateway measurably slower afterwards).

export const MAX_CRL_BYTES = 1024 * 1024;

export interface Crl {
  readonly der: Buffer;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** normalized serial numbers (lowercase hex, no leading zeros) */
  readonly revoked: ReadonlySet<string>;
  readonly native: x509.X509Crl;
}

/** One spelling of a serial number for comparison: lowercase hex without leading zeros. */
export function serialKey(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

const invalid = (message: string) => new ApiError('crl_invalid', message, 'crl');

/** The DER of a CRL sent as PEM (-----BEGIN X509 CRL-----) or as base64 DER. */
export function crlDer(text: string): Buffer {
  if (Buffer.byteLength(text, 'utf8') > MAX_CRL_BYTES) throw invalid('The CRL must be at most 1 MiB.');
  // RFC 7468 labels it X509 CRL; some tools write CRL
  const block = pemBlocks(text).find((b) => b.label === 'X509 CRL' || b.label === 'CRL');
  let der = block?.der;
  if (!der) {
    const compact = text.replace(/\s+/g, '');
    if (compact.length === 0 || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(compact)) {
      throw invalid('Send the CRL as PEM (-----BEGIN X509 CRL-----) or as base64-encoded DER.');
    }
    der = Buffer.from(compact, 'base64');
  }
  return der;
}

/**
 * The serial numbers a CRL revokes (see serialKey), read straight from the
 * DER: CertificateList → TBSCertList → revokedCertificates (RFC 5280 §5.1).
 * Throws DerError on anything that is not strict DER of that shape.
 */
export function revokedSerials(der: Uint8Array): Set<string> {
  const list = readWhole(der, Tag.sequence);
  const tbs = readTlv(der, list.start, list.end);
  if (tbs.tag !== Tag.sequence) throw new DerError('TBSCertList must be a SEQUENCE');
  let at = tbs.start;
  let field = readTlv(der, at, tbs.end);
  if (field.tag === Tag.integer) field = readTlv(der, (at = field.end), tbs.end); // version
  for (const expected of [Tag.sequence, Tag.sequence]) {
    // signature algorithm, issuer
    if (field.tag !== expected) throw new DerError('TBSCertList: expected the signature algorithm and the issuer');
    field = readTlv(der, (at = field.end), tbs.end);
  }
  const isTime = (tag: number) => tag === Tag.utcTime || tag === Tag.generalizedTime;
  if (!isTime(field.tag)) throw new DerError('TBSCertList: expected thisUpdate');
  const serials = new Set<string>();
  at = field.end;
  if (at === tbs.end) return serials;
  field = readTlv(der, at, tbs.end);
  if (isTime(field.tag)) {
    at = field.end;
    if (at === tbs.end) return serials;
    field = readTlv(der, at, tbs.end);
  }
  if (field.tag !== Tag.sequence) return serials; // no revokedCertificates: crlExtensions [0] or nothing
  for (let entryAt = field.start; entryAt < field.end; ) {
    const entry = readTlv(der, entryAt, field.end);
    if (entry.tag !== Tag.sequence) throw new DerError('a revoked certificate entry must be a SEQUENCE');
    const serial = readTlv(der, entry.start, entry.end);
    if (serial.tag !== Tag.integer || serial.end === serial.start) throw new DerError('a revoked certificate entry must start with its serial number');
    const [first, second] = [der[serial.start]!, der[serial.start + 1]];
    if (second !== undefined && serial.end - serial.start > 1 && ((first === 0x00 && !(second & 0x80)) || (first === 0xff && second & 0x80))) {
      throw new DerError('non-minimal INTEGER');
    }
    serials.add(serialKey(Buffer.from(der.buffer, der.byteOffset + serial.start, serial.end - serial.start).toString('hex')));
    entryAt = entry.end;
  }
  return serials;
}

/** A CRL as PEM (-----BEGIN X509 CRL-----) or as base64 DER, checked with @peculiar/x509. */
export function readCrl(text: string): Crl {
  const der = crlDer(text);
  const { X509Crl } = peculiar();
  let native: x509.X509Crl;
  try {
    // a 1 MiB CRL holds some 30,000 entries of about four ASN.1 nodes each: past asn1js's default of 10,000 nodes
    native = new X509Crl(new Uint8Array(der), { berOptions: { maxNodes: 250_000 } });
    return {
      der,
      thisUpdate: native.thisUpdate,
      nextUpdate: native.nextUpdate,
      revoked: revokedSerials(der),
      native,
    };
  } catch {
    throw invalid('The CRL could not be read as an X.509 CRL.');
  }
}

/** Does the anchor (DER) vouch for the CRL: issued under its name and signed with its key? */
export async function signedBy(crl: Crl, anchorDer: Buffer): Promise<boolean> {
  const { X509Certificate } = peculiar();
  try {
    const anchor = new X509Certificate(new Uint8Array(anchorDer));
    if (crl.native.issuerName.toString() !== anchor.subjectName.toString()) return false;
    return await crl.native.verify({ publicKey: anchor });
  } catch {
    return false;
  }
}
