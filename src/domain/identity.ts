import type { CertificateFacts } from './x509/certificate.js';
import { AttributeOid, attributeValues, rfc4514 } from './x509/names.js';

// The verified client identity, as the gateway forwards it upstream. The
// headers are certgate's to set: every copy a client sends is removed.
//
// Every value is header-safe and lossless: only printable ASCII and interior
// spaces go out, whatever the certificate holds (UTF-8 names, control
// characters, line breaks), each in a form with a documented way back:
// - the XFCC Subject as OpenSSL prints it with -nameopt RFC2253 and Envoy
//   forwards it: RFC 4514, every UTF-8 byte outside printable ASCII as \XX;
// - URI and DNS names (ASCII by their encoding) as they are, any byte no URI
//   or DNS name may hold (a control character, a space) percent-encoded;
// - a common name in the client-id header percent-encoded as UTF-8 where it
//   is not printable ASCII, and always its `%`, so decodeURIComponent (or
//   urllib.parse.unquote) gives the name back.

export const FORWARDED_CLIENT_CERT = 'x-forwarded-client-cert';
export const PROJECT_ID_HEADER = 'x-certgate-project-id';
export const CERTIFICATE_ID_HEADER = 'x-certgate-certificate-id';

export type ClientIdSource = 'cn' | 'san-uri' | 'san-dns' | 'fingerprint';
export const CLIENT_ID_SOURCES: readonly ClientIdSource[] = ['cn', 'san-uri', 'san-dns', 'fingerprint'];

const hex = (byte: number) => (byte < 16 ? '0' : '') + byte.toString(16).toUpperCase();

/** Each UTF-8 byte of `char` as `prefix` + two uppercase hex digits. */
function escapeBytes(char: string, prefix: string): string {
  let out = '';
  for (const byte of Buffer.from(char, 'utf8')) out += prefix + hex(byte);
  return out;
}

/** An RFC 4514 string with every character outside printable ASCII written as the \XX pairs of its UTF-8 bytes (RFC 4514 §2.4, OpenSSL's ESC_MSB and ESC_CTRL). */
export function asciiDistinguishedName(rfc4514Text: string): string {
  return /[^\x20-\x7e]/.test(rfc4514Text) ? rfc4514Text.replace(/[^\x20-\x7e]/gu, (c) => escapeBytes(c, '\\')) : rfc4514Text;
}

/** An ASCII name (URI or DNS SAN) with every byte that is not visible ASCII percent-encoded, as RFC 3986 writes them. */
export function percentEncodedName(value: string): string {
  return /[^\x21-\x7e]/.test(value) ? value.replace(/[^\x21-\x7e]/gu, (c) => escapeBytes(c, '%')) : value;
}

/** Free text (a common name) percent-encoded where it is not printable ASCII, with its `%` and a leading or trailing space: decodeURIComponent gives it back. */
export function percentEncodedText(value: string): string {
  if (!/[^\x20-\x24\x26-\x7e]|^ | $/.test(value)) return value;
  const last = value.length - 1;
  let out = '';
  let i = 0;
  for (const c of value) {
    const code = c.charCodeAt(0);
    const edgeSpace = c === ' ' && (i === 0 || i === last);
    out += code < 0x20 || code > 0x7e || c === '%' || edgeSpace ? escapeBytes(c, '%') : c;
    i += c.length;
  }
  return out;
}

/** An XFCC value: bare when it is plain, else double-quoted with its quotes and backslashes escaped (Envoy's rule). */
function xfccValue(value: string): string {
  return /[,;="\\\s]/.test(value) || value === '' ? `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"` : value;
}

/**
 * Envoy's x-forwarded-client-cert for one verified leaf:
 * Hash=<hex SHA-256 of the DER>;Subject="<RFC 4514, ASCII>";URI=<each URI SAN>;DNS=<each DNS SAN>.
 */
export function forwardedClientCert(leaf: CertificateFacts): string {
  const subject = asciiDistinguishedName(rfc4514(leaf.subjectName));
  const parts = [`Hash=${leaf.fingerprint}`, `Subject="${subject.replace(/["\\]/g, (c) => `\\${c}`)}"`];
  for (const san of leaf.subjectAltNames) if (san.kind === 'uri') parts.push(`URI=${xfccValue(percentEncodedName(san.value))}`);
  for (const san of leaf.subjectAltNames) if (san.kind === 'dns') parts.push(`DNS=${xfccValue(percentEncodedName(san.value))}`);
  return parts.join(';');
}

/** The one value a configured client-id header carries, header-safe, or undefined when the leaf has none of that kind. */
export function clientId(leaf: CertificateFacts, from: ClientIdSource): string | undefined {
  let value: string | undefined;
  switch (from) {
    case 'cn':
      value = attributeValues(leaf.subjectName, AttributeOid.commonName)[0];
      return value === undefined ? undefined : percentEncodedText(value);
    case 'san-uri':
      value = leaf.subjectAltNames.find((n) => n.kind === 'uri')?.value;
      return value === undefined ? undefined : percentEncodedName(value);
    case 'san-dns':
      value = leaf.subjectAltNames.find((n) => n.kind === 'dns')?.value;
      return value === undefined ? undefined : percentEncodedName(value);
    case 'fingerprint':
      return leaf.fingerprint;
  }
}
