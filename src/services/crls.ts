import type { Actor } from '../domain/model.js';
import { certificateNotFound } from '../domain/certificates.js';
import { ApiError } from '../domain/errors.js';
import type { CrlRecord } from '../domain/model.js';
import { readCertificate } from '../domain/x509/certificate.js';
import { readCrl, signatureAlgorithmAccepted, signedBy } from '../domain/x509/crl.js';
import { pemBlocks, toPem } from '../domain/x509/pem.js';
import type { Runtime } from '../runtime.js';
import { recordAudit } from './audit-logs.js';

// An anchor's certificate revocation list (a certgate extension; OpenAI checks no revocation). Accepted only when
// the anchor signed it and it is not older than the one stored; enforced by every gateway as soon as the change
// is seen, like an activation.

export interface CertificateCrl {
  readonly certificateId: string;
  readonly crl: CrlRecord | null;
  /** when it was last set or removed (removal keeps no row, so only the DELETE answer carries it) */
  readonly updatedAt: number | null;
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

export async function getCrl(rt: Runtime, organizationId: string, certificateId: string): Promise<CertificateCrl> {
  const found = (await rt.snapshot(organizationId)).certificate(certificateId);
  if (!found) throw certificateNotFound(certificateId, 'certificate_id');
  return { certificateId, crl: found.crl, updatedAt: found.crl?.updatedAt ?? null };
}

export async function putCrl(rt: Runtime, by: Actor, certificateId: string, text: string): Promise<CertificateCrl> {
  const crl = readCrl(text);
  const current = (await rt.snapshot(by.organizationId)).certificate(certificateId);
  if (!current) throw certificateNotFound(certificateId, 'certificate_id');
  if (!signatureAlgorithmAccepted(crl)) {
    throw new ApiError('crl_invalid', `The CRL is signed with an algorithm certgate does not accept (${crl.signatureAlgorithm}): use RSA or ECDSA with SHA-256 or stronger, or Ed25519.`, 'crl');
  }
  let anchor: ReturnType<typeof readCertificate>;
  try {
    anchor = readCertificate(pemBlocks(current.content)[0]!.der);
  } catch (err) {
    throw new ApiError('crl_invalid', `Certificate ${certificateId} cannot be read by this version of certgate (${(err as Error).message}), so no CRL can be checked against it: upload the anchor again.`, 'crl');
  }
  if (!(await signedBy(crl, anchor))) {
    throw new ApiError('crl_invalid', `The CRL is not issued and signed by certificate ${certificateId}: it must carry the anchor's name and verify with its key.`, 'crl');
  }
  const now = rt.nowSeconds();
  const record: CrlRecord = {
    content: toPem('X509 CRL', crl.der),
    thisUpdate: seconds(crl.thisUpdate),
    nextUpdate: crl.nextUpdate ? seconds(crl.nextUpdate) : null,
    revokedCount: crl.revoked.size,
    updatedAt: now,
  };
  return rt.write(by, async (tx) => {
    const found = await tx.certificate(certificateId);
    if (!found) throw certificateNotFound(certificateId, 'certificate_id');
    const stored = await tx.crl(certificateId);
    if (stored && record.thisUpdate < stored.thisUpdate) {
      throw new ApiError(
        'crl_invalid',
        `The CRL was issued at ${crl.thisUpdate.toISOString()}, before the one already stored (${new Date(stored.thisUpdate * 1000).toISOString()}); send a newer one.`,
        'crl',
      );
    }
    await tx.setCrl(certificateId, record);
    await recordAudit(tx, {
      type: 'certificate.crl.updated',
      resourceIds: [certificateId],
      details: { id: certificateId, name: found.name, this_update: record.thisUpdate, next_update: record.nextUpdate, revoked_count: record.revokedCount },
    });
    return { certificateId, crl: record, updatedAt: now };
  });
}

export async function deleteCrl(rt: Runtime, by: Actor, certificateId: string): Promise<CertificateCrl> {
  const now = rt.nowSeconds();
  return rt.write(by, async (tx) => {
    const found = await tx.certificate(certificateId);
    if (!found) throw certificateNotFound(certificateId, 'certificate_id');
    await tx.setCrl(certificateId, null);
    await recordAudit(tx, { type: 'certificate.crl.deleted', resourceIds: [certificateId], details: { id: certificateId, name: found.name } });
    return { certificateId, crl: null, updatedAt: now };
  });
}
