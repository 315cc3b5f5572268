import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../runtime.js';
import { listAuditLogs } from '../../services/audit-logs.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../../domain/pagination.js';
import { AUDIT_EVENT_TYPES } from '../../domain/audit.js';

// OpenAI's audit log (client.admin.organization.auditLogs.list). The SDK sends
// arrays as `name[]=…` and the time range as `effective_at[gt]=…`; a plain
// `name=…` is taken too.

const ids = { type: 'array', maxItems: 100, items: { type: 'string', maxLength: 200 } } as const;
const types = { type: 'array', maxItems: 100, items: { type: 'string', enum: [...AUDIT_EVENT_TYPES] } } as const;
const time = { type: 'integer', minimum: 0, maximum: 253402300799 } as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT },
    after: { type: 'string', maxLength: 200 },
    before: { type: 'string', maxLength: 200 },
    'effective_at[gt]': time,
    'effective_at[gte]': time,
    'effective_at[lt]': time,
    'effective_at[lte]': time,
    event_types: types,
    'event_types[]': types,
    project_ids: ids,
    'project_ids[]': ids,
    actor_ids: ids,
    'actor_ids[]': ids,
    resource_ids: ids,
    'resource_ids[]': ids,
    actor_emails: ids,
    'actor_emails[]': ids,
    tenant_only: { type: 'boolean' },
  },
} as const;

type ListQuery = {
  limit?: number;
  after?: string;
  before?: string;
  'effective_at[gt]'?: number;
  'effective_at[gte]'?: number;
  'effective_at[lt]'?: number;
  'effective_at[lte]'?: number;
} & Partial<Record<'event_types' | 'event_types[]' | 'project_ids' | 'project_ids[]' | 'actor_ids' | 'actor_ids[]' | 'resource_ids' | 'resource_ids[]' | 'actor_emails' | 'actor_emails[]', string[]>>;

const entrySchema = { type: 'object', additionalProperties: true } as const;
const pageSchema = {
  type: 'object',
  properties: {
    object: { type: 'string' },
    data: { type: 'array', items: entrySchema },
    first_id: { type: ['string', 'null'] },
    last_id: { type: ['string', 'null'] },
    has_more: { type: 'boolean' },
  },
} as const;

function both(q: ListQuery, name: 'event_types' | 'project_ids' | 'actor_ids' | 'resource_ids' | 'actor_emails'): string[] {
  return [...(q[name] ?? []), ...(q[`${name}[]`] ?? [])];
}

export function auditLogRoutes(app: FastifyInstance, rt: Runtime): void {
  app.get<{ Querystring: ListQuery }>(
    '/v1/organization/audit_logs',
    { config: { permission: 'api.audit_logs.read' }, schema: { querystring: listQuery, response: { 200: pageSchema } } },
    async (req) => {
      const q = req.query;
      const emails = both(q, 'actor_emails');
      const page = await listAuditLogs(rt, req.admin.organizationId, {
        effectiveAt: { gt: q['effective_at[gt]'], gte: q['effective_at[gte]'], lt: q['effective_at[lt]'], lte: q['effective_at[lte]'] },
        types: both(q, 'event_types'),
        projectIds: both(q, 'project_ids'),
        actorIds: both(q, 'actor_ids'),
        // in OpenAI's log, users' emails; certgate's actors are keys, which have none
        actorEmails: emails,
        resourceIds: both(q, 'resource_ids'),
        limit: q.limit ?? DEFAULT_LIMIT,
        after: q.after || undefined,
        before: q.before || undefined,
      });
      return { object: 'list', ...page };
    },
  );
}
