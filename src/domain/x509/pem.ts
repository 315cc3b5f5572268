import { createHash } from 'node:crypto';
import { ApiError } from '../errors.js';

// PEM text handling: finding blocks, refusing private keys, canonical output.

export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END ([A-Z0-9 ]+)-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Every well-formed PEM block in the text, in order. CRLF and stray whitespace are fine. */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const [, label, body, endLabel] = match;
    if (label !== endLabel) continue;
    const compact = body!.replace(/\s+/g, '');
    if (!BASE64.test(compact) || compact.length === 0) continue;
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
