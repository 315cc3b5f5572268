// The CLI's surface without a server: --help everywhere, --version, and bad usage answered with one line and
// exit status 2 (the servers' flags included: an error names the flag that was typed).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { runManage } from '../../src/commands/manage/program.js';
import { tempDir } from '../support/server.js';
import { runAll, runCli } from './support.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const COMMANDS: Record<string, string[]> = {
  certificates: ['list', 'get', 'upload', 'rename', 'delete', 'activate', 'deactivate', 'preview'],
  'certificates filter': ['get', 'set', 'delete'],
  'certificates crl': ['get', 'set', 'delete'],
  projects: ['list', 'get', 'create', 'update', 'archive'],
  'service-accounts': ['list', 'get', 'create', 'delete'],
  'admin-keys': ['list', 'get', 'create', 'delete'],
  'audit-logs': ['list'],
  'mtls-settings': ['get', 'set'],
};

/** The management program in this process, for the many --help pages (a process each would take ~15 s). */
async function inProcess(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runManage(argv, { out: (t) => (stdout += t), err: (t) => (stderr += t), env: {}, readStdin: async () => '' });
  return { code, stdout, stderr };
}

test('--version prints package.json\'s version; --help lists every command; no command is a usage error', async () => {
  const [version, help, none, unknown] = await runAll([['--version'], ['--help'], [], ['frobnicate']]);
  assert.equal(version!.code, 0);
  assert.equal(version!.stdout.trim(), pkg.version);
  assert.equal(help!.code, 0);
  for (const command of ['serve', 'gateway', 'decide', 'verify', ...Object.keys(COMMANDS).filter((c) => !c.includes(' '))]) {
    assert.match(help!.stdout, new RegExp(`^  ${command} `, 'm'), command);
  }
  assert.equal(none!.code, 2);
  assert.match(none!.stderr, /Usage: certgate/);
  assert.equal(unknown!.code, 2);
  assert.match(unknown!.stderr, /unknown command 'frobnicate'/);
});

test('every management command and subcommand has a --help naming its arguments and the shared flags', async () => {
  const spawned = await runAll([['certificates', '--help'], ['certificates', 'upload', '--help'], ['admin-keys', 'create', '--help']]);
  for (const r of spawned) assert.equal(r.code, 0, r.stderr);
  assert.match(spawned[1]!.stdout, /--file <pem>/);
  assert.match(spawned[2]!.stdout, /--permission <name>[\s\S]*--data-dir <dir>/);
  for (const [group, subcommands] of Object.entries(COMMANDS)) {
    const path = group.split(' ');
    const groupHelp = await inProcess([...path, '--help']);
    assert.equal(groupHelp.code, 0);
    for (const sub of subcommands) assert.match(groupHelp.stdout, new RegExp(`^  ${sub}\\b`, 'm'), `${group} lists ${sub}`);
    for (const sub of subcommands) {
      const r = await inProcess([...path, sub, '--help']);
      assert.equal(r.code, 0, `${group} ${sub} --help`);
      assert.match(r.stdout, new RegExp(`^Usage: certgate ${group} ${sub}`, 'm'));
      assert.match(r.stdout, /--base-url <url>[\s\S]*--api-key <key>[\s\S]*--json/, `${group} ${sub} shows the shared flags`);
    }
  }
});

test('serve, gateway and verify print their flags with --help', async () => {
  const [serve, gateway, verify] = await runAll([['serve', '--help'], ['gateway', '--help'], ['verify', '--help']]);
  assert.equal(serve!.code, 0, serve!.stderr);
  assert.match(serve!.stdout, /--port\s+CERTGATE_PORT\s+.*\(default: 8080\)/);
  assert.match(serve!.stdout, /--database-url\s+CERTGATE_DATABASE_URL/);
  assert.equal(gateway!.code, 0, gateway!.stderr);
  assert.match(gateway!.stdout, /--upstream-url\s+CERTGATE_UPSTREAM_URL/);
  assert.match(gateway!.stdout, /--client-id-from/);
  assert.equal(verify!.code, 0, verify!.stderr);
  assert.match(verify!.stdout, /--cert\s+CERTGATE_VERIFY_CERT/);
});

test('a server flag\'s error names the flag that was passed, or the variable when the value came from there', async () => {
  const data = tempDir();
  try {
    const store = ['--data-dir', data.path];
    const results = await runAll([
      ['serve', '--port', 'abc', ...store],
      ['serve', '--idle-timeout', 'forever', ...store],
      ['serve', '--bogus'],
      ['gateway', '--upstream-url', 'not a url', ...store],
      ['gateway', ...store],
      ['gateway', '--upstream-url', 'http://127.0.0.1:1', '--tls-cert', 'x.pem', ...store],
    ]);
    const expected = [
      /^certgate: --port must be a port number \(0-65535\), got "abc"$/,
      /^certgate: --idle-timeout must be a number of seconds/,
      /^certgate: Unknown option '--bogus'/,
      /^certgate: --upstream-url is not a URL/,
      /^certgate: --upstream-url \(CERTGATE_UPSTREAM_URL\) is required/,
      /^certgate: --tls-cert and --tls-key \(CERTGATE_TLS_KEY\) go together/,
    ];
    results.forEach((r, i) => {
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr.trim(), expected[i]!);
    });
    const fromEnv = await runCli(['serve', ...store], { CERTGATE_PORT: 'eighty' });
    assert.equal(fromEnv.code, 2);
    assert.match(fromEnv.stderr, /^certgate: CERTGATE_PORT must be a port number/);
  } finally {
    data.remove();
  }
});

