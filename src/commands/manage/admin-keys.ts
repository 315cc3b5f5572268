import type { Command } from 'commander';
import type { AdminAPIKeyCreateParams } from 'openai/resources/admin/organization/admin-api-keys';
import { CliError, collect, positiveInt, repeatable } from './context.js';
import type { Act } from './program.js';
import { fields, table, time } from './table.js';

// certgate admin-keys …: the keys of the admin API itself. `create --data-dir/--database-url` writes a new owner
// key straight into the store, for an operator locked out of the API.

interface KeyLike {
  id: string;
  name?: string | null;
  redacted_value: string;
  created_at: number;
  expires_at: number | null;
  last_used_at?: number | null;
  permissions?: readonly string[];
  value?: string;
}

const keyFields = (k: KeyLike) =>
  fields([
    ['id', k.id],
    ['name', k.name],
    ['key', k.value ?? k.redacted_value],
    ['permissions', k.permissions?.join(', ')],
    ['created', time(k.created_at)],
    ['expires', time(k.expires_at) ?? 'never'],
    ['last used', time(k.last_used_at)],
  ]) + (k.value ? '\nThe key is shown only this once; store it now.\n' : '');

export function registerAdminKeys(program: Command, act: Act): void {
  const keys = program.command('admin-keys').description('admin API keys and their permissions');

  keys
    .command('list')
    .description('list admin keys (redacted)')
    .option('--limit <n>', 'at most this many (default: all)', positiveInt('--limit'))
    .action(
      act<{ limit?: number }>(async (ctx, o) => {
        const client = await ctx.client();
        const items: KeyLike[] = await collect(client.admin.organization.adminAPIKeys.list({ limit: Math.min(o.limit ?? 100, 100) }), o.limit);
        ctx.print(items, () =>
          table(
            ['id', 'name', 'key', 'permissions', 'created', 'expires', 'last used'],
            items.map((k) => [k.id, k.name, k.redacted_value, k.permissions?.join(','), time(k.created_at), time(k.expires_at) ?? 'never', time(k.last_used_at)]),
          ),
        );
      }),
    );

  keys
    .command('get')
    .description('show one admin key (redacted)')
    .argument('<id>', 'key id (key_…)')
    .action(
      act(async (ctx, _o, id: string) => {
        const key: KeyLike = await (await ctx.client()).admin.organization.adminAPIKeys.retrieve(id);
        ctx.print(key, () => keyFields(key));
      }),
    );

  keys
    .command('create')
    .description('create an admin key and print it once; with --data-dir or --database-url, an owner key written to the store directly (no server)')
    .option('--name <name>', "its name (required through the API; with --data-dir or --database-url, 'recovery owner key' when absent)")
    .option('--expires-in <seconds>', 'it stops working this many seconds from now', positiveInt('--expires-in'))
    .option('--permission <name>', 'a permission (repeat it; default: all, an owner key): api.mtls.read, api.mtls.write, api.management.read, api.management.write, api.audit_logs.read', repeatable)
    .option('--data-dir <dir>', 'write to this SQLite store directly (for a locked-out operator)')
    .option('--database-url <url>', 'write to this PostgreSQL store directly')
    .action(
      act<{ name?: string; expiresIn?: number; permission?: string[]; dataDir?: string; databaseUrl?: string }>(async (ctx, o) => {
        if (o.dataDir !== undefined || o.databaseUrl !== undefined) {
          if (o.dataDir !== undefined && o.databaseUrl !== undefined) throw new CliError('give --data-dir or --database-url, not both');
          const { createKeyInStore } = await import('./admin-keys-offline.js');
          const created = await createKeyInStore({ dataDir: o.dataDir, databaseUrl: o.databaseUrl }, { name: o.name ?? 'recovery owner key', expiresInSeconds: o.expiresIn, permissions: o.permission });
          ctx.print(created, () => keyFields(created));
          return;
        }
        if (o.name === undefined) throw new CliError("required option '--name <name>' not specified");
        // `permissions` is certgate's extension: the SDK's type does not know it, and passes it through as given.
        const body = {
          name: o.name,
          ...(o.expiresIn !== undefined ? { expires_in_seconds: o.expiresIn } : {}),
          ...(o.permission ? { permissions: o.permission } : {}),
        } as AdminAPIKeyCreateParams;
        const key: KeyLike = await (await ctx.client()).admin.organization.adminAPIKeys.create(body);
        ctx.print(key, () => keyFields(key));
      }),
    );

  keys
    .command('delete')
    .description('delete an admin key (it stops working at once; the last owner key cannot be deleted)')
    .argument('<id>', 'key id')
    .action(
      act(async (ctx, _o, id: string) => {
        const deleted = await (await ctx.client()).admin.organization.adminAPIKeys.delete(id);
        ctx.print(deleted, () => `deleted ${deleted.id}\n`);
      }),
    );
}
