import type { Actor } from './model.js';

// The audit log's events: OpenAI's type names and payloads where OpenAI has
// them, certgate's own names for its extensions. An event is composed here,
// once, into the object the API returns; the store keeps that object as is.

export const AUDIT_EVENT_TYPES = [
  'certificate.created',
  'certificate.updated',
  'certificate.deleted',
  'certificates.activated',
  'certificates.deactivated',
  'certificate.filter.updated',
  'certificate.filter.deleted',
  'certificate.crl.updated',
  'certificate.crl.deleted',
  'mtls_settings.updated',
  'project.created',
  'project.updated',
  'project.archived',
  'service_account.created',
  'service_account.updated',
  'service_account.deleted',
  'api_key.created',
  'api_key.deleted',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** What a change says about itself; the actor and time are added by the transaction that records it. */
export interface AuditEvent {
  readonly type: AuditEventType;
  /** the project the change was scoped to, if any */
  readonly project?: { readonly id: string; readonly name: string } | null | undefined;
  /** every resource the change touched, for the resource_ids filter */
  readonly resourceIds: readonly string[];
  /** the payload under the event's type key */
  readonly details: Record<string, unknown>;
}

export interface AuditEntry {
  readonly id: string;
  readonly type: AuditEventType;
  readonly effective_at: number;
  readonly actor: Record<string, unknown>;
  readonly project?: { readonly id: string; readonly name: string };
  readonly [details: string]: unknown;
}

/** The actor as OpenAI's audit log shows one; a key is named by id, name and redacted value, never its secret. */
export function actorObject(actor: Actor): Record<string, unknown> {
  if (actor.key) {
    return {
      type: 'api_key',
      api_key: { id: actor.key.id, type: 'user', name: actor.key.name, redacted_value: actor.key.redactedValue },
    };
  }
  return { type: 'session', session: { user: { id: 'local', email: null }, ip_address: null, local: actor.local ?? 'certgate' } };
}

export function auditEntry(id: string, effectiveAt: number, actor: Actor, event: AuditEvent): AuditEntry {
  return {
    id,
    type: event.type,
    effective_at: effectiveAt,
    actor: actorObject(actor),
    ...(event.project ? { project: { id: event.project.id, name: event.project.name } } : {}),
    [event.type]: event.details,
  };
}
