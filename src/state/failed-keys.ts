import { isIPv4 } from 'node:net';

// Failed admin keys, per source address: a token bucket per source, as nginx's limit_req keeps one per
// $binary_remote_addr. Each wrong key takes a token; a source whose bucket is empty is refused (429) before its
// key is looked at, right or wrong, until a token comes back, as fail2ban bans an address. A throttled source
// therefore costs no store read and learns nothing about any key it sends. Memory is bounded: a fixed number of
// sources, the least recently failing forgotten first.

export interface FailedKeyLimits {
  /** wrong keys a source may send at once before it is throttled */
  readonly burst: number;
  /** tokens that come back each second: wrong keys a source may go on sending, on average */
  readonly perSecond: number;
  /** sources remembered at once (about 100 bytes each) */
  readonly sources: number;
}

export const FAILED_KEY_LIMITS: FailedKeyLimits = { burst: 20, perSecond: 1, sources: 10_000 };

interface Bucket {
  tokens: number;
  /** when `tokens` was last brought up to date, in seconds */
  at: number;
  /** the burst under way has been logged; cleared once the bucket is full again */
  throttled: boolean;
  /** wrong keys since the bucket was last full */
  failures: number;
}

/**
 * What a throttle is kept per: an IPv4 address, or an IPv6 /64 (one host's usual allocation: per address, one host
 * could walk 2^64 of them). An IPv4-mapped IPv6 address is its IPv4 address.
 */
export function sourceOf(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip) || !ip.includes(':')) return ip;
  const bare = ip.split('%')[0]!.toLowerCase();
  const [head = '', tail] = bare.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export class FailedKeyThrottle {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limits: FailedKeyLimits = FAILED_KEY_LIMITS,
    /** told once per throttled burst, when it begins: the source and the wrong keys that led to it (never a key) */
    private readonly onBurst: (source: string, failures: number, retryAfterSeconds: number) => void = () => undefined,
    private readonly nowSeconds: () => number = () => performance.now() / 1000,
  ) {}

  /** Seconds a source must wait before a key of its is looked at again; 0: look at it now. */
  retryAfter(ip: string): number {
    if (this.buckets.size === 0) return 0;
    const source = sourceOf(ip);
    const bucket = this.buckets.get(source);
    if (!bucket) return 0;
    this.refill(bucket);
    if (bucket.tokens >= 1) {
      if (bucket.tokens >= this.limits.burst) this.buckets.delete(source); // quiet for long enough: the burst is over
      return 0;
    }
    const wait = Math.max(1, Math.ceil((1 - bucket.tokens) / this.limits.perSecond));
    if (!bucket.throttled) {
      bucket.throttled = true;
      this.onBurst(source, bucket.failures, wait);
    }
    return wait;
  }

  /** A key from this source was wrong (unknown, deleted or expired). */
  failed(ip: string): void {
    const source = sourceOf(ip);
    let bucket = this.buckets.get(source);
    if (bucket) {
      this.buckets.delete(source); // re-inserted below: the map's order is least recently failing first
      this.refill(bucket);
    } else {
      if (this.buckets.size >= this.limits.sources) this.buckets.delete(this.buckets.keys().next().value!);
      bucket = { tokens: this.limits.burst, at: this.nowSeconds(), throttled: false, failures: 0 };
    }
    bucket.tokens -= 1;
    bucket.failures += 1;
    this.buckets.set(source, bucket);
  }

  /** Sources remembered now (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private refill(bucket: Bucket): void {
    const now = this.nowSeconds();
    bucket.tokens = Math.min(this.limits.burst, bucket.tokens + (now - bucket.at) * this.limits.perSecond);
    bucket.at = now;
    if (bucket.tokens >= this.limits.burst) {
      bucket.throttled = false;
      bucket.failures = 0;
    }
  }
}
