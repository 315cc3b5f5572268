import { ApiError } from './errors.js';
import { shownId } from './ids.js';
import { ORGANIZATION_SCOPE, type ActivationRecord, type CertificateRecord } from './model.js';

// The certificate, activation and deletion rules, free of I/O.

export const MAX_CERTIFICATES_PER_ORGANIZATION = 50;
export const MAX_TOGGLE_IDS = 10;

export function checkCertificateLimit(currentCount: number): void {
  if (currentCount >= MAX_CERTIFICATES_PER_ORGANIZATION) {
    throw new ApiError(
      'certificate_limit_reached',
      `The organization already holds ${MAX_CERTIFICATES_PER_ORGANIZATION} certificates, the most it may have. Delete one that is no longer needed before uploading another.`,
    );
  }
}

export function checkNotDuplicate(existing: CertificateRecord | undefined): void {
  if (existing) {
    throw new ApiError('duplicate_certificate', `This certificate has already been uploaded to the organization as ${existing.id}.`, 'certificate');
  }
}

/** The ids of an activate/deactivate call: 1 to 10 as sent, then duplicates folded, request order kept. */
export function toggleIds(ids: readonly string[]): string[] {
  if (ids.length < 1 || ids.length > MAX_TOGGLE_IDS) {
    throw new ApiError('invalid_value', `certificate_ids must hold between 1 and ${MAX_TOGGLE_IDS} certificate ids; it holds ${ids.length}.`, 'certificate_ids');
  }
  return [...new Set(ids)];
}

export function certificateNotFound(id: string, param: string | null = null): ApiError {
  return new ApiError('certificate_not_found', `No certificate with id ${shownId('cert', id)} exists in this organization.`, param);
}

/** All-or-nothing: the first unknown id refuses the whole batch. */
export function requireAll(ids: readonly string[], lookup: (id: string) => CertificateRecord | undefined): CertificateRecord[] {
  return ids.map((id) => {
    const found = lookup(id);
    if (!found) throw certificateNotFound(id, 'certificate_ids');
    return found;
  });
}

export function checkActivatable(certificate: CertificateRecord, nowSeconds: number): void {
  if (certificate.expiresAt <= nowSeconds) {
    throw new ApiError(
      'expired_certificate',
      `Certificate ${certificate.id} expired at ${new Date(certificate.expiresAt * 1000).toISOString()} and cannot be activated.`,
      'certificate_ids',
    );
  }
}

export function checkDeletable(certificateId: string, activations: readonly ActivationRecord[]): void {
  const scopes = activations.filter((a) => a.certificateId === certificateId).map((a) => a.scope);
  if (scopes.length === 0) return;
  const named = scopes
    .sort((a, b) => (a === ORGANIZATION_SCOPE ? -1 : b === ORGANIZATION_SCOPE ? 1 : a.localeCompare(b)))
    .map((s) => (s === ORGANIZATION_SCOPE ? 'the organization' : `project ${s}`));
  throw new ApiError(
    'certificate_in_use',
    `Certificate ${certificateId} is still active for ${named.join(', ')}. Deactivate it everywhere before deleting it.`,
  );
}
