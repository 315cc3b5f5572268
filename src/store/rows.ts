import type { Generated } from 'kysely';
import type { AdminKeyRecord, CertificateRecord, CrlRecord, Permission, ProjectRecord, ServiceAccountRecord } from '../domain/model.js';
import type { Database } from './schema.js';

// Rows as the database gives them, turned into the domain's records (numbers as numbers, JSON read).

export type Row<T extends keyof Database> = { [K in keyof Database[T]]: Database[T][K] extends Generated<infer U> ? U : Database[T][K] };

export function toCertificate(r: Row<'certificates'>): CertificateRecord {
  return {
    id: r.id,
    name: r.name,
    fingerprint: r.fingerprint,
    content: r.content,
    validAt: Number(r.valid_at),
    expiresAt: Number(r.expires_at),
    createdAt: Number(r.created_at),
    filterExpression: r.filter_expression,
    filterUpdatedAt: r.filter_updated_at === null ? null : Number(r.filter_updated_at),
    crl: null,
  };
}

export function toAdminKey(r: Row<'admin_api_keys'>): AdminKeyRecord {
  return {
    id: r.id,
    name: r.name,
    redactedValue: r.redacted_value,
    createdAt: Number(r.created_at),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
    permissions: r.permissions === null ? null : (JSON.parse(r.permissions) as Permission[]),
  };
}

export function toCrl(r: Row<'certificate_crls'>): CrlRecord {
  return {
    content: r.content,
    thisUpdate: Number(r.this_update),
    nextUpdate: r.next_update === null ? null : Number(r.next_update),
    revokedCount: Number(r.revoked_count),
    updatedAt: Number(r.updated_at),
  };
}

export function toProject(r: Row<'projects'>): ProjectRecord {
  return {
    id: r.id,
    name: r.name,
    externalKeyId: r.external_key_id,
    createdAt: Number(r.created_at),
    archivedAt: r.archived_at === null ? null : Number(r.archived_at),
  };
}

export function toServiceAccount(r: Row<'service_accounts'>): ServiceAccountRecord {
  return { id: r.id, projectId: r.project_id, name: r.name, role: r.role, createdAt: Number(r.created_at) };
}
