import type { Command } from 'commander';
import { CliError, collect, positiveInt, readInput, type Ctx } from './context.js';
import type { Act } from './program.js';
import { expiry, fields, table, time } from './table.js';

// certgate certificates …: OpenAI's Certificates API through the SDK, and certgate's extensions (filter, CRL,
// lockout preview) through the SDK's untyped get/post/put/delete on the same paths.

interface CertificateLike {
  id: string;
  name: string | null;
  active?: boolean;
  created_at: number;
  certificate_details: { expires_at?: number; valid_at?: number; content?: string };
}

export interface Preview {
  object: 'certificate.preview';
  would_refuse: { fingerprint: string | null; subject: string | null; project_id: string; service_account_id: string; last_seen_at: number; requests: number }[];
  would_admit: number;
}

function certificateTable(items: readonly CertificateLike[]): string {
  return table(
    ['id', 'name', 'active', 'expires'],
    items.map((c) => [c.id, c.name, c.active, expiry(c.certificate_details.expires_at)]),
  );
}

/** Where an anchor is in force, for people: "organization", "3 projects", "organization + 1 project", or "no". */
export function activeIn(organization: boolean, projects: number): string {
  const inProjects = projects === 0 ? '' : `${projects} project${projects === 1 ? '' : 's'}`;
  if (organization) return inProjects ? `organization + ${inProjects}` : 'organization';
  return inProjects || 'no';
}

/** The organization's list with, per anchor, how many projects it is active in: one list per unarchived project. */
async function organizationTable(ctx: Ctx, items: readonly CertificateLike[]): Promise<string> {
  const client = await ctx.client();
  const counts = new Map<string, number>();
  let projects: { id: string }[];
  try {
    projects = await collect(client.admin.organization.projects.list({ limit: 100 }));
  } catch (err) {
    // a key with api.mtls.read only: the organization's column still means what it says
    if ((err as { status?: number }).status !== 401) throw err;
    ctx.io.err('certgate: this key cannot list projects (api.management.read): ACTIVE IN counts the organization only\n');
    projects = [];
  }
  const pending = [...projects];
  const worker = async () => {
    for (let p = pending.shift(); p; p = pending.shift()) {
      for await (const c of client.admin.organization.projects.certificates.list(p.id, { limit: 100 })) if (c.active) counts.set(c.id, (counts.get(c.id) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, pending.length) }, worker));
  return table(
    ['id', 'name', 'active in', 'expires'],
    items.map((c) => [c.id, c.name, activeIn(c.active === true, counts.get(c.id) ?? 0), expiry(c.certificate_details.expires_at)]),
  );
}

function certificateFields(c: CertificateLike): string {
  const block = fields([
    ['id', c.id],
    ['name', c.name],
    ...(c.active === undefined ? [] : [['active', c.active] as const]),
    ['created', time(c.created_at)],
    ['valid from', time(c.certificate_details.valid_at)],
    ['expires', expiry(c.certificate_details.expires_at)],
  ]);
  return c.certificate_details.content ? `${block}\n${c.certificate_details.content.trimEnd()}\n` : block;
}

export function previewTable(preview: Preview): string {
  return table(
    ['fingerprint', 'subject', 'project', 'service account', 'last seen', 'requests'],
    preview.would_refuse.map((c) => [c.fingerprint ? `${c.fingerprint.slice(0, 16)}…` : '(no certificate)', c.subject, c.project_id, c.service_account_id, time(c.last_seen_at), c.requests]),
  );
}

async function preview(ctx: Ctx, action: 'activate' | 'deactivate', ids: string[], project: string | undefined): Promise<Preview> {
  return ctx.request<Preview>('post', '/organization/certificates/preview', { action, certificate_ids: ids, ...(project ? { project_id: project } : {}) });
}

const enc = encodeURIComponent;

