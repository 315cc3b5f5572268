import { expiringAnchors } from '../domain/expiry.js';
import { DEFAULT_ORGANIZATION_ID } from '../domain/model.js';
import type { Runtime } from '../runtime.js';

export const DAY_MS = 24 * 60 * 60 * 1000;

/** The part of a pino logger the alerts write to. */
export interface WarningLog {
  warn(entry: object, msg: string): void;
}

/**
 * Logs one warning line per active anchor that expires within `days` days
 * (or has expired): its id, name, scopes, expiry and days left; never its
 * PEM. Returns how many were reported. A store that cannot be read is logged
 * and skipped: the next check tries again.
 */
export async function reportExpiringAnchors(rt: Runtime, days: number, log: WarningLog, organizationId = DEFAULT_ORGANIZATION_ID): Promise<number> {
  let snapshot;
  try {
    snapshot = await rt.snapshot(organizationId);
  } catch (err) {
    log.warn({ error: (err as Error).message }, 'could not check trust anchors for expiry: the store is unavailable');
    return 0;
  }
  const expiring = expiringAnchors(snapshot.certificates, snapshot.liveActivations(), rt.nowSeconds(), days);
  for (const a of expiring) {
    log.warn(
      { certificate_id: a.certificateId, name: a.name, scopes: a.scopes, expires_at: new Date(a.expiresAt * 1000).toISOString(), days_left: a.daysLeft },
      a.daysLeft < 0 ? 'active trust anchor has expired: clients in its scopes are refused' : `active trust anchor expires in ${a.daysLeft} days`,
    );
  }
  return expiring.length;
}

/** Checks now, then once a day; the timer never keeps the process alive. Returns what stops it. */
export async function startExpiryAlerts(rt: Runtime, days: number, log: WarningLog, everyMs = DAY_MS): Promise<() => void> {
  await reportExpiringAnchors(rt, days, log);
  const timer = setInterval(() => void reportExpiringAnchors(rt, days, log), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
