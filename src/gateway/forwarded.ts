import { BlockList, isIP, type Socket } from 'node:net';

// Who the client is, as the upstream hears it: X-Forwarded-For, Forwarded (RFC 7239) and X-Forwarded-Proto, set by
// the gateway. A client's own copies are claims anyone can make, so they are passed on only from a peer the operator
// trusts (--trusted-proxies), with the peer's address appended; from any other peer they are discarded and the
// gateway's values are the only ones, so an upstream reading the leftmost address reads the real peer. (nginx's
// $proxy_add_x_forwarded_for and Envoy append to whatever any client sent and leave the counting of trusted hops to
// the next reader; the gateway counts them itself, as Traefik's forwardedHeaders.trustedIPs does.)

/** Request headers about earlier hops: the peer's to set when it is trusted, else the gateway's alone. */
export const FORWARDING_HEADERS: ReadonlySet<string> = new Set(['forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip']);

export class TrustedProxiesError extends Error {}

/** A comma-separated list of addresses and CIDR ranges (`10.0.0.0/8, 192.0.2.7, fd00::/8`) as a BlockList; an empty list trusts nobody. */
export function parseTrustedProxies(list: string): BlockList {
  const trusted = new BlockList();
  for (const raw of list.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address!);
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (family === 0 || extra !== undefined || (bits !== undefined && !/^\d{1,3}$/.test(bits)) || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
      throw new TrustedProxiesError(`not an IP address or CIDR range: ${JSON.stringify(entry)}`);
    }
    trusted.addSubnet(address!, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return trusted;
}

/** What one connection's peer adds: its address for X-Forwarded-For, its Forwarded element, and whether its own claims are believed. */
export interface Hop {
  readonly trusted: boolean;
  readonly forwardedFor: string;
  readonly forwarded: string;
}

/**
 * A connection's peer address. Under a TLS socket it is read from the TCP socket beneath, where the first read (the
 * handshake budget's, at accept) is kept: the TLS socket would ask the kernel again through its own wrap.
 */
export function peerAddress(socket: Socket): string | undefined {
  return ((socket as Socket & { _parent?: Socket | null })._parent ?? socket).remoteAddress;
}

/** The hop of a connection from `remoteAddress` (Node's form: an IPv4 client on a dual-stack socket reads `::ffff:a.b.c.d`). */
export function hopFrom(remoteAddress: string | undefined, trusted: BlockList | undefined): Hop {
  let address = remoteAddress ?? 'unknown';
  if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) address = address.slice(7);
  const family = isIP(address);
  return {
    trusted: family !== 0 && trusted !== undefined && trusted.check(address, family === 4 ? 'ipv4' : 'ipv6'),
    forwardedFor: address,
    // RFC 7239 §6: an IPv6 address is bracketed and quoted; an unknown one is the token `unknown`
    forwarded: `for=${family === 6 ? `"[${address}]"` : address};proto=https`,
  };
}
