import { OVER_BUDGET } from '../domain/checks/filter.js';
import { verifyClient, type Verdict } from '../domain/checks/client.js';
import type { TrustAnchor } from '../domain/trust-anchor.js';

/** A client certificate as presented: the chain, and where it came from. */
export interface Presented {
  /** leaf first, DER */
  chain(): readonly Buffer[];
  /** the TLS connection it arrived on: its certificate cannot change, so its verdict is kept on it */
  readonly connection?: object;
  /** SHA-256 of the leaf, to share direct acceptances across a client's connections */
  leafFingerprint?(): string | undefined;
}

const MAX_SHARED_VERDICTS = 10_000;

/**
 * Verdicts of the client checks, kept on what they depend on and nothing else: the list of anchors in force (a
 * list is made once per snapshot and kept while no activation, certificate or filter changes, so a new list is a
 * changed decision), the connection (its certificate cannot change) or, for a leaf an anchor issued directly, the
 * leaf's fingerprint; and the clock (a verdict holds until its `until`). Also what the gateway derives per
 * connection and per verdict, so that kept-alive requests reuse it.
 */
export class Verdicts {
  private readonly perConnection = new WeakMap<object, { anchors: readonly TrustAnchor[]; verdict: Verdict }>();
  private readonly shared = new WeakMap<readonly TrustAnchor[], Map<string, Verdict>>();
  private readonly presentations = new WeakMap<object, Presented>();
  private readonly derived = new WeakMap<Verdict, unknown>();

  /** The checks' verdict on a presented chain under these anchors at `now`, computed once per connection or leaf while it holds. */
  of(presented: Presented, anchors: readonly TrustAnchor[], now: Date): Verdict {
    const at = now.getTime();
    const kept = presented.connection && this.perConnection.get(presented.connection);
    if (kept && kept.anchors === anchors && at <= kept.verdict.until) return kept.verdict;
    const fingerprint = presented.leafFingerprint?.();
    let shared = this.shared.get(anchors);
    let verdict = fingerprint ? shared?.get(fingerprint) : undefined;
    if (!verdict || at > verdict.until) {
      verdict = verifyClient(presented.chain(), anchors, now);
      // Only a leaf an anchor issued directly is judged by the leaf alone; a path through intermediates depends on what else was sent.
      if (fingerprint && verdict.accepted && verdict.direct) {
        if (!shared) this.shared.set(anchors, (shared = new Map()));
        if (shared.size >= MAX_SHARED_VERDICTS) shared.clear();
        shared.set(fingerprint, verdict);
      }
    }
    // A transient failure is asked again on the next request, never remembered; a filter over its budget of work is
    // not transient (the same leaf and filter always are), so it is kept like a refusal.
    const transient = verdict.refusal?.code === 'authentication_temporarily_unavailable' && !verdict.refusal.message.includes(OVER_BUDGET);
    if (presented.connection && !transient) {
      this.perConnection.set(presented.connection, { anchors, verdict });
    }
    return verdict;
  }

  /** What a connection presented, made once per connection. */
  presentedOn<C extends object>(connection: C, make: (connection: C) => Presented): Presented {
    let presented = this.presentations.get(connection);
    if (!presented) this.presentations.set(connection, (presented = make(connection)));
    return presented;
  }

  /** A value derived from a verdict alone (the identity headers it sends upstream), made once per verdict. */
  derivedFrom<T>(verdict: Verdict, make: (verdict: Verdict) => T): T {
    if (this.derived.has(verdict)) return this.derived.get(verdict) as T;
    const value = make(verdict);
    this.derived.set(verdict, value);
    return value;
  }
}
