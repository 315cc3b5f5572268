import { createHash } from 'node:crypto';
import { forwardedChain, UnreadableCertificateHeader } from '../domain/x509/forwarded-certificates.js';
import type { Presented } from './verdicts.js';

/** Distinct presentations remembered, at most, and the characters of header values they may hold together. */
const MAX_PRESENTATIONS = 10_000;
const MAX_REMEMBERED_CHARS = 16 * 1024 * 1024;

/** A certificate header that could not be read, remembered as such (its reason, never its value). */
export interface Unreadable {
  readonly unreadable: string;
}

/**
 * What an ingress said a client presented, one object per distinct pair of certificate header values: the
 * presentation is what the verdict cache (Verdicts, keyed by `connection`) and the key cache (State.projectKey)
 * keep their answers on, in place of the TLS connection a gateway has. One ingress connection carries many
 * clients, so nothing is ever kept on the ingress's socket; the same values always name the same certificates,
 * so what was decided for them holds for every request that carries them. Each distinct value is parsed once.
 * Bounded: past either bound the longest remembered goes first.
 */
export class Presentations {
  private readonly byValues = new Map<string, Presented | Unreadable>();
  private chars = 0;

  /** The presentation carried by these header values (absent or empty: no certificate), or why they cannot be read. */
  of(leafValue: string | undefined, chainValue: string | undefined): Presented | Unreadable {
    // a header value holds no line break, so the pair is one unambiguous key
    const key = chainValue ? `${leafValue ?? ''}\n${chainValue}` : (leafValue ?? '');
    const kept = this.byValues.get(key);
    if (kept) return kept;
    let made: Presented | Unreadable;
    try {
      made = new Presentation(forwardedChain(leafValue, chainValue));
    } catch (err) {
      if (!(err instanceof UnreadableCertificateHeader)) throw err;
      made = { unreadable: err.message };
    }
    this.remember(key, made);
    return made;
  }

  private remember(key: string, made: Presented | Unreadable): void {
    while (this.byValues.size > 0 && (this.byValues.size >= MAX_PRESENTATIONS || this.chars + key.length > MAX_REMEMBERED_CHARS)) {
      const oldest = this.byValues.keys().next().value!;
      this.byValues.delete(oldest);
      this.chars -= oldest.length;
    }
    this.byValues.set(key, made);
    this.chars += key.length;
  }
}

/** One presentation: it is its own `connection`, so what is kept on it is kept per presentation. */
class Presentation implements Presented {
  readonly connection: object = this;
  private fingerprint: string | undefined | null = null;

  constructor(private readonly certificates: readonly Buffer[]) {}

  // arrow functions: callers hand them on detached (the traffic recorder reads the chain later)
  readonly chain = (): readonly Buffer[] => this.certificates;

  /** as the TLS gateway reports it (and x-forwarded-client-cert's Hash): lowercase hex SHA-256 of the leaf's DER */
  readonly leafFingerprint = (): string | undefined => {
    if (this.fingerprint === null) this.fingerprint = this.certificates[0] && createHash('sha256').update(this.certificates[0]).digest('hex');
    return this.fingerprint;
  };
}
