import { auditEntry, type AuditEntry, type AuditEvent } from '../domain/audit.js';
import { ApiError } from '../domain/errors.js';
import { isId, newId } from '../domain/ids.js';
import { MAX_LIMIT } from '../domain/pagination.js';
import type { Runtime } from '../runtime.js';
import type { AuditQuery, WriteTransaction } from '../store/store.js';

/**
 * Records the audit event of a change made in `tx`, which commits or rolls back with it: the services say what an
 * event contains. Its id (audit_log_…, growing with time: the log's order), its time (the transaction's), its actor
 * (the transaction's, as OpenAI shows one) and the columns it is filtered by are decided here; the store keeps it.
 */
export function recordAudit(tx: WriteTransaction, event: AuditEvent): Promise<void> {
  return tx.appendAudit({
    entry: auditEntry(newId('audit_log'), tx.now, tx.actor, event),
    actorId: tx.actor.key?.id ?? null,
    projectId: event.project?.id ?? null,
    resourceIds: [...new Set(event.resourceIds)],
  });
}

export interface AuditPage {
  readonly data: AuditEntry[];
  readonly first_id: string | null;
  readonly last_id: string | null;
  readonly has_more: boolean;
}

const RESOURCE_PREFIXES = ['cert', 'proj', 'svc_acct', 'key'] as const;

function isResourceId(id: string): boolean {
  return RESOURCE_PREFIXES.some((prefix) => isId(prefix, id));
}

/** One page of the audit log, newest first. */
export async function listAuditLogs(rt: Runtime, organizationId: string, query: AuditQuery): Promise<AuditPage> {
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_LIMIT) {
    throw new ApiError('invalid_value', `limit must be an integer between 1 and ${MAX_LIMIT}.`, 'limit');
  }
  if (query.after !== undefined && query.before !== undefined) {
    throw new ApiError('conflicting_parameters', 'Send either `after` or `before`, not both.', 'before');
  }
  for (const [param, cursor] of [['after', query.after], ['before', query.before]] as const) {
    if (cursor !== undefined && !isId('audit_log', cursor)) throw new ApiError('invalid_value', `${param} must be the id of an audit log entry (audit_log_…).`, param);
  }
  // A filter value certgate cannot have made matches nothing, and never reaches the driver
  // (PostgreSQL refuses a NUL byte where SQLite would just find no row).
  const projectIds = query.projectIds.filter((id) => isId('proj', id));
  const actorIds = query.actorIds.filter((id) => isId('key', id));
  const resourceIds = query.resourceIds.filter(isResourceId);
  const matchesNothing =
    (query.actorEmails?.length ?? 0) > 0 ||
    (query.projectIds.length > 0 && projectIds.length === 0) ||
    (query.actorIds.length > 0 && actorIds.length === 0) ||
    (query.resourceIds.length > 0 && resourceIds.length === 0);
  if (matchesNothing) return { data: [], first_id: null, last_id: null, has_more: false };
  const rows = await rt.store.auditLogs(organizationId, { ...query, projectIds, actorIds, resourceIds });
  const hasMore = rows.length > query.limit;
  // `before` reads towards the newest: the extra row, if any, is the newest one
  const data = hasMore ? (query.before !== undefined ? rows.slice(1) : rows.slice(0, query.limit)) : rows;
  return { data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore };
}
