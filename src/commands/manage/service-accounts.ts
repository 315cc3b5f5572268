import type { Command } from 'commander';
import { collect, positiveInt } from './context.js';
import type { Act } from './program.js';
import { fields, table, time } from './table.js';

// certgate service-accounts … --project ID: a project's service accounts, whose keys the gateway resolves.

export function registerServiceAccounts(program: Command, act: Act): void {
  const accounts = program.command('service-accounts').description('a project\'s service accounts (every subcommand takes --project)');
  const project = ['--project <id>', 'the project (proj_…)'] as const;

  accounts
    .command('list')
    .description('list a project\'s service accounts')
    .requiredOption(...project)
    .option('--limit <n>', 'at most this many (default: all)', positiveInt('--limit'))
    .action(
      act<{ project: string; limit?: number }>(async (ctx, o) => {
        const client = await ctx.client();
        const items = await collect(client.admin.organization.projects.serviceAccounts.list(o.project, { limit: Math.min(o.limit ?? 100, 100) }), o.limit);
        ctx.print(items, () => table(['id', 'name', 'role', 'created'], items.map((a) => [a.id, a.name, a.role, time(a.created_at)])));
      }),
    );

  accounts
    .command('get')
    .description('show one service account')
    .argument('<id>', 'service account id')
    .requiredOption(...project)
    .action(
      act<{ project: string }>(async (ctx, o, id: string) => {
        const a = await (await ctx.client()).admin.organization.projects.serviceAccounts.retrieve(id, { project_id: o.project });
        ctx.print(a, () => fields([['id', a.id], ['name', a.name], ['role', a.role], ['created', time(a.created_at)]]));
      }),
    );

  accounts
    .command('create')
    .description('create a service account and its API key (the key is shown only this once)')
    .requiredOption(...project)
    .requiredOption('--name <name>', 'its name')
    .action(
      act<{ project: string; name: string }>(async (ctx, o) => {
        const a = await (await ctx.client()).admin.organization.projects.serviceAccounts.create(o.project, { name: o.name });
        ctx.print(a, () =>
          fields([['id', a.id], ['name', a.name], ['role', a.role], ['created', time(a.created_at)], ['api key id', a.api_key?.id], ['api key', a.api_key?.value]]) +
          (a.api_key ? '\nThe API key is shown only this once; store it now.\n' : ''),
        );
      }),
    );

  accounts
    .command('delete')
    .description('delete a service account (its key stops working)')
    .argument('<id>', 'service account id')
    .requiredOption(...project)
    .action(
      act<{ project: string }>(async (ctx, o, id: string) => {
        const deleted = await (await ctx.client()).admin.organization.projects.serviceAccounts.delete(id, { project_id: o.project });
        ctx.print(deleted, () => `deleted ${deleted.id}\n`);
      }),
    );
}
