import { Command, CommanderError } from 'commander';
import { CliError, describeFailure, makeCtx, type Ctx, type GlobalOptions, type Io } from './context.js';
import { registerAdminKeys } from './admin-keys.js';
import { registerAuditLogs } from './audit-logs.js';
import { registerCertificates } from './certificates.js';
import { registerMtlsSettings } from './mtls-settings.js';
import { registerProjects } from './projects.js';
import { registerServiceAccounts } from './service-accounts.js';
import { packageVersion } from '../../package.js';

// The management commands: one more client of the admin API, through the official SDK.

/** Turns a command's implementation into commander's action: (arguments…, options, command). */
export type Act = <O extends object>(fn: (ctx: Ctx, options: O & GlobalOptions, ...args: any[]) => Promise<void>) => (...params: any[]) => Promise<void>;

export function buildProgram(io: Io): Command {
  const program = new Command('certgate')
    .description('certgate: OpenAI\'s Certificates admin API and an mTLS gateway, self-hosted')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .option('--base-url <url>', 'the admin API with its /v1 (default: OPENAI_BASE_URL, else http://127.0.0.1:8080/v1)')
    .option('--api-key <key>', 'an admin key (default: OPENAI_ADMIN_KEY)')
    .option('--json', 'print the raw API objects as JSON (lists: one JSON array)')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.addHelpText('after', '\nEach command has its own --help, e.g. `certgate certificates upload --help`.\nExit status: 0 done, 1 the server refused or failed, 2 bad usage.\n');

  // The servers are run by cli.ts before this program loads; they are listed here for --help.
  program.command('serve').description('run the admin API (see `certgate serve --help`)');
  program.command('gateway').description('run the mTLS gateway (see `certgate gateway --help`)');
  program.command('decide').description('run the decision service for an ingress\'s forward-auth (see `certgate decide --help`)');
  program.command('verify').description('explain whether a client certificate would be accepted (see `certgate verify --help`)');
  program.command('backup').description('copy a running SQLite store to a file (see `certgate backup --help`)');
  program.command('restore').description('put a backup in place of a stopped SQLite store (see `certgate restore --help`)');

  const act: Act = (fn) =>
    async (...params: any[]) => {
      const command = params[params.length - 1] as Command;
      const options = command.optsWithGlobals();
      await fn(makeCtx(io, options), options as any, ...params.slice(0, -2));
    };
  registerCertificates(program, act);
  registerProjects(program, act);
  registerServiceAccounts(program, act);
  registerAdminKeys(program, act);
  registerAuditLogs(program, act);
  registerMtlsSettings(program, act);
  return program;
}

/** Runs a management command; the exit status is returned, never taken (cli.ts exits). */
export async function runManage(argv: readonly string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2; // commander has printed the message or help
    if (err instanceof CliError) {
      io.err(`certgate: ${err.message}\n`);
      return err.exitCode;
    }
    const failure = await describeFailure(err);
    if (failure === undefined) throw err;
    io.err(`certgate: ${failure}\n`);
    return 1;
  }
}
