import type { Command } from 'commander';
import { collect, positiveInt } from './context.js';
import type { Act } from './program.js';
import { fields, table, time } from './table.js';

// certgate projects …: the scopes certificates are activated for.

interface ProjectLike {
  id: string;
  name?: string | null;
  status?: string | null;
  created_at: number;
  archived_at?: number | null;
  external_key_id?: string | null;
}

const projectFields = (p: ProjectLike) =>
  fields([['id', p.id], ['name', p.name], ['status', p.status], ['created', time(p.created_at)], ['archived', time(p.archived_at)], ['external key', p.external_key_id]]);

export function registerProjects(program: Command, act: Act): void {
  const projects = program.command('projects').description('projects: the scopes below the organization');

  projects
    .command('list')
    .description('list projects')
    .option('--include-archived', 'archived projects too')
    .option('--limit <n>', 'at most this many (default: all)', positiveInt('--limit'))
    .action(
      act<{ includeArchived?: boolean; limit?: number }>(async (ctx, o) => {
        const client = await ctx.client();
        const items = await collect(
          client.admin.organization.projects.list({ limit: Math.min(o.limit ?? 100, 100), ...(o.includeArchived ? { include_archived: true } : {}) }),
          o.limit,
        );
        ctx.print(items, () => table(['id', 'name', 'status', 'created'], items.map((p) => [p.id, p.name, p.status, time(p.created_at)])));
      }),
    );

  projects
    .command('get')
    .description('show one project')
    .argument('<id>', 'project id (proj_…)')
    .action(
      act(async (ctx, _o, id: string) => {
        const project = await (await ctx.client()).admin.organization.projects.retrieve(id);
        ctx.print(project, () => projectFields(project));
      }),
    );

  projects
    .command('create')
    .description('create a project')
    .requiredOption('--name <name>', 'its name')
    .option('--external-key-id <id>', 'an external key id, kept as given')
    .action(
      act<{ name: string; externalKeyId?: string }>(async (ctx, o) => {
        const project = await (await ctx.client()).admin.organization.projects.create({ name: o.name, ...(o.externalKeyId ? { external_key_id: o.externalKeyId } : {}) });
        ctx.print(project, () => projectFields(project));
      }),
    );

  projects
    .command('update')
    .description('rename a project')
    .argument('<id>', 'project id')
    .requiredOption('--name <name>', 'the new name')
    .action(
      act<{ name: string }>(async (ctx, o, id: string) => {
        const project = await (await ctx.client()).admin.organization.projects.update(id, { name: o.name });
        ctx.print(project, () => projectFields(project));
      }),
    );

  projects
    .command('archive')
    .description('archive a project')
    .argument('<id>', 'project id')
    .action(
      act(async (ctx, _o, id: string) => {
        const project = await (await ctx.client()).admin.organization.projects.archive(id);
        ctx.print(project, () => projectFields(project));
      }),
    );
}
