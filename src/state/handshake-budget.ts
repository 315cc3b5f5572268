import { isIPv6 } from 'node:net';

/**
 * What each source address may cost the gateway in hostile TLS handshakes, as a token bucket per source.
 *
 * Node's TLS checks every signature of the chain a client sends before the gateway sees any of it (it offers no
 * verify depth: nodejs/node#39208), so a chain of 100 certificates costs the gateway ~15 times what it costs the
 * sender. An ordinary handshake costs its sender about what it costs the gateway and is never charged. A handshake
 * that fails after the client sent something, or that completes with a chain longer than the gateway reads, costs
 * its source one token; a source with no token left has its new connections closed at accept, before any TLS work,
 * until its bucket refills at `ratePerSecond` (up to `burst`).
 *
 * IPv6 sources are counted per /64 (what one host is usually given); IPv4-mapped addresses as IPv4. At most
 * MAX_SOURCES are tracked: when full, sources whose buckets have refilled are dropped, and if none has, all are.
 */
export const MAX_SOURCES = 100_000;

export interface HandshakeBudgetOptions {
  /** tokens regained per second; 0 turns the budget off */
  readonly ratePerSecond: number;
  /** tokens a source starts with and can save up */
  readonly burst: number;
}

export const DEFAULT_HANDSHAKE_BUDGET: HandshakeBudgetOptions = { ratePerSecond: 2, burst: 20 };

interface Bucket {
  tokens: number;
  at: number;
}

export class HandshakeBudget {
  private readonly sources = new Map<string, Bucket>();
  /**
   * Each accepted connection's source and whether it holds a token, until its handshake ends. Kept here rather than
   * on the socket: a property added to a socket gives every socket a second shape, and Node's per-read and per-write
   * socket code (timers, streams) then runs polymorphic on every kept-alive request (measured: ~4% of requests per
   * CPU-second).
   */
  private readonly connections = new WeakMap<object, { readonly address: string | undefined; readonly held: boolean }>();

  constructor(
    private readonly options: HandshakeBudgetOptions,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * At accept: 'refused' closes the connection before any TLS work. A source never charged is 'free'; one already
   * charged pays a token up front ('held'), given back by `settle` if the handshake is ordinary, so that what it has
   * in flight counts against it too.
   */
  accept(address: string | undefined): 'free' | 'held' | 'refused' {
    if (address === undefined) return 'free';
    const bucket = this.sources.get(sourceOf(address));
    if (!bucket) return 'free';
    if (this.refill(bucket) < 1) return 'refused';
    bucket.tokens -= 1;
    return 'held';
  }

  /** A connection accepted from `address`: false when it is to be closed at once, before any TLS work (see accept). */
  connectionAccepted(connection: object, address: string | undefined): boolean {
    const admitted = this.accept(address);
    if (admitted === 'refused') return false;
    this.connections.set(connection, { address, held: admitted === 'held' });
    return true;
  }

  /** A connection's handshake ended (see settle); told once, later calls do nothing. */
  handshakeEnded(connection: object, hostile: boolean): void {
    const accepted = this.connections.get(connection);
    if (!accepted) return;
    this.connections.delete(connection);
    this.settle(accepted.address, accepted.held, hostile);
  }

  /** When the handshake ended: a hostile one costs a token (the one held, or one now: the balance may go below zero, a debt repaid by waiting). */
  settle(address: string | undefined, held: boolean, hostile: boolean): void {
    if (address === undefined) return;
    if (hostile && !held) this.charge(address);
    else if (!hostile && held) {
      const bucket = this.sources.get(sourceOf(address));
      if (bucket) bucket.tokens = Math.min(this.options.burst, bucket.tokens + 1);
    }
  }

  private charge(address: string): void {
    const source = sourceOf(address);
    let bucket = this.sources.get(source);
    if (!bucket) {
      if (this.sources.size >= MAX_SOURCES) this.sweep();
      bucket = { tokens: this.options.burst, at: this.now() };
      this.sources.set(source, bucket);
    } else this.refill(bucket);
    bucket.tokens -= 1;
  }

  get size(): number {
    return this.sources.size;
  }

  private refill(bucket: Bucket): number {
    const now = this.now();
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.options.ratePerSecond);
    bucket.at = now;
    return bucket.tokens;
  }

  private sweep(): void {
    for (const [source, bucket] of this.sources) if (this.refill(bucket) >= this.options.burst) this.sources.delete(source);
    if (this.sources.size >= MAX_SOURCES) this.sources.clear();
  }
}

/** The key a source is counted under: an IPv4 address, or an IPv6 address's /64. */
export function sourceOf(address: string): string {
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, '').toLowerCase())
    .join(':')}::/64`;
}
