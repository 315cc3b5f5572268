import type { Kysely } from 'kysely';
import type { AuditEntry } from '../domain/audit.js';
import type { Database } from './schema.js';
import type { AuditQuery, AuditRecord } from './store.js';
import { inTransaction, type Conn, type Engine } from './engine.js';

// The audit log's rows: each event kept as the services composed it (its body, the object the API returns) with the
// columns it is filtered by, read newest first, and pruned oldest first.

/** Keeps one audit event, inside the write transaction whose change it records. */
export async function appendAudit(conn: Conn, organizationId: string, record: AuditRecord): Promise<void> {
  const { entry } = record;
  await conn
    .insertInto('audit_logs')
    .values({
      id: entry.id,
      organization_id: organizationId,
      type: entry.type,
      effective_at: entry.effective_at,
      actor_id: record.actorId,
      project_id: record.projectId,
      body: JSON.stringify(entry),
    })
    .execute();
  if (record.resourceIds.length) {
    await conn
      .insertInto('audit_log_resources')
      .values(record.resourceIds.map((resource_id) => ({ audit_log_id: entry.id, resource_id })))
      .execute();
  }
}

export async function auditLogs(db: Kysely<Database>, organizationId: string, q: AuditQuery): Promise<AuditEntry[]> {
  let query = db.selectFrom('audit_logs').select(['id', 'body']).where('organization_id', '=', organizationId);
  const t = q.effectiveAt;
  if (t.gt !== undefined) query = query.where('effective_at', '>', t.gt);
  if (t.gte !== undefined) query = query.where('effective_at', '>=', t.gte);
  if (t.lt !== undefined) query = query.where('effective_at', '<', t.lt);
  if (t.lte !== undefined) query = query.where('effective_at', '<=', t.lte);
  if (q.types.length) query = query.where('type', 'in', q.types);
  if (q.projectIds.length) query = query.where('project_id', 'in', q.projectIds);
  if (q.actorIds.length) query = query.where('actor_id', 'in', q.actorIds);
  if (q.resourceIds.length) {
    const ids = q.resourceIds;
    query = query.where('id', 'in', (eb) => eb.selectFrom('audit_log_resources').select('audit_log_id').where('resource_id', 'in', ids));
  }
  // Ids grow with time: newest first is by id descending; `before` walks back towards the newest.
  if (q.after !== undefined) query = query.where('id', '<', q.after);
  if (q.before !== undefined) {
    const rows = await query.where('id', '>', q.before).orderBy('id', 'asc').limit(q.limit + 1).execute();
    return rows.reverse().map((r) => JSON.parse(r.body) as AuditEntry);
  }
  const rows = await query.orderBy('id', 'desc').limit(q.limit + 1).execute();
  return rows.map((r) => JSON.parse(r.body) as AuditEntry);
}

export function pruneAuditLogs(engine: Engine, organizationId: string, olderThan: number, batch: number): Promise<number> {
  return inTransaction(engine, engine.beginWrite, async (conn) => {
    // the oldest by id (ids grow with time: an index walk, however long the log), then only those past retention
    const oldest = await conn.selectFrom('audit_logs').select(['id', 'effective_at']).where('organization_id', '=', organizationId).orderBy('id', 'asc').limit(batch).execute();
    const ids: string[] = [];
    for (const row of oldest) {
      if (Number(row.effective_at) >= olderThan) break;
      ids.push(row.id);
    }
    if (ids.length === 0) return 0;
    await conn.deleteFrom('audit_log_resources').where('audit_log_id', 'in', ids).execute();
    await conn.deleteFrom('audit_logs').where('id', 'in', ids).execute();
    return ids.length;
  });
}
