import { createHash } from 'node:crypto';
import { ApiError } from '../errors.js';

// PEM text handling: finding blocks, refusing private keys, canonical output.

export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

// RFC 7468, read laxly where the RFC allows it and strictly where it does not:
// - text before, between and after blocks is ignored (explanatory text);
// - each boundary line stands on its own line (optionally indented), and the
//   BEGIN and END labels match;
// - between them only base64 and whitespace (any mix of CR, LF, spaces, tabs,
//   blank lines), the base64 well formed with its padding at the end.
// A block that breaks these rules is not a PEM block; a PEM squeezed onto one
// line, or one whose BEGIN line starts with other bytes (a NUL, say), is refused.
const EOL = String.raw`(?:\r\n|\n|\r)`;
const BLOCK = new RegExp(String.raw`(?:^|${EOL})[ \t]*-----BEGIN ([A-Z0-9]+(?: [A-Z0-9]+)*)-----[ \t]*${EOL}([\s\S]*?)${EOL}[ \t]*-----END ([A-Z0-9 ]+)-----[ \t]*(?=${EOL}|$)`, 'g');
/** Well-formed base64: whole groups of four, padding only at the end (the one-pass form of (?:[A-Za-z0-9+/]{4})*(?:…==|…=)?, which took tens of milliseconds on a 1 MiB CRL). */
export function isBase64(text: string): boolean {
  return text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
}
const WHITESPACE = /[ \t\r\n]+/g;

/** Every well-formed PEM block in the text, in order. */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const [, label, body, endLabel] = match;
    if (label !== endLabel) continue;
    const compact = body!.replace(WHITESPACE, '');
    if (compact.length === 0 || !isBase64(compact)) continue;
    blocks.push({ label: label!, der: Buffer.from(compact, 'base64') });
  }
  return blocks;
}

/** True when the text holds any kind of private key, PEM-armoured or not recognisably so. */
export function containsPrivateKey(text: string): boolean {
  return /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text);
}

/**
 * The DER of every certificate in a PEM text, in order: the one reading of
 * certificate material that uploads, the verify endpoint and the CLI share.
 * A private key anywhere in the text is refused and never read.
 */
export function certificatesFromPem(text: string, param = 'certificate'): Buffer[] {
  if (containsPrivateKey(text)) {
    throw new ApiError(
      'mtls_certificate_invalid',
      'The payload contains a private key. Send only certificates: a private key must never leave its owner, and certgate does not store it.',
      param,
    );
  }
  const certificates = pemBlocks(text)
    .filter((block) => block.label === 'CERTIFICATE')
    .map((block) => block.der);
  if (certificates.length === 0) {
    throw new ApiError('mtls_certificate_invalid', 'No PEM-encoded certificate (-----BEGIN CERTIFICATE-----) was found in the payload.', param);
  }
  return certificates;
}

export function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
