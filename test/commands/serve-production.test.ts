import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { CLI, gatewayTlsFiles, spawnCertgate } from '../support/processes.js';
import { ADMIN_KEY, tempDir } from '../support/server.js';

function run(args: string[], env: Record<string, string | undefined>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('certgate serve in production', () => {
  it('serves the admin API and the console over HTTPS with --tls-cert/--tls-key, with the default workers', async () => {
    const dir = tempDir();
    const tls = await gatewayTlsFiles(dir.path);
    const server = await spawnCertgate('serve', ['--data-dir', join(dir.path, 'data'), ...tls.args], { CERTGATE_WORKERS: '' });
    const agent = new Agent({ connect: { ca: tls.ca, servername: 'localhost' } });
    try {
      assert.match(server.url, /^https:\/\//);
      const list = await request(`${server.url}/v1/organization/certificates`, { headers: { authorization: `Bearer ${ADMIN_KEY}` }, dispatcher: agent });
      assert.equal(list.statusCode, 200);
      assert.equal(((await list.body.json()) as { object: string }).object, 'list');
      const page = await request(`${server.url}/console/`, { dispatcher: agent });
      assert.equal(page.statusCode, 200);
      assert.match(await page.body.text(), /<html/i);
      // plain HTTP to the same port is no way in
      const plain = await fetch(server.url.replace('https:', 'http:') + '/healthz').then(
        (r) => r.status,
        () => 'refused',
      );
      assert.notEqual(plain, 200);
      // one start line per serving process: version, store, address, and its place among the workers
      const { availableParallelism } = await import('node:os');
      const starts = server.output().split('\n').filter((l) => l.includes('certgate serve started')).map((l) => JSON.parse(l));
      assert.equal(starts.length, availableParallelism(), server.output());
      for (const start of starts) {
        assert.match(start.version, /^\d+\.\d+\.\d+/);
        assert.equal(start.store, `sqlite:${join(dir.path, 'data', 'certgate.db')}`);
        assert.equal(start.url, server.url);
        assert.equal(start.workers, availableParallelism());
      }
      assert.deepEqual(starts.map((s) => s.worker).sort(), Array.from({ length: availableParallelism() }, (_, i) => i + 1));
    } finally {
      await agent.close();
      await server.stop();
      dir.remove();
    }
  });

  it('refuses an unreadable or mismatched certificate before it creates anything', async () => {
    const dir = tempDir();
    const tls = await gatewayTlsFiles(dir.path);
    const data = join(dir.path, 'data');
    const missing = await run(['serve', '--port', '0', '--data-dir', data, '--tls-cert', join(dir.path, 'nope.crt'), '--tls-key', join(dir.path, 'gateway.key')], { CERTGATE_ADMIN_KEY: undefined, CERTGATE_WORKERS: '1' });
    assert.equal(missing.code, 2);
    assert.match(missing.output, /^certgate: cannot read the TLS certificate \(--tls-cert\) ".*nope\.crt": ENOENT/m);
    const otherDir = join(dir.path, 'other');
    mkdirSync(otherDir);
    const other = await gatewayTlsFiles(otherDir); // a second pair: its key does not match the first certificate
    const mismatched = await run(['serve', '--port', '0', '--data-dir', data, '--tls-cert', tls.args[1]!, '--tls-key', other.args[3]!], { CERTGATE_WORKERS: '' });
    assert.equal(mismatched.code, 2, mismatched.output);
    assert.match(mismatched.output, /not a usable certificate and key/);
    assert.equal(existsSync(data), false, 'no store was created');
    dir.remove();
  });

  for (const workers of ['1', '']) {
    it(`on a port in use at first start (${workers ? '--workers 1' : 'default workers'}), creates no store and makes or prints no key`, async () => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const port = (taken.address() as AddressInfo).port;
      const dir = tempDir();
      const data = join(dir.path, 'data');
      try {
        const result = await run(['serve', '--port', String(port), '--data-dir', data], { CERTGATE_ADMIN_KEY: undefined, CERTGATE_WORKERS: workers });
        assert.equal(result.code, 2, result.output);
        assert.match(result.output, /already in use/);
        assert.doesNotMatch(result.output, /sk-admin-/);
        assert.equal(existsSync(data), false, 'no data directory, no store, no key');
      } finally {
        await new Promise<void>((resolve) => taken.close(() => resolve()));
        dir.remove();
      }
    });
  }
});

it('the start line names a PostgreSQL store by server and database only, never its user, password or options', async () => {
  const { describeStore } = await import('../../src/store/open.js');
  const named = describeStore({ dataDir: '', databaseUrl: 'postgres://certgate:hunter2@db.internal:5432/certgate?sslmode=require&password=other' });
  assert.equal(named, 'postgresql://db.internal:5432/certgate');
  assert.equal(describeStore({ dataDir: '', databaseUrl: 'not a url hunter2' }), 'postgresql');
});
