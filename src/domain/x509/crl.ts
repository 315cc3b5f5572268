import type * as x509 from '@peculiar/x509';
import { ApiError } from '../errors.js';
import { peculiar } from './peculiar.js';
import { pemBlocks } from './pem.js';

// Certificate revocation lists for an anchor (a certgate extension), read
// with @peculiar/x509 (loaded with the first CRL): the signature, the dates,
// and the revoked serials as a set, so a lookup at the gate costs the same
// for 10 serials or 10,000.

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

/** A CRL as PEM (-----BEGIN X509 CRL-----) or as base64 DER. */
export function readCrl(text: string): Crl {
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
  const { X509Crl } = peculiar();
  let native: x509.X509Crl;
  try {
    // a 1 MiB CRL holds some 30,000 entries of about four ASN.1 nodes each: past asn1js's default of 10,000 nodes
    native = new X509Crl(new Uint8Array(der), { berOptions: { maxNodes: 250_000 } });
    return {
      der,
      thisUpdate: native.thisUpdate,
      nextUpdate: native.nextUpdate,
      revoked: new Set(native.entries.map((e) => serialKey(e.serialNumber))),
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
