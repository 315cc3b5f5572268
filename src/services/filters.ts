import type { Actor } from '../domain/model.js';
import { certificateNotFound } from '../domain/certificates.js';
import { ApiError } from '../domain/errors.js';
import { compileFilter, FilterInvalid } from '../domain/checks/filter.js';
import type { CertificateRecord } from '../domain/model.js';
import type { Runtime } from '../runtime.js';
import { recordAudit } from './audit-logs.js';

// A trust anchor's filter, OpenAI's CEL restriction on which verified client
// certificates the anchor accepts. OpenAI sets it in its console; certgate
// offers it as an extension endpoint beside the certificate.

export interface CertificateFilter {
  readonly certificateId: string;
  readonly expression: string | null;
  readonly updatedAt: number | null;
}

const asFilter = (c: CertificateRecord): CertificateFilter => ({ certificateId: c.id, expression: c.filterExpression, updatedAt: c.filterUpdatedAt });

export async function getFilter(rt: Runtime, organizationId: string, certificateId: string): Promise<CertificateFilter> {
  const found = (await rt.snapshot(organizationId)).certificate(certificateId);
  if (!found) throw certificateNotFound(certificateId, 'certificate_id');
  return asFilter(found);
}

/** Sets (a string) or removes (null) the filter; an expression that does not compile is refused and nothing changes. */
export async function setFilter(rt: Runtime, by: Actor, certificateId: string, expression: string | null): Promise<CertificateFilter> {
  if (expression !== null) {
    try {
      compileFilter(expression);
    } catch (err) {
      if (err instanceof FilterInvalid) throw new ApiError('mtls_cel_policy_invalid', err.message, 'expression');
      throw err;
    }
  }
  const now = rt.nowSeconds();
  return rt.write(by, async (tx) => {
    const found = await tx.certificate(certificateId);
    if (!found) throw certificateNotFound(certificateId, 'certificate_id');
    await tx.setFilter(certificateId, expression, now);
    await recordAudit(
      tx,
      expression === null
        ? { type: 'certificate.filter.deleted', resourceIds: [certificateId], details: { id: certificateId, name: found.name } }
        : { type: 'certificate.filter.updated', resourceIds: [certificateId], details: { id: certificateId, name: found.name, expression } },
    );
    return { certificateId, expression, updatedAt: now };
  });
}
