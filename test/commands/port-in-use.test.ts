// A port already taken: one clear line and a non-zero exit, from the CLI as an operator runs it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CLI } from '../support/processes.js';
import { tempDir } from '../support/server.js';


function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CERTGATE_ADMIN_KEY: 'sk-admin-port-test-0123456789' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`certgate ${args[0]} did not exit within 20 s:\n${stdout}${stderr}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('a port already in use', () => {
  let taken: Server;
  let port: number;
  const dir = tempDir();

  before(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    port = (taken.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => taken.close(() => resolve()));
    dir.remove();
  });

  for (const command of ['serve', 'gateway'] as const) {
    it(`certgate ${command} says so in one line and exits non-zero`, async () => {
      const extra = command === 'gateway' ? ['--upstream-url', 'http://127.0.0.1:9'] : [];
      const { code, stderr } = await run([command, '--host', '127.0.0.1', '--port', String(port), '--data-dir', dir.path, ...extra]);
      assert.notEqual(code, 0);
      assert.equal(stderr, `certgate: port ${port} on 127.0.0.1 is already in use (EADDRINUSE); choose another with --port\n`);
    });
  }
});