// A port already in use: test/commands/port-in-use.test.ts, for serve and gateway.
test('bad usage of a management command exits 2 with one line and never reaches a server', async () => {
  // The base URL points at a port nothing listens on: a command that got as far as a request would exit 1.
  const env = { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', OPENAI_ADMIN_KEY: 'sk-admin-unused-0123456789abcdef' };
  const cases: [string[], RegExp, Record<string, string>?][] = [
    [['certificates', 'list'], /^certgate: no admin key: pass --api-key KEY or set CERTGATE_ADMIN_KEY \(or OPENAI_ADMIN_KEY\)$/, { OPENAI_BASE_URL: env.OPENAI_BASE_URL }],
    [['certificates', 'get'], /missing required argument 'id'/],
    [['certificates', 'list', '--bogus'], /unknown option '--bogus'/],
    [['certificates', 'upload'], /^certgate: give the PEM file either as an argument or with --file/],
    [['certificates', 'upload', 'a.pem', '--file', 'b.pem'], /^certgate: give the PEM file either as an argument or with --file/],
    [['certificates', 'upload', '/nonexistent/ca.pem'], /^certgate: cannot read the certificate file "\/nonexistent\/ca.pem": ENOENT$/],
    [['certificates', 'upload', '--file', '/nonexistent/ca.pem'], /^certgate: cannot read the certificate file "\/nonexistent\/ca.pem": ENOENT$/],
    [['certificates', 'preview', '--action', 'explode', 'cert_x'], /^certgate: --action must be activate or deactivate/],
    [['certificates', 'filter', 'set', 'cert_x'], /either as an argument or with --file/],
    [['certificates', 'list', '--limit', '0'], /^certgate: --limit must be a whole number from 1/],
    [['audit-logs', 'list', '--since', 'yesterday'], /^certgate: --since must be Unix seconds or an ISO time/],
    [['service-accounts', 'list'], /required option '--project <id>' not specified/],
    [['admin-keys', 'create', '--name', 'x', '--expires-in', '1.5'], /^certgate: --expires-in must be a whole number/],
    [['admin-keys', 'create', '--name', 'x', '--data-dir', '/nonexistent/certgate'], /^certgate: no certgate store in "\/nonexistent\/certgate"/],
    [['mtls-settings', 'set', 'off'], /^certgate: mode must be one of enforce, observe, got "off"$/],
    [['projects', 'list', '--base-url', 'ftp://example.com/v1'], /^certgate: --base-url must be an http or https URL/],
  ];
  const results = await Promise.all(cases.map(([args, , own]) => runCli(args, own ?? env)));
  results.forEach((r, i) => {
    assert.equal(r.code, 2, `${cases[i]![0].join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trim().split('\n')[0]!, cases[i]![1]);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
  const unreachable = await runCli(['projects', 'list'], env);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /^certgate: cannot reach the server \(.+\); check --base-url or OPENAI_BASE_URL\n$/);
});

test('decide and gateway --behind-ingress: --help, and a deployment that cannot know its ingress is a usage error', async () => {
  const data = tempDir();
  try {
    const store = ['--data-dir', data.path];
    const secretFile = `${data.path}/short-secret`;
    writeFileSync(secretFile, 'short\n');
    const upstream = ['--upstream-url', 'http://127.0.0.1:1'];
    const [help, ...results] = await runAll([
      ['decide', '--help'],
      ['decide', ...store],
      ['gateway', ...upstream, '--behind-ingress', ...store],
      ['gateway', ...upstream, '--behind-ingress', '--trust-loopback', '--tls-cert', 'x.pem', '--tls-key', 'x.key', ...store],
      ['gateway', ...upstream, '--trust-loopback', ...store],
      ['decide', '--ingress-secret-file', secretFile, ...store],
      ['decide', '--socket', `${data.path}/s.sock`, '--trust-loopback', ...store],
      ['decide', '--trust-loopback', '--client-cert-header', 'client_cert', ...store],
      ['decide', '--trust-loopback', '--client-cert-header', 'authorization', ...store],
    ]);
    assert.equal(help!.code, 0, help!.stderr);
    assert.match(help!.stdout, /--client-cert-header\s+CERTGATE_CLIENT_CERT_HEADER\s+.*\(default: client-cert\)/);
    assert.match(help!.stdout, /--trust-loopback\s+CERTGATE_TRUST_LOOPBACK/);
    const expected = [
      /^certgate: behind an ingress, certgate must know requests come from it: set --ingress-secret-file \(or CERTGATE_INGRESS_SECRET\), --socket, or --trust-loopback$/,
      /^certgate: behind an ingress, certgate must know/,
      /^certgate: --tls-cert and --tls-key are not used with --behind-ingress/,
      /^certgate: --socket, --trust-loopback and the ingress secret are for a gateway behind an ingress: add --behind-ingress$/,
      /^certgate: the ingress secret in --ingress-secret-file must be 16 to 1024 visible ASCII characters/,
      /^certgate: --trust-loopback is for a TCP listener/,
      /^certgate: --client-cert-header must be a header name without an underscore/,
      /^certgate: --client-cert-header must be a header name without an underscore/,
    ];
    results.forEach((r, i) => {
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr.trim(), expected[i]!);
    });
    // the secret in the environment: never echoed
    const bad = await runCli(['decide', ...store], { CERTGATE_INGRESS_SECRET: 'has a space in it, so no' });
    assert.equal(bad.code, 2);
    assert.ok(!bad.stderr.includes('has a space'), bad.stderr);
  } finally {
    data.remove();
  }
});
