import { requireAll, toggleIds } from '../domain/certificates.js';
import { ORGANIZATION_SCOPE, type ObservedClient } from '../domain/model.js';
import { requireUsableProject } from '../domain/projects.js';
import { leafNames } from '../domain/sightings.js';
import type { Runtime } from '../runtime.js';
import { Slices } from '../slices.js';
import type { OrganizationSnapshot } from '../state/snapshot.js';
import { REMEMBER_CLIENTS_S } from '../state/traffic.js';
import { admitInSnapshot, type Presented } from './admission.js';

// The lockout preview (a certgate extension): which of the clients the gateways have seen in the last 7 days
// would be locked out by an activation or deactivation, decided by the gateway's own admission (admitInSnapshot)
// against the organization as it is and as the change would leave it, without making the change. Sightings are
// read a page at a time and judged in slices that give the event loop back, so a preview of 10,000 clients never
// holds up another request.

export interface PreviewRequest {
  readonly action: 'activate' | 'deactivate';
  readonly certificate_ids: readonly string[];
  readonly project_id?: string | null | undefined;
}

export interface LockedOut {
  readonly fingerprint: string | null;
  readonly subject: string | null;
  readonly projectId: string;
  readonly serviceAccountId: string;
  readonly lastSeenAt: number;
  readonly requests: number;
}

export interface Preview {
  readonly wouldRefuse: LockedOut[];
  readonly wouldAdmit: number;
  /** clients whose certificate was too large to keep (domain/sightings.ts): not judged */
  readonly unjudged: number;
}

/** Sightings read from the store at once. */
const PAGE = 50;

/** A remembered client presented again: the chain kept of it, and no connection (nothing of it is cached). */
const presentedBy = (client: ObservedClient): Presented => ({ chain: () => client.chain });

export async function previewChange(rt: Runtime, organizationId: string, request: PreviewRequest): Promise<Preview> {
  const ids = toggleIds(request.certificate_ids);
  const projectId = request.project_id ?? null;
  const snapshot = await rt.snapshot(organizationId);
  if (projectId !== null) requireUsableProject(projectId, snapshot.project(projectId));
  requireAll(ids, (id) => snapshot.certificate(id));
  const after = snapshot.withActivation(projectId ?? ORGANIZATION_SCOPE, ids, request.action === 'activate');
  const seenSince = rt.nowSeconds() - REMEMBER_CLIENTS_S;
  const wouldRefuse: LockedOut[] = [];
  let wouldAdmit = 0;
  let unjudged = 0;
  const slices = new Slices();
  for (let page: ObservedClient[] | null = null; page === null || page.length === PAGE; ) {
    const last: ObservedClient | undefined = page?.at(-1);
    page = await rt.store.observedClients(organizationId, seenSince, { projectId, after: last ?? null, limit: PAGE });
    for (const client of page) {
      await slices.breathe();
      const outcome = await judge(rt, snapshot, after, client, slices);
      if (outcome === 'admitted') wouldAdmit++;
      else if (outcome === 'unjudged') unjudged++;
      else if (outcome === 'locked_out') wouldRefuse.push(lockedOut(client));
    }
  }
  wouldRefuse.sort((a, b) => b.lastSeenAt - a.lastSeenAt);
  return { wouldRefuse, wouldAdmit, unjudged };
}

/** One client: admitted after the change, locked out by it (admitted before), refused either way, or not judged. */
async function judge(rt: Runtime, before: OrganizationSnapshot, after: OrganizationSnapshot, client: ObservedClient, slices: Slices): Promise<'admitted' | 'locked_out' | 'refused' | 'unjudged'> {
  // a certificate was presented, and none of it was kept
  if (client.fingerprint !== '' && client.chain.length === 0) return 'unjudged';
  const presented = presentedBy(client);
  if (admitInSnapshot(rt, after, client.projectId, presented).admitted) return 'admitted';
  await slices.breathe();
  return admitInSnapshot(rt, before, client.projectId, presented).admitted ? 'locked_out' : 'refused';
}

const lockedOut = (client: ObservedClient): LockedOut => ({
  fingerprint: client.fingerprint || null,
  // sightings stored before subjects were recorded have none: read from the leaf
  subject: client.subject ?? (client.chain[0] ? (leafNames(client.chain[0])?.subject ?? null) : null),
  projectId: client.projectId,
  serviceAccountId: client.serviceAccountId,
  lastSeenAt: client.lastSeen,
  requests: client.requests,
});
