// Every management command against one running server (in this process, over a real SQLite store), run as its
// own process with OPENAI_BASE_URL and OPENAI_ADMIN_KEY, as an operator would; what it prints is compared with the
// server's state read through the official SDK.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { DEFAULT_ORGANIZATION_ID } from '../../src/domain/model.js';
import { makeCa, makeClient, makeCrl, type Issued } from '../support/pki.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_KEY, startTestServer, tempDir, type TestServer } from '../support/server.js';
import { runAll, runCli, type CliResult } from './support.js';

let server: TestServer;
let env: Record<string, string>;
let caA: Issued;
let caB: Issued;

before(async () => {
  server = await startTestServer();
  env = { OPENAI_BASE_URL: server.baseURL, OPENAI_ADMIN_KEY: ADMIN_KEY };
  [caA, caB] = await Promise.all([makeCa({ name: 'CLI test CA A' }), makeCa({ name: 'CLI test CA B' })]);
});
after(() => server.close());

const cli = (args: string[], input?: string, own: Record<string, string> = env) => runCli(args, own, input);

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r;
}

const parsed = (r: CliResult) => JSON.parse(ok(r).stdout);

/** The server's state, read through the SDK: what a bad command must leave as it was. */
async function state() {
  const org = server.sdk.admin.organization;
  const [certificates, projects, keys] = await Promise.all([
    (async () => { const all = []; for await (const c of org.certificates.list()) all.push(c); return all; })(),
    (async () => { const all = []; for await (const p of org.projects.list({ include_archived: true })) all.push(p); return all; })(),
    (async () => { const all = []; for await (const k of org.adminAPIKeys.list()) all.push(k); return all; })(),
  ]);
  return { certificates, projects, keys: keys.map((k) => k.id) };
}

