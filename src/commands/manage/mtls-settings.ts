import type { Command } from 'commander';
import { CliError } from './context.js';
import type { Act } from './program.js';
import { fields, time } from './table.js';

// certgate mtls-settings get|set [--project ID]: enforce or observe, per scope (certgate extension).

interface Settings {
  mode: string;
  inherited?: boolean;
  would_refuse: number;
  admitted: number;
  since: number | null;
}

const path = (project?: string) => (project ? `/organization/projects/${encodeURIComponent(project)}/mtls_settings` : '/organization/mtls_settings');

const settingsFields = (s: Settings, project?: string) =>
  fields([
    ['scope', project ?? 'organization'],
    ['mode', s.inherited ? `${s.mode} (follows the organization)` : s.mode],
    ['would refuse', s.would_refuse],
    ['admitted', s.admitted],
    ['counted since', time(s.since)],
  ]);

export function registerMtlsSettings(program: Command, act: Act): void {
  const settings = program.command('mtls-settings').description('enforce or observe mTLS, for the organization or one project');

  settings
    .command('get')
    .description('show the mode and, in observe mode, what would have been refused')
    .option('--project <id>', 'a project\'s setting')
    .action(
      act<{ project?: string }>(async (ctx, o) => {
        const s = await ctx.request<Settings>('get', path(o.project));
        ctx.print(s, () => settingsFields(s, o.project));
      }),
    );

  settings
    .command('set')
    .description('set the mode: enforce, observe, or (for a project) inherit to follow the organization')
    .argument('<mode>', 'enforce | observe | inherit')
    .option('--project <id>', 'a project\'s setting')
    .action(
      act<{ project?: string }>(async (ctx, o, mode: string) => {
        const allowed = o.project ? ['enforce', 'observe', 'inherit'] : ['enforce', 'observe'];
        if (!allowed.includes(mode)) throw new CliError(`mode must be one of ${allowed.join(', ')}, got ${JSON.stringify(mode)}`);
        const s = await ctx.request<Settings>('post', path(o.project), { mode: mode === 'inherit' ? null : mode });
        ctx.print(s, () => settingsFields(s, o.project));
      }),
    );
}