export function registerCertificates(program: Command, act: Act): void {
  const certs = program.command('certificates').description('trust anchors: the CA certificates that mTLS clients must chain to');

  certs
    .command('list')
    .description('list the organization\'s certificates and where each is active (the organization, how many projects), or with --project the ones a project sees (active: in force there)')
    .option('--project <id>', 'a project\'s view')
    .option('--limit <n>', 'at most this many (default: all)', positiveInt('--limit'))
    .action(
      act<{ project?: string; limit?: number }>(async (ctx, o) => {
        const client = await ctx.client();
        const query = { limit: Math.min(o.limit ?? 100, 100) };
        if (o.project) {
          const items: CertificateLike[] = await collect(client.admin.organization.projects.certificates.list(o.project, query), o.limit);
          ctx.print(items, () => certificateTable(items));
          return;
        }
        const items: CertificateLike[] = await collect(client.admin.organization.certificates.list(query), o.limit);
        if (ctx.json) ctx.print(items, () => '');
        else ctx.io.out(await organizationTable(ctx, items));
      }),
    );

  certs
    .command('get')
    .description('show one certificate')
    .argument('<id>', 'certificate id (cert_…)')
    .option('--include-content', 'include the PEM')
    .action(
      act<{ includeContent?: boolean }>(async (ctx, o, id: string) => {
        const client = await ctx.client();
        const cert = await client.admin.organization.certificates.retrieve(id, o.includeContent ? { include: ['content'] } : {});
        ctx.print(cert, () => certificateFields(cert));
      }),
    );

  certs
    .command('upload')
    .description('upload a CA certificate (PEM); it is not active anywhere until activated')
    .argument('[file]', 'the PEM file, or - for standard input (or --file)')
    .option('--file <pem>', 'the PEM file, or - for standard input')
    .option('--name <name>', 'a name to know it by')
    .action(
      act<{ file?: string; name?: string }>(async (ctx, o, file?: string) => {
        if ((file === undefined) === (o.file === undefined)) throw new CliError('give the PEM file either as an argument or with --file (- for standard input), not both or neither');
        const certificate = await readInput(ctx.io, (file ?? o.file)!, 'certificate');
        const client = await ctx.client();
        const cert = await client.admin.organization.certificates.create({ certificate, ...(o.name !== undefined ? { name: o.name } : {}) });
        ctx.print(cert, () => certificateFields(cert));
      }),
    );

  certs
    .command('rename')
    .description('rename a certificate')
    .argument('<id>', 'certificate id')
    .argument('<name>', 'the new name')
    .action(
      act(async (ctx, _o, id: string, name: string) => {
        const client = await ctx.client();
        const cert = await client.admin.organization.certificates.update(id, { name });
        ctx.print(cert, () => certificateFields(cert));
      }),
    );

  certs
    .command('delete')
    .description('delete a certificate (refused while it is active anywhere)')
    .argument('<id>', 'certificate id')
    .action(
      act(async (ctx, _o, id: string) => {
        const client = await ctx.client();
        const deleted = await client.admin.organization.certificates.delete(id);
        ctx.print(deleted, () => `deleted ${deleted.id}\n`);
      }),
    );

  certs
    .command('activate')
    .description('activate certificates for the organization, or with --project for one project')
    .argument('<ids...>', 'certificate ids')
    .option('--project <id>', 'activate for this project only')
    .action(
      act<{ project?: string }>(async (ctx, o, ids: string[]) => {
        const client = await ctx.client();
        const page = o.project
          ? await client.admin.organization.projects.certificates.activate(o.project, { certificate_ids: ids })
          : await client.admin.organization.certificates.activate({ certificate_ids: ids });
        ctx.print(page.data, () => certificateTable(page.data));
      }),
    );

  certs
    .command('deactivate')
    .description('deactivate certificates; first asks the lockout preview, and refuses without --yes when clients seen in the last 7 days would be refused')
    .argument('<ids...>', 'certificate ids')
    .option('--project <id>', 'deactivate for this project only')
    .option('--yes', 'deactivate even when the preview names clients that would be refused')
    .action(
      act<{ project?: string; yes?: boolean }>(async (ctx, o, ids: string[]) => {
        const seen = await preview(ctx, 'deactivate', ids, o.project);
        if (seen.would_refuse.length > 0) {
          const n = seen.would_refuse.length;
          ctx.io.err(`${n} client${n === 1 ? '' : 's'} seen in the last 7 days would be refused after this deactivation:\n${previewTable(seen)}`);
          if (!o.yes) throw new CliError('not deactivated: run again with --yes to lock these clients out', 1);
        }
        const client = await ctx.client();
        const page = o.project
          ? await client.admin.organization.projects.certificates.deactivate(o.project, { certificate_ids: ids })
          : await client.admin.organization.certificates.deactivate({ certificate_ids: ids });
        ctx.print(page.data, () => certificateTable(page.data));
      }),
    );

  certs
    .command('preview')
    .description('which clients seen in the last 7 days an activation or deactivation would lock out, without making it')
    .requiredOption('--action <action>', 'activate or deactivate')
    .argument('<ids...>', 'certificate ids')
    .option('--project <id>', 'the change for this project only')
    .action(
      act<{ action: string; project?: string }>(async (ctx, o, ids: string[]) => {
        if (o.action !== 'activate' && o.action !== 'deactivate') throw new CliError(`--action must be activate or deactivate, got ${JSON.stringify(o.action)}`);
        const seen = await preview(ctx, o.action, ids, o.project);
        ctx.print(seen, () => `would refuse ${seen.would_refuse.length}, would admit ${seen.would_admit}\n${seen.would_refuse.length ? previewTable(seen) : ''}`);
      }),
    );

  const filter = certs.command('filter').description('an anchor\'s admission filter (a CEL expression over the client certificate): certgate extension');
  filter
    .command('get')
    .argument('<id>', 'certificate id')
    .description('show the filter')
    .action(act(async (ctx, _o, id: string) => printFilter(ctx, await ctx.request('get', `/organization/certificates/${enc(id)}/filter`))));
  filter
    .command('set')
    .argument('<id>', 'certificate id')
    .argument('[expression]', 'the CEL expression (or --file)')
    .option('--file <file>', 'read the expression from a file, or - for standard input')
    .description('set the filter')
    .action(
      act<{ file?: string }>(async (ctx, o, id: string, expression?: string) => {
        if ((expression === undefined) === (o.file === undefined)) throw new CliError('give the expression either as an argument or with --file, not both or neither');
        const text = expression ?? (await readInput(ctx.io, o.file!, 'expression')).trim();
        printFilter(ctx, await ctx.request('put', `/organization/certificates/${enc(id)}/filter`, { expression: text }));
      }),
    );
  filter
    .command('delete')
    .argument('<id>', 'certificate id')
    .description('remove the filter (every chain to the anchor is admitted again)')
    .action(act(async (ctx, _o, id: string) => printFilter(ctx, await ctx.request('delete', `/organization/certificates/${enc(id)}/filter`))));

  const crl = certs.command('crl').description('an anchor\'s certificate revocation list: certgate extension');
  crl
    .command('get')
    .argument('<id>', 'certificate id')
    .description('show the CRL\'s dates and size')
    .action(act(async (ctx, _o, id: string) => printCrl(ctx, await ctx.request('get', `/organization/certificates/${enc(id)}/crl`))));
  crl
    .command('set')
    .argument('<id>', 'certificate id')
    .requiredOption('--file <crl>', 'the CRL (PEM, or base64 DER), or - for standard input')
    .description('replace the CRL (it must be signed by the anchor and not older than the one stored)')
    .action(
      act<{ file: string }>(async (ctx, o, id: string) => {
        const text = await readInput(ctx.io, o.file, 'CRL');
        printCrl(ctx, await ctx.request('put', `/organization/certificates/${enc(id)}/crl`, { crl: text }));
      }),
    );
  crl
    .command('delete')
    .argument('<id>', 'certificate id')
    .description('remove the CRL')
    .action(act(async (ctx, _o, id: string) => printCrl(ctx, await ctx.request('delete', `/organization/certificates/${enc(id)}/crl`))));
}

function printFilter(ctx: Ctx, value: unknown): void {
  const f = value as { certificate_id: string; expression: string | null; updated_at: number | null };
  ctx.print(f, () => fields([['certificate', f.certificate_id], ['expression', f.expression ?? '(none: every chain is admitted)'], ['updated', time(f.updated_at)]]));
}

function printCrl(ctx: Ctx, value: unknown): void {
  const c = value as { certificate_id: string; this_update: number | null; next_update: number | null; revoked_count: number; updated_at: number | null };
  ctx.print(c, () =>
    c.updated_at === null
      ? fields([['certificate', c.certificate_id], ['crl', '(none)']])
      : fields([['certificate', c.certificate_id], ['this update', time(c.this_update)], ['next update', expiry(c.next_update)], ['revoked', c.revoked_count], ['updated', time(c.updated_at)]]),
  );
}