test('certificates: upload, list, get, rename, activate (organization and project), preview, deactivate, filter, CRL, delete', async () => {
  // upload from a file path given as "-" (standard input) and as JSON
  const uploadedA = parsed(await cli(['certificates', 'upload', '--file', '-', '--name', 'anchor A', '--json'], caA.pem));
  assert.equal(uploadedA.name, 'anchor A');
  const table = ok(await cli(['certificates', 'upload', '--file', '-', '--name', 'anchor B'], caB.pem)).stdout;
  const idB = /^id:\s+(cert_\w+)$/m.exec(table)?.[1];
  assert.ok(idB, table);
  assert.match(table, /^expires:\s+\d{4}-\d{2}-\d{2} \(\d+ days left\)$/m);
  const idA = uploadedA.id as string;
  const project = await server.sdk.admin.organization.projects.create({ name: 'cli project' });

  const [list, listJson, get, getContent] = await runAll(
    [['certificates', 'list'], ['certificates', 'list', '--json'], ['certificates', 'get', idA, '--json'], ['certificates', 'get', idA, '--include-content']],
    env,
  );
  assert.match(ok(list!).stdout, /^ID\s+NAME\s+ACTIVE IN\s+EXPIRES$/m);
  assert.match(list!.stdout, new RegExp(`^${idA}\\s+anchor A\\s+no\\s+\\d{4}-`, 'm'));
  const sdkList = [];
  for await (const c of server.sdk.admin.organization.certificates.list()) sdkList.push(c);
  assert.deepEqual(parsed(listJson!), JSON.parse(JSON.stringify(sdkList)));
  assert.deepEqual(parsed(get!), JSON.parse(JSON.stringify(await server.sdk.admin.organization.certificates.retrieve(idA))));
  assert.ok(ok(getContent!).stdout.includes(caA.pem.trim().split('\n')[1]!), 'the PEM is shown with --include-content');

  ok(await cli(['certificates', 'rename', idA, 'anchor A renamed']));
  assert.equal((await server.sdk.admin.organization.certificates.retrieve(idA)).name, 'anchor A renamed');

  // activate both for the organization and A for the project; deactivating A for the organization then locks out
  // nobody (the project still has A), so no question is asked
  const activated = parsed(await cli(['certificates', 'activate', idA, idB, '--json']));
  assert.deepEqual(activated.map((c: { id: string; active: boolean }) => [c.id, c.active]).sort(), [[idA, true], [idB, true]].sort());
  ok(await cli(['certificates', 'activate', idA, '--project', project.id]));
  const projectList = parsed(await cli(['certificates', 'list', '--project', project.id, '--json']));
  assert.equal(projectList.find((c: { id: string }) => c.id === idA).active, true);

  // A client of A was seen in the project: deactivating A there (B stays in force) would lock it out, so the CLI
  // shows who and asks for --yes
  const client = await makeClient(caA, { name: 'cli client' });
  const der = Buffer.from(client.cert.rawData);
  const now = Math.floor(Date.now() / 1000);
  await server.store.recordClients(
    DEFAULT_ORGANIZATION_ID,
    [{ projectId: project.id, serviceAccountId: 'user-cli-sa', fingerprint: createHash('sha256').update(der).digest('hex'), subject: 'CN=cli client', chain: [der], certificateId: idA, firstSeen: now, lastSeen: now, requests: 3 }],
    now - 8 * 86400,
    1000,
  );
  const orgDeactivated = await cli(['certificates', 'deactivate', idA]);
  const previewed = await cli(['certificates', 'preview', '--action', 'deactivate', idA, '--project', project.id, '--json']);
  assert.match(ok(orgDeactivated).stdout, new RegExp(`^${idA}\\s+anchor A renamed\\s+no`, 'm'));
  assert.equal(orgDeactivated.stderr, '');
  assert.equal(parsed(previewed).would_refuse.length, 1);
  assert.equal(parsed(previewed).would_refuse[0].service_account_id, 'user-cli-sa');
  const refused = await cli(['certificates', 'deactivate', idA, '--project', project.id]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /1 client seen in the last 7 days would be refused/);
  assert.match(refused.stderr, /user-cli-sa/);
  assert.match(refused.stderr, /certgate: not deactivated: run again with --yes/);
  const stillActive = [];
  for await (const c of server.sdk.admin.organization.projects.certificates.list(project.id)) stillActive.push(c);
  assert.equal(stillActive.find((c) => c.id === idA)?.active, true, 'nothing changed without --yes');
  ok(await cli(['certificates', 'deactivate', idA, '--project', project.id, '--yes']));
  ok(await cli(['certificates', 'deactivate', idB]));

  // the filter and the CRL (certgate's extensions)
  const filter = parsed(await cli(['certificates', 'filter', 'set', idB, 'subject.common_name == "cli client"', '--json']));
  assert.equal(filter.expression, 'subject.common_name == "cli client"');
  assert.match(ok(await cli(['certificates', 'filter', 'get', idB])).stdout, /^expression:\s+subject\.common_name == "cli client"$/m);
  assert.equal(parsed(await cli(['certificates', 'filter', 'delete', idB, '--json'])).expression, null);
  const crl = await makeCrl(caB, { revoked: [await makeClient(caB)] });
  assert.equal(parsed(await cli(['certificates', 'crl', 'set', idB, '--file', '-', '--json'], crl)).revoked_count, 1);
  assert.match(ok(await cli(['certificates', 'crl', 'get', idB])).stdout, /^revoked:\s+1$/m);
  assert.equal(parsed(await cli(['certificates', 'crl', 'delete', idB, '--json'])).revoked_count, 0);

  // delete: refused while active (the server's message), done once deactivated; a forged id is the server's 404
  ok(await cli(['certificates', 'activate', idA]));
  const busy = await cli(['certificates', 'delete', idA]);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /^certgate: .+ \(\w+\)\n$/);
  const [missing, forged] = await runAll([['certificates', 'delete', 'cert_doesnotexist'], ['certificates', 'get', '../../projects']], env);
  for (const r of [missing!, forged!]) {
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^certgate: .*(No certificate|not found|Invalid).* \(\w+\)\n$/i);
  }
  assert.match(ok(await cli(['certificates', 'delete', idB])).stdout, new RegExp(`^deleted ${idB}$`, 'm'));
  await assert.rejects(server.sdk.admin.organization.certificates.retrieve(idB), /404/);
});

