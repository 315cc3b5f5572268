import type { Command } from 'commander';
import type { AuditLogListParams } from 'openai/resources/admin/organization/audit-logs';
import { collect, instant, positiveInt, repeatable } from './context.js';
import type { Act } from './program.js';
import { table, time } from './table.js';

// certgate audit-logs list: who changed what, newest first.

interface EventLike {
  id: string;
  type: string;
  effective_at: number;
  actor?: { type?: string; api_key?: { id?: string; name?: string | null }; session?: { user?: { email?: string; id?: string } } };
  project?: { id?: string; name?: string | null };
  [payload: string]: unknown;
}

function actorOf(e: EventLike): string | undefined {
  const key = e.actor?.api_key;
  if (key) return key.name ? `${key.name} (${key.id})` : key.id;
  return e.actor?.session?.user?.email ?? e.actor?.session?.user?.id ?? e.actor?.type;
}

/** The ids the event is about: its payload's id, or the certificates of an activation. */
function resourceOf(e: EventLike): string | undefined {
  const payload = e[e.type] as { id?: string; certificates?: { id: string }[] } | undefined;
  if (!payload || typeof payload !== 'object') return undefined;
  if (Array.isArray(payload.certificates)) return payload.certificates.map((c) => c.id).join(',');
  return payload.id;
}

export function registerAuditLogs(program: Command, act: Act): void {
  const logs = program.command('audit-logs').description('the audit log: every change, with the key that made it');

  logs
    .command('list')
    .description('list events, newest first')
    .option('--type <type>', 'only this event type, e.g. certificates.activated (repeatable)', repeatable)
    .option('--project <id>', 'only events in this project (repeatable)', repeatable)
    .option('--actor <id>', 'only events by this admin key id (repeatable)', repeatable)
    .option('--resource <id>', 'only events about this resource id (repeatable)', repeatable)
    .option('--since <time>', 'from this time on (Unix seconds or ISO time, inclusive)', instant('--since'))
    .option('--until <time>', 'up to this time (Unix seconds or ISO time, inclusive)', instant('--until'))
    .option('--limit <n>', 'at most this many', positiveInt('--limit'), 100)
    .action(
      act<{ type?: string[]; project?: string[]; actor?: string[]; resource?: string[]; since?: number; until?: number; limit: number }>(async (ctx, o) => {
        const query: AuditLogListParams = { limit: Math.min(o.limit, 100) };
        if (o.type) query.event_types = o.type as NonNullable<AuditLogListParams['event_types']>;
        if (o.project) query.project_ids = o.project;
        if (o.actor) query.actor_ids = o.actor;
        if (o.resource) query.resource_ids = o.resource;
        if (o.since !== undefined || o.until !== undefined) {
          query.effective_at = { ...(o.since !== undefined ? { gte: o.since } : {}), ...(o.until !== undefined ? { lte: o.until } : {}) };
        }
        const client = await ctx.client();
        const items = (await collect(client.admin.organization.auditLogs.list(query), o.limit)) as unknown as EventLike[];
        ctx.print(items, () =>
          table(
            ['time', 'type', 'actor', 'project', 'resource', 'id'],
            items.map((e) => [time(e.effective_at), e.type, actorOf(e), e.project?.id, resourceOf(e), e.id]),
          ),
        );
      }),
    );
}
