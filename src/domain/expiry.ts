import type { ActivationRecord, CertificateRecord } from './model.js';

export const SECONDS_PER_DAY = 86_400;

/** The default warning window: an active anchor this close to its expiry is reported. */
export const DEFAULT_EXPIRY_WARNING_DAYS = 30;

/** An active anchor near (or past) its expiry, with every scope it is active in. */
export interface ExpiringAnchor {
  readonly certificateId: string;
  readonly name: string | null;
  /** ORGANIZATION_SCOPE or project ids, sorted */
  readonly scopes: readonly string[];
  /** Unix seconds, as the API reports expires_at */
  readonly expiresAt: number;
  /** whole days left, rounded down; negative once expired */
  readonly daysLeft: number;
}

/** Whole days from `now` until `expiresAt` (both Unix seconds), rounded down. */
export function daysLeft(expiresAt: number, now: number): number {
  return Math.floor((expiresAt - now) / SECONDS_PER_DAY);
}

/**
 * The active anchors that expire within `days` days of `now` (Unix seconds),
 * expired ones included: once an anchor expires, every client in its scopes
 * is cut off, so it is the most urgent of all. Soonest first. An anchor that
 * is not active anywhere gates nothing and is left out.
 */
export function expiringAnchors(
  certificates: readonly CertificateRecord[],
  activations: readonly ActivationRecord[],
  now: number,
  days: number,
): ExpiringAnchor[] {
  const scopes = new Map<string, string[]>();
  for (const { certificateId, scope } of activations) {
    let list = scopes.get(certificateId);
    if (!list) scopes.set(certificateId, (list = []));
    list.push(scope);
  }
  const horizon = now + days * SECONDS_PER_DAY;
  const out: ExpiringAnchor[] = [];
  for (const c of certificates) {
    const active = scopes.get(c.id);
    if (!active || c.expiresAt > horizon) continue;
    out.push({ certificateId: c.id, name: c.name, scopes: [...new Set(active)].sort(), expiresAt: c.expiresAt, daysLeft: daysLeft(c.expiresAt, now) });
  }
  return out.sort((a, b) => a.expiresAt - b.expiresAt || (a.certificateId < b.certificateId ? -1 : 1));
}