test('projects and service accounts: create, list, get, update, delete, archive', async () => {
  const created = parsed(await cli(['projects', 'create', '--name', 'cli made', '--json']));
  assert.match(created.id, /^proj_/);
  const [list, get] = await runAll([['projects', 'list'], ['projects', 'get', created.id, '--json']], env);
  assert.match(ok(list!).stdout, new RegExp(`^${created.id}\\s+cli made\\s+active`, 'm'));
  assert.deepEqual(parsed(get!), JSON.parse(JSON.stringify(await server.sdk.admin.organization.projects.retrieve(created.id))));
  ok(await cli(['projects', 'update', created.id, '--name', 'cli renamed']));
  assert.equal((await server.sdk.admin.organization.projects.retrieve(created.id)).name, 'cli renamed');

  const account = await cli(['service-accounts', 'create', '--project', created.id, '--name', 'robot']);
  assert.match(ok(account).stdout, /^api key:\s+\S+$/m);
  assert.match(account.stdout, /shown only this once/);
  const accountId = /^id:\s+(\S+)$/m.exec(account.stdout)![1]!;
  const [accounts, one] = await runAll(
    [['service-accounts', 'list', '--project', created.id, '--json'], ['service-accounts', 'get', accountId, '--project', created.id]],
    env,
  );
  assert.deepEqual(parsed(accounts!).map((a: { id: string }) => a.id), [accountId]);
  assert.match(ok(one!).stdout, /^name:\s+robot$/m);
  ok(await cli(['service-accounts', 'delete', accountId, '--project', created.id]));
  const missing = await cli(['service-accounts', 'get', accountId, '--project', created.id]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^certgate: .+\n$/);

  const archived = parsed(await cli(['projects', 'archive', created.id, '--json']));
  assert.equal(archived.status, 'archived');
  assert.doesNotMatch(ok(await cli(['projects', 'list'])).stdout, new RegExp(created.id));
  assert.match(ok(await cli(['projects', 'list', '--include-archived'])).stdout, new RegExp(created.id));
});

