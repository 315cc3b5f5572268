import { readTlv, Tag } from './der.js';
import { isBase64 } from './pem.js';

// The client's certificates as an ingress that terminated TLS passes them on, in a request header. The format is
// recognised from the value itself, so one option names the header whatever the ingress:
// - RFC 9440: `:BASE64:` (Client-Cert), or a comma-separated list of them (Client-Cert-Chain);
// - XFCC (Envoy's x-forwarded-client-cert): `Hash=…;Cert="<URL-encoded PEM>";Chain="<URL-encoded PEMs>"`; with
//   several comma-separated elements, the last is the one the ingress itself added (Envoy appends its own);
// - PEM, URL-encoded (nginx's $ssl_client_escaped_cert) or plain, newlines possibly turned into spaces;
// - base64 of one DER certificate (HAProxy ssl_c_der, Caddy's certificate_der_base64), of several DER
//   certificates back to back (HAProxy ssl_c_chain_der), or a comma-separated list of base64 DERs (Traefik).
// Nothing here ever puts a header's value into an error message.

/** The leaf and at most this many more certificates in all: what the TLS gateway reads of a chain. */
export const MAX_FORWARDED_CERTIFICATES = 10;
/** The certificate headers together, at most (characters). */
export const MAX_FORWARDED_HEADER_CHARS = 64 * 1024;

/** A certificate header that cannot be read; the message says why, never what the value held. */
export class UnreadableCertificateHeader extends Error {}

const RFC9440_ITEM = /^:([A-Za-z0-9+/]*={0,2}):$/;
const XFCC_START = /^(?:by|hash|cert|chain|subject|uri|dns)=/i;
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\s]*?)-----END ([A-Z0-9 ]+)-----/g;

/**
 * The certificates a client presented, leaf first, from the value of the leaf header (which may hold the chain
 * too) and of the chain header (intermediates). No value, or empty ones: nothing was presented (an empty list).
 * Copies of a certificate already read are dropped (an ingress may repeat the leaf in its chain).
 */
export function forwardedChain(leafValue: string | undefined, chainValue: string | undefined): Buffer[] {
  const leafText = leafValue?.trim() ?? '';
  const chainText = chainValue?.trim() ?? '';
  if (leafText.length + chainText.length > MAX_FORWARDED_HEADER_CHARS) {
    throw new UnreadableCertificateHeader(`the certificate headers are longer than ${MAX_FORWARDED_HEADER_CHARS} characters together`);
  }
  if (leafText === '') {
    if (chainText !== '') throw new UnreadableCertificateHeader('the chain header is set but the client certificate header is empty');
    return [];
  }
  const all = certificatesInHeader(leafText, 'client certificate');
  if (chainText !== '') all.push(...certificatesInHeader(chainText, 'chain'));
  const chain: Buffer[] = [];
  for (const der of all) {
    if (chain.some((kept) => kept.equals(der))) continue;
    chain.push(der);
    if (chain.length > MAX_FORWARDED_CERTIFICATES) {
      throw new UnreadableCertificateHeader(`the certificate headers hold more than ${MAX_FORWARDED_CERTIFICATES} certificates (the leaf and at most ${MAX_FORWARDED_CERTIFICATES - 1} more)`);
    }
  }
  return chain;
}

/** The DER certificates in one header value (not empty), in the order given. */
export function certificatesInHeader(value: string, what = 'certificate'): Buffer[] {
  const text = value.trim();
  let found: Buffer[];
  if (text.startsWith(':')) found = rfc9440List(text, what);
  else if (XFCC_START.test(text)) found = xfcc(text, what);
  else {
    const decoded = text.includes('%') ? urlDecoded(text, what) : text;
    if (decoded.includes('-----BEGIN')) found = pemCertificates(decoded, what);
    else found = decoded.split(',').flatMap((item) => concatenatedDer(base64(item.replace(/\s+/g, ''), what), what));
  }
  if (found.length === 0) throw new UnreadableCertificateHeader(`the ${what} header holds no certificate`);
  return found;
}

/** RFC 9440 (§2.1, §2.2): each certificate as an RFC 8941 byte sequence, `:base64:`, comma-separated in a list. */
function rfc9440List(text: string, what: string): Buffer[] {
  return text.split(',').map((item) => {
    const match = RFC9440_ITEM.exec(item.trim());
    if (!match) throw new UnreadableCertificateHeader(`the ${what} header starts as RFC 9440 byte sequences (:base64:) but is not a list of them`);
    return oneDer(base64(match[1]!, what), what);
  });
}

