/**
 * The intermediates a client sent on a full TLS handshake, kept for the sessions resumed from it.
 *
 * A resumed session (a TLS 1.3 ticket, or a TLS 1.2 one) carries the client's leaf but not the intermediates it
 * sent, so a path through an intermediate cannot be built from what the resumed connection reports. The gateway
 * keeps, per leaf (SHA-256 fingerprint), the chain that leaf arrived with, and judges a resumed session on it: the
 * same chain as the handshake it resumes. It is only ever a help to path building: every signature is checked again
 * by the admission decision, against the anchors in force now.
 *
 * Bounded: at most MAX_LEAVES leaves and MAX_BYTES of certificates (an intermediate shared by many leaves is kept
 * once). When either bound would be passed the table is emptied and `forget` is called, which rotates the ticket
 * keys: no session issued before can then resume, so a resumed session never finds its chain missing.
 */
export const MAX_LEAVES = 20_000;
export const MAX_BYTES = 16 * 1024 * 1024;

export class SessionChains {
  private byLeaf = new Map<string, readonly Buffer[]>();
  /** each intermediate once, by its DER (base64 of a SHA-256 would do, but the DER's own bytes are the key that cannot collide) */
  private shared = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly forget: () => void) {}

  /** After a full handshake: the chain (leaf first, DER) that the leaf with this fingerprint presented. */
  remember(leafFingerprint: string, chain: readonly Buffer[]): void {
    if (chain.length < 2) return;
    const known = this.byLeaf.get(leafFingerprint);
    if (known && known.length === chain.length && known.every((c, i) => c.equals(chain[i]!))) return;
    const added = chain.reduce((n, c) => n + c.length, 0);
    if (this.byLeaf.size >= MAX_LEAVES || this.bytes + added > MAX_BYTES) this.clear();
    const kept = [chain[0]!, ...chain.slice(1).map((c) => this.intern(c))];
    this.bytes += chain[0]!.length;
    this.byLeaf.set(leafFingerprint, kept);
  }

  /** On a resumed session: the chain its full handshake presented, or undefined (the leaf came alone). */
  recall(leafFingerprint: string): readonly Buffer[] | undefined {
    return this.byLeaf.get(leafFingerprint);
  }

  get size(): number {
    return this.byLeaf.size;
  }

  private intern(der: Buffer): Buffer {
    const key = der.toString('base64');
    let kept = this.shared.get(key);
    if (!kept) {
      kept = Buffer.from(der);
      this.shared.set(key, kept);
      this.bytes += der.length * 2; // the buffer and its key
    }
    return kept;
  }

  private clear(): void {
    this.byLeaf = new Map();
    this.shared = new Map();
    this.bytes = 0;
    this.forget();
  }
}