test('admin keys: create with permissions (a read-only key is refused writes), list, get, delete; create in the store for a locked-out operator', async () => {
  const reader = parsed(await cli(['admin-keys', 'create', '--name', 'reader', '--permission', 'api.mtls.read', '--expires-in', '3600', '--json']));
  assert.deepEqual(reader.permissions, ['api.mtls.read']);
  assert.match(reader.value, /^sk-admin-/);
  assert.ok(reader.expires_at - reader.created_at >= 3599);
  const before = await state();
  const readerEnv = { ...env, OPENAI_ADMIN_KEY: reader.value };
  const [reads, write] = await runAll([['certificates', 'list'], ['projects', 'create', '--name', 'not allowed']], readerEnv);
  ok(reads!);
  assert.match(reads!.stdout, /^ID\s+NAME\s+ACTIVE IN\s+EXPIRES$/m);
  assert.equal(reads!.stderr, 'certgate: this key cannot list projects (api.management.read): ACTIVE IN counts the organization only\n');
  assert.equal(write!.code, 1);
  assert.match(write!.stderr, /^certgate: You have insufficient permissions for this operation\. Missing scopes: api\.management\.write\./);
  assert.deepEqual(await state(), before, 'a refused write changes nothing');

  // permissions cannot grow: a management key cannot mint an owner key, nor one with a permission it lacks
  const manager = parsed(await cli(['admin-keys', 'create', '--name', 'manager', '--permission', 'api.management.write', '--json']));
  const managerEnv = { ...env, OPENAI_ADMIN_KEY: manager.value };
  const beforeGrow = await state();
  const [owner, wider] = await runAll([['admin-keys', 'create', '--name', 'escalated'], ['admin-keys', 'create', '--name', 'wider', '--permission', 'api.mtls.write']], managerEnv);
  assert.equal(owner!.code, 1);
  assert.match(owner!.stderr, /^certgate: You have insufficient permissions for this operation\. Missing scopes: api\.mtls\.read, api\.mtls\.write, api\.audit_logs\.read\. To create an owner key/);
  assert.equal(wider!.code, 1);
  assert.match(wider!.stderr, /Missing scopes: api\.mtls\.read, api\.mtls\.write\./);
  assert.deepEqual(await state(), beforeGrow, 'a refused key changes nothing');
  const narrower = parsed(ok(await cli(['admin-keys', 'create', '--name', 'narrower', '--permission', 'api.management.read', '--json'], undefined, managerEnv)));
  assert.deepEqual(narrower.permissions, ['api.management.read']);
  ok(await cli(['admin-keys', 'delete', narrower.id], undefined, managerEnv));
  ok(await cli(['admin-keys', 'delete', manager.id]));

  const [list, get] = await runAll([['admin-keys', 'list'], ['admin-keys', 'get', reader.id, '--json']], env);
  assert.match(ok(list!).stdout, new RegExp(`^${reader.id}\\s+reader\\s+\\S+\\s+api\\.mtls\\.read\\s`, 'm'));
  assert.ok(!list!.stdout.includes(reader.value), 'a listed key is redacted');
  // last_used_at is written in batches off the request path (state/keys.ts), so it may be filled in between the
  // CLI's read and the SDK's: everything else must be equal, and it either not yet written or the same
  const viaCli = parsed(get!);
  const viaSdk = JSON.parse(JSON.stringify(await server.sdk.admin.organization.adminAPIKeys.retrieve(reader.id)));
  assert.deepEqual({ ...viaCli, last_used_at: 0 }, { ...viaSdk, last_used_at: 0 });
  assert.ok(viaCli.last_used_at === null || viaCli.last_used_at === viaSdk.last_used_at, `last_used_at: ${viaCli.last_used_at} by the CLI, ${viaSdk.last_used_at} by the SDK`);
  ok(await cli(['admin-keys', 'delete', reader.id]));
  const gone = await cli(['certificates', 'list'], undefined, readerEnv);
  assert.equal(gone.code, 1, 'a deleted key stops working');

  // Locked out: the only owner key is lost. A key made in the store itself works at once against the running server.
  const offline = await cli(['admin-keys', 'create', '--name', 'break glass', '--data-dir', server.dataDir], undefined, { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
  const value = /^key:\s+(sk-admin-\S+)$/m.exec(ok(offline).stdout)?.[1];
  assert.ok(value, offline.stdout);
  const rescued = new OpenAI({ adminAPIKey: value, apiKey: null, baseURL: server.baseURL, maxRetries: 0 });
  const keys = [];
  for await (const k of rescued.admin.organization.adminAPIKeys.list()) keys.push(k);
  assert.ok(keys.some((k) => k.name === 'break glass'));
  const events = [];
  for await (const e of rescued.admin.organization.auditLogs.list({ event_types: ['api_key.created'] })) events.push(e);
  assert.ok(events.length >= 2, 'the key made in the store has its audit event');
});

test('audit-logs list: filters by type, resource, project and time; --json equals the SDK\'s list', async () => {
  const project = parsed(await cli(['projects', 'create', '--name', 'audited', '--json']));
  ok(await cli(['projects', 'update', project.id, '--name', 'audited twice']));
  const [byType, byResource, table, future, iso] = await runAll(
    [
      ['audit-logs', 'list', '--type', 'project.updated', '--json'],
      ['audit-logs', 'list', '--resource', project.id, '--json'],
      ['audit-logs', 'list', '--resource', project.id],
      ['audit-logs', 'list', '--since', String(Math.floor(Date.now() / 1000) + 3600), '--json'],
      ['audit-logs', 'list', '--since', '2000-01-01', '--until', '2000-01-02T00:00:00Z', '--json'],
    ],
    env,
  );
  const sdkUpdated = [];
  for await (const e of server.sdk.admin.organization.auditLogs.list({ event_types: ['project.updated'] })) sdkUpdated.push(e);
  assert.deepEqual(parsed(byType!), JSON.parse(JSON.stringify(sdkUpdated)));
  assert.deepEqual(parsed(byResource!).map((e: { type: string }) => e.type), ['project.updated', 'project.created']);
  assert.match(ok(table!).stdout, /^TIME\s+TYPE\s+ACTOR\s+PROJECT\s+RESOURCE\s+ID$/m);
  assert.match(table!.stdout, new RegExp(`project\\.updated\\s+.+${project.id}\\s+audit_log_`));
  assert.deepEqual(parsed(future!), []);
  assert.deepEqual(parsed(iso!), []);
  const limited = parsed(await cli(['audit-logs', 'list', '--limit', '1', '--json']));
  assert.equal(limited.length, 1);
});

test('mtls-settings: get and set, for the organization and a project', async () => {
  const project = await server.sdk.admin.organization.projects.create({ name: 'observed' });
  assert.equal(parsed(await cli(['mtls-settings', 'set', 'observe', '--project', project.id, '--json'])).mode, 'observe');
  const [org, proj] = await runAll([['mtls-settings', 'get'], ['mtls-settings', 'get', '--project', project.id]], env);
  assert.match(ok(org!).stdout, /^mode:\s+enforce$/m);
  assert.match(ok(proj!).stdout, /^mode:\s+observe$/m);
  const inherited = parsed(await cli(['mtls-settings', 'set', 'inherit', '--project', project.id, '--json']));
  assert.equal(inherited.inherited, true);
  const missing = await cli(['mtls-settings', 'get', '--project', 'proj_forged']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^certgate: .+ \(\w+\)\n$/);
});

test('bad input to commands that reach the server changes nothing', async () => {
  const before = await state();
  const cases = [
    ['certificates', 'upload', '--file', '-', '--name', 'not a pem'],
    ['certificates', 'activate', 'cert_forged'],
    ['certificates', 'deactivate', 'cert_forged', '--yes'],
    ['projects', 'update', 'proj_forged', '--name', 'x'],
    ['projects', 'archive', 'proj_forged'],
    ['admin-keys', 'delete', 'key_forged'],
    ['admin-keys', 'create', '--name', 'x', '--permission', 'api.everything'],
    ['service-accounts', 'create', '--project', 'proj_forged', '--name', 'x'],
  ];
  const results = await Promise.all(cases.map((args) => cli(args, args.includes('-') ? 'hello, not a certificate' : undefined)));
  results.forEach((r, i) => {
    assert.equal(r.code, 1, `${cases[i]!.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^certgate: .+\n$/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
  const wrongKey = await cli(['certificates', 'list'], undefined, { ...env, OPENAI_ADMIN_KEY: 'sk-admin-wrong-0123456789abcdef' });
  assert.equal(wrongKey.code, 1);
  assert.match(wrongKey.stderr, /^certgate: .+\(invalid_api_key\)\n$/);
  assert.deepEqual(await state(), before);
});

test('a newcomer\'s paths: the key from CERTGATE_ADMIN_KEY, upload FILE or -, and where each anchor is active', async () => {
  const files = tempDir('certgate-cli-');
  try {
    const [caC, caD] = await Promise.all([makeCa({ name: 'CLI test CA C' }), makeCa({ name: 'CLI test CA D' })]);
    const path = join(files.path, 'ca.pem');
    writeFileSync(path, caC.pem);
    // the server's own variable is enough, and it wins over an OPENAI_ADMIN_KEY meant for OpenAI
    const own = { OPENAI_BASE_URL: server.baseURL, CERTGATE_ADMIN_KEY: ADMIN_KEY, OPENAI_ADMIN_KEY: 'sk-admin-openai-not-certgate-0123456789' };
    const c = parsed(await runCli(['certificates', 'upload', path, '--name', 'anchor C', '--json'], own));
    assert.equal(c.certificate_details.expires_at, Math.floor(caC.cert.notAfter.getTime() / 1000));
    const d = parsed(await runCli(['certificates', 'upload', '-', '--json'], own, caD.pem));
    assert.equal(d.name, null);

    const org = server.sdk.admin.organization;
    const [p1, p2] = await Promise.all([org.projects.create({ name: 'where 1' }), org.projects.create({ name: 'where 2' })]);
    await org.projects.certificates.activate(p1.id, { certificate_ids: [c.id, d.id] });
    await org.projects.certificates.activate(p2.id, { certificate_ids: [c.id] });
    await org.certificates.activate({ certificate_ids: [d.id] });
    const listed = ok(await runCli(['certificates', 'list'], own)).stdout;
    assert.match(listed, new RegExp(`^${c.id}\\s+anchor C\\s+2 projects\\s+\\d{4}-`, 'm'));
    assert.match(listed, new RegExp(`^${d.id}\\s+-\\s+organization \\+ 1 project\\s+\\d{4}-`, 'm'));

    await org.certificates.deactivate({ certificate_ids: [d.id] });
    await org.projects.certificates.deactivate(p2.id, { certificate_ids: [c.id] });
    await org.projects.archive(p1.id);
    const after = ok(await runCli(['certificates', 'list'], own)).stdout;
    assert.match(after, new RegExp(`^${c.id}\\s+anchor C\\s+no\\s+`, 'm'), 'an archived project holds no activation');
    assert.match(after, new RegExp(`^${d.id}\\s+-\\s+no\\s+`, 'm'));
    await org.certificates.delete(c.id);
    await org.certificates.delete(d.id);
  } finally {
    files.remove();
  }
});
