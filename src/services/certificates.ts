import {
  checkActivatable,
  checkCertificateLimit,
  checkDeletable,
  checkNotDuplicate,
  certificateNotFound,
  requireAll,
  toggleIds,
} from '../domain/certificates.js';
import { ApiError } from '../domain/errors.js';
import { checkName } from '../domain/names.js';
import { idSeconds, newId } from '../domain/ids.js';
import { ORGANIZATION_SCOPE, type Actor, type CertificateRecord } from '../domain/model.js';
import { paginate, type Page, type PageRequest } from '../domain/pagination.js';
import { requireUsableProject } from '../domain/projects.js';
import type { OrganizationSnapshot } from '../state/snapshot.js';
import { readTrustAnchor } from '../domain/checks/anchor.js';
import type { Runtime } from '../runtime.js';
import { recordAudit } from './audit-logs.js';

export interface UploadInput {
  certificate?: string | undefined;
  content?: string | undefined;
  name?: string | null | undefined;
}

export interface ScopedCertificate {
  readonly certificate: CertificateRecord;
  readonly active: boolean;
}

/** OpenAI's SDK sends `certificate`; its current docs page says `content`. Either works; both must agree. */
function uploadPayload(input: UploadInput): { payload: string; param: string } {
  const { certificate, content } = input;
  if (certificate !== undefined && content !== undefined && certificate !== content) {
    throw new ApiError('conflicting_parameters', 'Send the certificate in either `certificate` or `content`, not two different values.', 'certificate');
  }
  if (certificate !== undefined) return { payload: certificate, param: 'certificate' };
  if (content !== undefined) return { payload: content, param: 'content' };
  throw new ApiError('missing_required_parameter', "Missing required parameter: 'certificate'.", 'certificate');
}

export async function uploadCertificate(rt: Runtime, by: Actor, input: UploadInput): Promise<CertificateRecord> {
  const { payload, param } = uploadPayload(input);
  const facts = readTrustAnchor(payload, rt.now(), param);
  const name = input.name == null ? null : checkName(input.name, { required: false });
  const id = newId('cert');
  const record: CertificateRecord = {
    id,
    name,
    fingerprint: facts.fingerprint,
    content: facts.pem,
    validAt: Math.floor(facts.notBefore.getTime() / 1000),
    expiresAt: Math.floor(facts.notAfter.getTime() / 1000),
    createdAt: idSeconds(id),
    filterExpression: null,
    filterUpdatedAt: null,
    crl: null,
  };
  await rt.write(by, async (tx) => {
    checkNotDuplicate(await tx.certificateByFingerprint(record.fingerprint));
    checkCertificateLimit(await tx.certificateCount());
    await tx.insertCertificate(record);
    await recordAudit(tx, { type: 'certificate.created', resourceIds: [id], details: { id, name } });
  });
  return record;
}

export async function getCertificate(rt: Runtime, organizationId: string, id: string): Promise<CertificateRecord> {
  const snapshot = await rt.snapshot(organizationId);
  const found = snapshot.certificate(id);
  if (!found) throw certificateNotFound(id);
  return found;
}

export async function renameCertificate(rt: Runtime, by: Actor, id: string, name: string | null | undefined): Promise<CertificateRecord> {
  return rt.write(by, async (tx) => {
    const found = await tx.certificate(id);
    if (!found) throw certificateNotFound(id);
    const checked = name === undefined ? found.name : name === null ? null : checkName(name, { required: false });
    await tx.renameCertificate(id, checked);
    await recordAudit(tx, { type: 'certificate.updated', resourceIds: [id], details: { id, name: checked } });
    return { ...found, name: checked };
  });
}

export async function deleteCertificate(rt: Runtime, by: Actor, id: string): Promise<void> {
  await rt.write(by, async (tx) => {
    const found = await tx.certificate(id);
    if (!found) throw certificateNotFound(id);
    checkDeletable(id, await tx.activations([id]));
    await tx.deleteCertificate(id);
    await recordAudit(tx, { type: 'certificate.deleted', resourceIds: [id], details: { id, name: found.name, certificate: found.content } });
  });
}

/** One page of the organization's certificates, `active` as seen from a scope (ORGANIZATION_SCOPE or a project id). */
export function certificatePage(snapshot: OrganizationSnapshot, scope: string, page: PageRequest): Page<ScopedCertificate> {
  if (scope !== ORGANIZATION_SCOPE) requireUsableProject(scope, snapshot.project(scope));
  const active = snapshot.activeIn(scope);
  return paginate(snapshot.certificates, page, (certificate) => ({ certificate, active: active.has(certificate.id) }));
}

/** Activates or deactivates 1–10 certificates in a scope, all or nothing, idempotently. */
export async function setActive(
  rt: Runtime,
  by: Actor,
  scope: string,
  requestedIds: readonly string[],
  active: boolean,
): Promise<ScopedCertificate[]> {
  const ids = toggleIds(requestedIds);
  const now = rt.nowSeconds();
  return rt.write(by, async (tx) => {
    const project = scope === ORGANIZATION_SCOPE ? null : requireUsableProject(scope, await tx.project(scope));
    const found = new Map<string, CertificateRecord>();
    for (const id of ids) {
      const record = await tx.certificate(id);
      if (record) found.set(id, record);
    }
    const certificates = requireAll(ids, (id) => found.get(id));
    if (active) {
      for (const certificate of certificates) checkActivatable(certificate, now);
      await tx.activate(scope, ids, now);
    } else {
      await tx.deactivate(scope, ids);
    }
    await recordAudit(tx, {
      type: active ? 'certificates.activated' : 'certificates.deactivated',
      project,
      resourceIds: ids,
      details: { certificates: certificates.map((c) => ({ id: c.id, name: c.name })) },
    });
    return certificates.map((certificate) => ({ certificate, active }));
  });
}
