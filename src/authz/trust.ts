import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

// Trust only the ingress. A certificate header is a claim anyone can type; it is believed only from the ingress,
// which proved the client's possession of the key in its own TLS handshake. How a request shows it came from the
// ingress is configured, and each configured condition must hold:
// - a shared secret (--ingress-secret-file / CERTGATE_INGRESS_SECRET) in x-certgate-ingress-secret, on every
//   request, whatever the listener;
// - a Unix socket (--socket): whoever can connect to it (mode 0660) is the ingress;
// - --trust-loopback: a TCP peer on a loopback address is the ingress.

/** The header an ingress adds with the shared secret: never forwarded upstream (it is under x-certgate-). */
export const INGRESS_SECRET_HEADER = 'x-certgate-ingress-secret';

export interface IngressTrustOptions {
  /** the shared secret the ingress sends; none when undefined */
  readonly secret: string | undefined;
  /** the listener is a Unix socket: being on it is the proof */
  readonly socket: boolean;
  /** a TCP peer on a loopback address is the ingress */
  readonly loopback: boolean;
}

const digest = (value: string) => createHash('sha256').update(value, 'latin1').digest();

/** A loopback address in any of the forms Node reports a peer: 127.0.0.0/8, ::1, or IPv4-mapped 127.x. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  if (address === '::1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

export class IngressTrust {
  private readonly secretDigest: Buffer | undefined;

  constructor(private readonly options: IngressTrustOptions) {
    this.secretDigest = options.secret === undefined ? undefined : digest(options.secret);
  }

  /**
   * Whether a request came from the ingress: `secrets` are the values of its x-certgate-ingress-secret headers
   * (exactly one must match when a secret is configured; compared in constant time over their digests),
   * `peer` its TCP peer's address (undefined on a Unix socket).
   */
  fromIngress(secrets: readonly string[], peer: string | undefined): boolean {
    if (this.secretDigest) {
      if (secrets.length !== 1 || !timingSafeEqual(digest(secrets[0]!), this.secretDigest)) return false;
    }
    if (this.options.socket) return true;
    if (this.options.loopback) return isLoopback(peer);
    return this.secretDigest !== undefined;
  }
}
