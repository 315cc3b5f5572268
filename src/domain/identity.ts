import type { CertificateFacts } from './x509/certificate.js';
import { AttributeOid, attributeValues, rfc4514 } from './x509/names.js';

// The verified client identity, as the gateway forwards it upstream. The
// headers are certgate's to set: every copy a client sends is removed.

export const FORWARDED_CLIENT_CERT = 'x-forwarded-client-cert';
export const PROJECT_ID_HEADER = 'x-certgate-project-id';
export const CERTIFICATE_ID_HEADER = 'x-certgate-certificate-id';

export type ClientIdSource = 'cn' | 'san-uri' | 'san-dns' | 'fingerprint';
export const CLIENT_ID_SOURCES: readonly ClientIdSource[] = ['cn', 'san-uri', 'san-dns', 'fingerprint'];

/** An XFCC value: bare when it is plain, else double-quoted with its quotes escaped (Envoy's rule). */
function xfccValue(value: string): string {
  return /[,;="\\\s]/.test(value) || value === '' ? `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"` : value;
}

/**
 * Envoy's x-forwarded-client-cert for one verified leaf:
 * Hash=<hex SHA-256 of the DER>;Subject="<RFC 4514>";URI=<each URI SAN>;DNS=<each DNS SAN>.
 */
export function forwardedClientCert(leaf: CertificateFacts): string {
  const parts = [`Hash=${leaf.fingerprint}`, `Subject="${rfc4514(leaf.subjectName).replace(/["\\]/g, (c) => `\\${c}`)}"`];
  for (const san of leaf.subjectAltNames) if (san.kind === 'uri') parts.push(`URI=${xfccValue(san.value)}`);
  for (const san of leaf.subjectAltNames) if (san.kind === 'dns') parts.push(`DNS=${xfccValue(san.value)}`);
  return parts.join(';');
}

/** The one value a configured client-id header carries, or undefined when the leaf has none of that kind. */
export function clientId(leaf: CertificateFacts, from: ClientIdSource): string | undefined {
  switch (from) {
    case 'cn':
      return attributeValues(leaf.subjectName, AttributeOid.commonName)[0];
    case 'san-uri':
      return leaf.subjectAltNames.find((n) => n.kind === 'uri')?.value;
    case 'san-dns':
      return leaf.subjectAltNames.find((n) => n.kind === 'dns')?.value;
    case 'fingerprint':
      return leaf.fingerprint;
  }
}
