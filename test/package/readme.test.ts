// Every fenced code block of README.md runs as written, or is classified here as not runnable with the reason.
//
// BLOCKS below lists each block by the heading it sits under and the start of its first line: `run` names the test
// of this file that runs it, `skip` says why it cannot run in a test. A block that no entry matches (a new one), or an
// entry that matches no block (a block removed or rewritten), fails the first test: add an entry for it.
//
// Shell blocks run as written with bash (-e, -o pipefail) in a temporary directory, with `certgate` on the PATH (a
// shim to this checkout's dist/bin/cli.js) and real processes: the only change made to their text is their fixed
// ports (8080, 8443, and the upstream's 11434), replaced by free ones so that parallel runs do not collide. A comment
// line that shows output (`# {…}`, or indented `#   …`) must appear in what the block printed, `…` standing for
// anything. JavaScript blocks run with node beside the installed packages, so `import 'openai'` resolves as in a
// user's project.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startUpstream } from '../support/gateway.js';
import { makeCa } from '../support/pki.js';
import { ADMIN_KEY, startTestServer, type TestServer } from '../support/server.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const run = promisify(execFile);

interface Block {
  /** the nearest heading above it, without its #s */
  readonly section: string;
  readonly lang: string;
  readonly code: string;
  /** its opening fence's line number in README.md */
  readonly line: number;
}