/** Envoy's XFCC: the last element's Cert (URL-encoded PEM) and Chain (URL-encoded PEMs, leaf included). */
function xfcc(text: string, what: string): Buffer[] {
  const elements = splitOutsideQuotes(text, ',', what);
  const pairs = splitOutsideQuotes(elements[elements.length - 1]!, ';', what);
  let cert: string | undefined;
  let chain: string | undefined;
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UnreadableCertificateHeader(`the ${what} header is not a well-formed x-forwarded-client-cert element`);
    const key = pair.slice(0, eq).trim().toLowerCase();
    const raw = pair.slice(eq + 1).trim();
    const value = raw.startsWith('"') ? unquote(raw, what) : raw;
    if (key === 'cert') cert = value;
    else if (key === 'chain') chain = value;
  }
  if (cert === undefined && chain === undefined) throw new UnreadableCertificateHeader(`the ${what} header's x-forwarded-client-cert element has neither Cert nor Chain`);
  const out = cert === undefined ? [] : pemCertificates(urlDecoded(cert, what), what);
  if (chain !== undefined) out.push(...pemCertificates(urlDecoded(chain, what), what));
  return out;
}

/** Splits on `separator` where it is not inside a double-quoted string (with backslash escapes). */
function splitOutsideQuotes(text: string, separator: string, what: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) throw new UnreadableCertificateHeader(`the ${what} header has an unterminated quoted string`);
  parts.push(text.slice(start));
  return parts;
}

function unquote(raw: string, what: string): string {
  if (raw.length < 2 || !raw.endsWith('"')) throw new UnreadableCertificateHeader(`the ${what} header has a malformed quoted value`);
  return raw.slice(1, -1).replace(/\\(.)/g, '$1');
}

function urlDecoded(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new UnreadableCertificateHeader(`the ${what} header is not valid URL encoding`);
  }
}

/** PEM certificate blocks, with any whitespace (spaces for newlines included) inside them, whitespace or commas between them, and nothing else. */
function pemCertificates(text: string, what: string): Buffer[] {
  const out: Buffer[] = [];
  let rest = '';
  let last = 0;
  for (const match of text.matchAll(PEM_BLOCK)) {
    const [whole, label, body, endLabel] = match;
    if (label !== 'CERTIFICATE' || endLabel !== 'CERTIFICATE') throw new UnreadableCertificateHeader(`the ${what} header holds a PEM block that is not a certificate`);
    rest += text.slice(last, match.index);
    last = match.index + whole.length;
    out.push(oneDer(base64(body!.replace(/\s+/g, ''), what), what));
  }
  rest += text.slice(last);
  // commas too: a chain sent as several header lines arrives joined by them
  if (rest.replace(/[\s,]+/g, '') !== '') throw new UnreadableCertificateHeader(`the ${what} header holds text that is not a PEM certificate`);
  return out;
}

function base64(text: string, what: string): Buffer {
  if (text.length === 0 || !isBase64(text)) throw new UnreadableCertificateHeader(`the ${what} header is not well-formed base64`);
  return Buffer.from(text, 'base64');
}

/** Exactly one DER SEQUENCE (what the certificate checks then read strictly). */
function oneDer(der: Buffer, what: string): Buffer {
  const found = concatenatedDer(der, what);
  if (found.length !== 1) throw new UnreadableCertificateHeader(`the ${what} header holds bytes after a certificate`);
  return found[0]!;
}

/** DER SEQUENCEs back to back, as HAProxy's ssl_c_chain_der gives a chain. */
function concatenatedDer(der: Buffer, what: string): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < der.length; ) {
    let end: number;
    try {
      const tlv = readTlv(der, at);
      if (tlv.tag !== Tag.sequence) throw new Error('not a SEQUENCE');
      end = tlv.end;
    } catch {
      throw new UnreadableCertificateHeader(`the ${what} header does not hold DER certificates`);
    }
    out.push(der.subarray(at, end));
    if (out.length > MAX_FORWARDED_CERTIFICATES) {
      throw new UnreadableCertificateHeader(`the ${what} header holds more than ${MAX_FORWARDED_CERTIFICATES} certificates`);
    }
    at = end;
  }
  return out;
}
