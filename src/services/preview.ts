import { requireAll, toggleIds } from '../domain/certificates.js';
import { verifyClient } from '../domain/checks/client.js';
import { ORGANIZATION_SCOPE } from '../domain/model.js';
import { requireUsableProject } from '../domain/projects.js';
import { readCertificate } from '../domain/x509/certificate.js';
import { rfc4514 } from '../domain/x509/names.js';
import type { Runtime } from '../runtime.js';
import { REMEMBER_CLIENTS_S } from '../state/traffic.js';

// The lockout preview (a certgate extension): which of the clients the gateways have seen in the last 7 days
// would be locked out by an activation or deactivation, decided by the same checks the gateway runs, without
// making the change.

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

export async function previewChange(rt: Runtime, organizationId: string, request: PreviewRequest): Promise<{ wouldRefuse: LockedOut[]; wouldAdmit: number }> {
  const ids = toggleIds(request.certificate_ids);
  const projectId = request.project_id ?? null;
  const snapshot = await rt.snapshot(organizationId);
  if (projectId !== null) requireUsableProject(projectId, snapshot.project(projectId));
  requireAll(ids, (id) => snapshot.certificate(id));
  const after = snapshot.withActivation(projectId ?? ORGANIZATION_SCOPE, ids, request.action === 'activate');
  const now = rt.now();
  const clients = await rt.store.observedClients(organizationId, Math.floor(now.getTime() / 1000) - REMEMBER_CLIENTS_S);
  const wouldRefuse: LockedOut[] = [];
  let wouldAdmit = 0;
  for (const client of clients) {
    if (projectId !== null && client.projectId !== projectId) continue;
    const project = snapshot.project(client.projectId);
    if (!project || project.archivedAt !== null) continue;
    const before = verifyClient(client.chain, rt.anchors.inForce(snapshot, client.projectId), now);
    const then = verifyClient(client.chain, rt.anchors.inForce(after, client.projectId), now);
    if (!then.refusal) {
      wouldAdmit++;
    } else if (!before.refusal) {
      let subject: string | null = null;
      try {
        if (client.chain[0]) subject = rfc4514(readCertificate(client.chain[0]).subjectName);
      } catch {
        subject = null;
      }
      wouldRefuse.push({
        fingerprint: client.fingerprint || null,
        subject,
        projectId: client.projectId,
        serviceAccountId: client.serviceAccountId,
        lastSeenAt: client.lastSeen,
        requests: client.requests,
      });
    }
  }
  wouldRefuse.sort((a, b) => b.lastSeenAt - a.lastSeenAt);
  return { wouldRefuse, wouldAdmit };
}