/** Every fenced block of a Markdown text, with the heading it sits under. */
export function readmeBlocks(markdown: string): Block[] {
  const found: Block[] = [];
  let section = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#{1,6} (.*)$/.exec(lines[i]!);
    if (heading) section = heading[1]!.trim();
    const fence = /^(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]!);
    if (!fence) continue;
    const close = lines.findIndex((l, j) => j > i && l.startsWith(fence[1]!) && l.trim() === l.trim().replace(/[^`~]/g, ''));
    assert.ok(close > i, `README.md:${i + 1}: a fence that is never closed`);
    found.push({ section, lang: fence[2]!, code: lines.slice(i + 1, close).join('\n') + '\n', line: i + 1 });
    i = close;
  }
  return found;
}

interface Entry {
  readonly section: string;
  /** the start of the block's first line */
  readonly first: string;
  /** the test of this file that runs it */
  readonly run?: string;
  /** why no test can run it */
  readonly skip?: string;
}

/** Every block of the README: run here, or not runnable and why. To classify a new block, add its line here. */
const BLOCKS: Entry[] = [
  { section: 'Quick start', first: 'npm ci && npm start', skip: 'the install and the whole test suite themselves; `npm start` is `certgate serve`, which the walkthrough runs' },
  { section: 'Quick start', first: '// node quickstart.mjs', run: 'quickstart' },
  { section: 'Admin keys and permissions', first: 'curl -s http://127.0.0.1:8080/v1/organization/admin_api_keys', run: 'admin-key' },
  { section: 'Management CLI', first: 'export OPENAI_BASE_URL=', skip: 'a reference card: placeholder ids (cert_01m8…) and sample output; every command is run by test/cli/manage.test.ts' },
  { section: 'Filters', first: 'curl -s -X PUT localhost:8080/v1/organization/certificates/$CERT/filter', run: 'filter' },
  { section: 'Filters', first: 'subject_alt_names.exists(s, s.type == URI', run: 'cel' },
  { section: 'Walkthrough: openssl, curl, and a refused request', first: '# a CA, and a client certificate it issues', run: 'walkthrough' },
  { section: 'Walkthrough: openssl, curl, and a refused request', first: "import { readFileSync } from 'node:fs';", run: 'gateway-sdk' },
  { section: 'Metrics and expiry alerts', first: 'scrape_configs:', skip: "a Prometheus configuration excerpt; the metrics it scrapes are tested by test/metrics/*" },
  { section: 'Running several replicas', first: 'export CERTGATE_DATABASE_URL=postgres://certgate@db.internal', skip: 'a deployment sketch naming a database host and OpenAI as upstream; replicas on one store are run by test/cluster/*' },
  { section: 'As a systemd service', first: 'sudo cp deploy/certgate.sysusers.conf', skip: 'installs into the system with sudo and systemd; test/deploy/systemd.test.ts verifies the units' },
  { section: 'Backups', first: 'certgate backup  --data-dir /var/lib/certgate', skip: 'system paths of a deployment, and restore needs every server stopped; test/commands/backup.test.ts runs both commands under load' },
  { section: 'Backups', first: 'pg_dump --format=custom', skip: 'a placeholder URL (postgres://…); test/commands/backup.test.ts runs these pg_dump and pg_restore commands' },
  { section: 'Performance', first: 'bench/gateway/run.sh', skip: 'the benchmarks, minutes each' },
  { section: 'Source layout', first: 'src/cli.ts', skip: 'a file tree, not code' },
];

const matches = (entry: Entry, block: Block) => block.section === entry.section && block.code.startsWith(entry.first);

/** The one block a test runs. */
function runnable(name: string): Block {
  const entry = BLOCKS.find((e) => e.run === name);
  assert.ok(entry, `an entry runs ${name}`);
  const found = readmeBlocks(README).filter((b) => matches(entry, b));
  assert.equal(found.length, 1, `one README block for ${name}`);
  return found[0]!;
}

/** The block's text with its fixed ports replaced by the ones given (whole numbers only). */
function withPorts(code: string, ports: Record<number, number>): string {
  return code.replace(/\b(\d{4,5})\b/g, (n) => String(ports[Number(n)] ?? n));
}

/** Each output line the block shows (`# {…}` or `#   …`, not an elision) appears in what it printed; `…` is anything. */
function assertShows(stdout: string, code: string, where: string): number {
  const shown = code
    .split('\n')
    .flatMap((l) => (/^# (\{.*|  .*)$/.exec(l) ? [l.slice(2).trim()] : []))
    .filter((l) => l !== '...' && l !== '…');
  for (const line of shown) {
    const pattern = new RegExp(line.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*?'));
    assert.match(stdout, pattern, `${where}: the README shows ${line}`);
  }
  return shown.length;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface ShellResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a shell block with bash -e -o pipefail in `cwd`, in a process group of its own (what it leaves running in
 * the background, servers, stays in that group: `groups` collects it for the end).
 */
function runShell(code: string, cwd: string, env: Record<string, string>, groups: number[], timeoutMs = 45_000): Promise<ShellResult> {
  // output to files, not pipes: the servers it starts keep its stdout open after it has exited
  const out = join(cwd, `.stdout-${groups.length}`);
  const err = join(cwd, `.stderr-${groups.length}`);
  const [outFd, errFd] = [openSync(out, 'w'), openSync(err, 'w')];
  const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', code], { cwd, env, detached: true, stdio: ['ignore', outFd, errFd] });
  closeSync(outFd);
  closeSync(errFd);
  groups.push(child.pid!);
  const read = () => ({ stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      const { stdout, stderr } = read();
      reject(new Error(`did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (status) => {
      clearTimeout(timer);
      resolve({ code: status, ...read() });
    });
  });
}

/** SIGTERM to each process group, then waits until each is gone (SIGKILL after 10 s). */
async function endGroups(groups: number[]): Promise<void> {
  const alive = (pgid: number) => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const pgid of groups) if (alive(pgid)) process.kill(-pgid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (groups.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pgid of groups) if (alive(pgid)) process.kill(-pgid, 'SIGKILL');
}

/** A scratch directory beside the installed packages, so that a snippet's imports resolve as in a user's project. */
function scratch(): string {
  mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
  return mkdtempSync(join(ROOT, 'node_modules', '.cache', 'certgate-readme-'));
}

describe('README code blocks', () => {
  it('every fenced block is run by a test here or classified as not runnable, with a reason', () => {
    const blocks = readmeBlocks(README);
    assert.ok(blocks.length >= 10, `found ${blocks.length} blocks`);
    for (const block of blocks) {
      const entries = BLOCKS.filter((e) => matches(e, block));
      assert.equal(
        entries.length,
        1,
        `README.md:${block.line} (under "${block.section}", \`\`\`${block.lang}) starts ${JSON.stringify(block.code.split('\n')[0])}: ` +
          `${entries.length === 0 ? 'no entry classifies it' : 'several entries match it'}; add one to BLOCKS in test/package/readme.test.ts ` +
          `({ section, first, run: <a test here> } or { section, first, skip: <why it cannot run> })`,
      );
    }
    for (const entry of BLOCKS) {
      assert.equal(blocks.filter((b) => matches(entry, b)).length, 1, `BLOCKS entry ${JSON.stringify(entry)} matches one README block`);
      assert.ok((entry.run === undefined) !== (entry.skip === undefined), `${entry.first}: either run or skip`);
      if (entry.skip !== undefined) assert.ok(entry.skip.length > 10, `${entry.first}: a reason`);
    }
  });

  describe('the Quick start', () => {
    let server: TestServer;
    let dir: string;
    before(async () => {
      server = await startTestServer();
      dir = scratch();
    });
    after(async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("the Quick start's SDK snippet runs as written, and its certificate is active", async () => {
      writeFileSync(join(dir, 'quickstart.mjs'), runnable('quickstart').code);
      writeFileSync(join(dir, 'ca.pem'), (await makeCa({ name: 'README CA' })).pem);
      const { stdout } = await run(process.execPath, ['quickstart.mjs'], {
        cwd: dir,
        env: { PATH: process.env.PATH, OPENAI_BASE_URL: server.baseURL, CERTGATE_ADMIN_KEY: ADMIN_KEY },
      });
      const id = /^(cert_\w+) is active for the organization$/m.exec(stdout)?.[1];
      assert.ok(id, stdout);
      const cert = (await server.sdk.admin.organization.certificates.list()).data.find((c) => c.id === id);
      assert.deepEqual([cert?.name, cert?.active], ['Production CA', true]);
    });
  });

  // The walkthrough first, as a reader would run it; the blocks that use what it made ($CERT, $H, the servers, the
  // client certificate) run after it, in its directory, with its shell's variables.
  describe('the walkthrough, and the blocks that build on it', () => {
    let dir: string;
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let ports: Record<number, number>;
    let env: Record<string, string>;
    const groups: number[] = [];
    /** the walkthrough's shell variables, once it has run */
    let session: Record<string, string> = {};

    before(async () => {
      dir = scratch();
      mkdirSync(join(dir, 'bin'));
      writeFileSync(join(dir, 'bin', 'certgate'), `#!/bin/sh\nexec '${process.execPath}' '${join(ROOT, 'dist', 'bin', 'cli.js')}' "$@"\n`);
      chmodSync(join(dir, 'bin', 'certgate'), 0o755);
      upstream = await startUpstream();
      ports = { 8080: await freePort(), 8443: await freePort(), 11434: Number(new URL(upstream.url).port) };
      // only what a user's shell has: no CERTGATE_* of the test run's own
      env = { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, HOME: process.env.HOME ?? dir, LANG: 'C.UTF-8' };
    });
    after(async () => {
      await endGroups(groups);
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('runs end to end: the refusal body, the request through to the upstream, and the verify verdict as shown', async () => {
      const code = withPorts(runnable('walkthrough').code, ports);
      // the shell's variables are kept for the next blocks, whatever the walkthrough's last status
      const keep = `trap 'for v in CERTGATE_ADMIN_KEY H PROJECT KEY CERT; do printf "%s=%s\\n" "$v" "\${!v}"; done > .session' EXIT\n`;
      const result = await runShell(keep + code, dir, env, groups);
      // the last command is `certgate verify` of a certificate it refuses: exit status 1, after every command before it succeeded
      assert.equal(result.code, 1, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
      session = Object.fromEntries(readFileSync(join(dir, '.session'), 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      for (const name of ['PROJECT', 'KEY', 'CERT']) assert.ok(session[name] && session[name] !== 'null', `${name} is set: ${result.stdout}`);
      assert.equal(assertShows(result.stdout, code, 'walkthrough'), 3);
      // with the certificate, through to the upstream, which heard the client's identity from the gateway alone
      assert.match(result.stdout, /"id":"test-model"/);
      const through = upstream.seen.filter((s) => s.url === '/v1/models');
      assert.equal(through.length, 1, 'one request reached the upstream: the one with the certificate');
      assert.match(JSON.stringify(through[0]!.headers), /workload-1/);
    });

    it("the admin-key block makes the read-only key it describes", async () => {
      assert.ok(session.KEY, 'the walkthrough ran');
      const result = await runShell(withPorts(runnable('admin-key').code, ports), dir, { ...env, ...session }, groups);
      assert.equal(result.code, 0, result.stderr);
      const key = JSON.parse(result.stdout) as { object: string; name: string; value: string };
      assert.equal(key.name, 'ci read-only');
      assert.match(key.value, /^sk-admin-/);
    });

    it('the filter block sets, reads and deletes a filter, and prints what the README shows', async () => {
      assert.ok(session.CERT, 'the walkthrough ran');
      const code = withPorts(runnable('filter').code, ports);
      const result = await runShell(code, dir, { ...env, ...session }, groups);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(assertShows(result.stdout, code, 'filter'), 1);
      const objects = result.stdout.replace(/\}\{/g, '}\n{').trim().split('\n').map((l) => JSON.parse(l) as { expression: string | null });
      assert.equal(objects.length, 3, result.stdout);
      assert.equal(objects[1]!.expression, objects[0]!.expression, 'read back as set');
      assert.match(objects[0]!.expression!, /^subject\.organizational_unit == "Production"/);
    });

    it('each CEL example is a filter certgate accepts', async () => {
      assert.ok(session.CERT, 'the walkthrough ran');
      const lines = runnable('cel').code.trim().split('\n');
      assert.equal(lines.length, 2);
      const url = `http://127.0.0.1:${ports[8080]}/v1/organization/certificates/${session.CERT}/filter`;
      const headers = { authorization: `Bearer ${session.CERTGATE_ADMIN_KEY}`, 'content-type': 'application/json' };
      try {
        for (const expression of lines) {
          const res = await fetch(url, { method: 'PUT', headers, body: JSON.stringify({ expression }) });
          const body = await res.text();
          assert.equal(res.status, 200, `${expression}: ${body}`);
          assert.equal((JSON.parse(body) as { expression: string }).expression, expression);
        }
      } finally {
        assert.equal((await fetch(url, { method: 'DELETE', headers })).status, 200);
      }
    });

    it("the SDK's gateway client, as written, reaches the upstream with the walkthrough's client certificate", async () => {
      assert.ok(session.KEY, 'the walkthrough ran');
      // the block makes the client; the one line after it uses it
      const code = withPorts(runnable('gateway-sdk').code, ports) + 'console.log(JSON.stringify((await client.models.list()).data));\n';
      writeFileSync(join(dir, 'gateway-client.mjs'), code);
      const before = upstream.seen.length;
      const { stdout } = await run(process.execPath, ['gateway-client.mjs'], { cwd: dir, env: { ...env, PROJECT_KEY: session.KEY! } });
      assert.equal((JSON.parse(stdout) as { id: string }[])[0]?.id, 'test-model');
      assert.equal(upstream.seen.length, before + 1);
      assert.match(JSON.stringify(upstream.seen.at(-1)!.headers), /workload-1/);
    });
  });
});
