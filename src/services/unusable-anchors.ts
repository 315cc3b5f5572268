import { ORGANIZATION_SCOPE } from '../domain/model.js';
import type { Runtime } from '../runtime.js';
import type { OrganizationSnapshot } from '../state/snapshot.js';

// Stored certificates that this version of certgate cannot read (its reader became stricter than the one that stored
// them): never a 500, but reported wherever an operator looks. The gate refuses their clients (anchor_unusable,
// src/domain/checks/client.ts); this says which they are, for the console, the metrics and the log.

export interface UnusableCertificate {
  readonly id: string;
  readonly name: string | null;
  /** why this version's reader refuses it */
  readonly problem: string;
  /** the scopes it is active in (ORGANIZATION_SCOPE or project ids): where its clients are refused */
  readonly activeIn: readonly string[];
}

/** Every stored certificate of the organization that this version cannot read, active or not, with where it is active. */
export function unusableCertificates(rt: Runtime, snapshot: OrganizationSnapshot): UnusableCertificate[] {
  const out: UnusableCertificate[] = [];
  let scopes: Map<string, string[]> | undefined;
  for (const record of snapshot.certificates) {
    const problem = rt.anchors.problem(record);
    if (problem === undefined) continue;
    scopes ??= activeScopes(snapshot);
    out.push({ id: record.id, name: record.name, problem, activeIn: scopes.get(record.id) ?? [] });
  }
  return out;
}

function activeScopes(snapshot: OrganizationSnapshot): Map<string, string[]> {
  const scopes = new Map<string, string[]>();
  for (const { certificateId, scope } of snapshot.liveActivations()) {
    let list = scopes.get(certificateId);
    if (!list) scopes.set(certificateId, (list = []));
    list.push(scope);
  }
  for (const list of scopes.values()) list.sort((a, b) => (a === ORGANIZATION_SCOPE ? -1 : b === ORGANIZATION_SCOPE ? 1 : a.localeCompare(b)));
  return scopes;
}

/** The part of a pino logger the report writes to. */
export interface AnchorLog {
  error(entry: object, msg: string): void;
  info(entry: object, msg: string): void;
  warn(entry: object, msg: string): void;
}

/**
 * Logs each active trust anchor this version cannot read: every one in force at start, then each that becomes one
 * (activated, or stored by another process) and each that stops being one (deactivated, deleted), as the process
 * hears of the change. One line per anchor and change, naming it and why, never its PEM. Answers what stops it.
 */
export async function watchUnusableAnchors(rt: Runtime, log: AnchorLog): Promise<() => void> {
  const reported = new Map<string, Map<string, string>>();
  const report = (organizationId: string, snapshot: OrganizationSnapshot) => {
    const now = new Map(rt.anchors.unusable(snapshot).map((u) => [u.id, u.problem]));
    const before = reported.get(organizationId) ?? new Map<string, string>();
    if (now.size === 0 && before.size === 0) return;
    for (const [id, problem] of now) {
      if (before.has(id)) continue;
      log.error({ certificate_id: id, organization_id: organizationId, problem }, 'an active trust anchor cannot be read by this version of certgate: it admits nothing (anchor_unusable) until it is uploaded again');
    }
    for (const id of before.keys()) {
      if (!now.has(id)) log.info({ certificate_id: id, organization_id: organizationId }, 'a trust anchor this version of certgate cannot read is no longer in force');
    }
    reported.set(organizationId, now);
  };
  const stop = rt.state.onSnapshot(report);
  try {
    for (const organizationId of await rt.store.organizationIds()) report(organizationId, await rt.snapshot(organizationId));
  } catch (err) {
    log.warn({ error: (err as Error).message }, 'could not look for trust anchors this version cannot read: the store is unavailable');
  }
  return stop;
}
