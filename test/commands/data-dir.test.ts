// The data directory and the first key (issue 17, item 8): `certgate serve` started as an operator starts it, with
// standard output piped (as docker and systemd do) and under a pseudo-terminal.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI, spawnCertgate } from '../support/processes.js';
import { tempDir } from '../support/server.js';

const KEY = /sk-admin-[A-Za-z0-9_-]{20,}/;
const mode = (path: string) => statSync(path).mode & 0o777;
const octal = (m: number) => m.toString(8).padStart(4, '0');

async function works(url: string, key: string): Promise<number> {
  return (await fetch(`${url}/v1/organization/certificates`, { headers: { authorization: `Bearer ${key}` } })).status;
}

describe('the data directory and the generated key', () => {
  it('makes the directory 0700 and every file 0600, writes the generated key to a 0600 file when stdout is piped, and shows it nowhere', async () => {
    const tmp = tempDir();
    const dataDir = join(tmp.path, 'nested', 'data');
    try {
      const serve = await spawnCertgate('serve', ['--data-dir', dataDir], { CERTGATE_ADMIN_KEY: undefined });
      let output: string;
      let key: string;
      try {
        const file = join(dataDir, 'initial-admin-key');
        key = readFileSync(file, 'utf8').trim();
        assert.match(key, KEY);
        assert.equal(await works(serve.url, key), 200, 'the key in the file opens the API');
        output = serve.output();
      } finally {
        await serve.stop();
      }
      assert.ok(!KEY.test(output), `a key on stdout or stderr:\n${output}`);
      assert.ok(output.includes(join(dataDir, 'initial-admin-key')), 'the announcement names the file');
      assert.equal(octal(mode(dataDir)), '0700');
      for (const name of ['certgate.db', 'certgate.db-wal', 'certgate.db-shm', 'initial-admin-key']) {
        if (name.endsWith('-wal') || name.endsWith('-shm')) if (!existsSync(join(dataDir, name))) continue; // removed at a clean close
        assert.equal(octal(mode(join(dataDir, name))), '0600', name);
      }

      // the gateway's generated certificate and its key, kept in the same directory
      const gateway = await spawnCertgate('gateway', ['--data-dir', dataDir, '--upstream-url', 'http://127.0.0.1:9']);
      try {
        assert.equal(octal(mode(join(dataDir, 'gateway-key.pem'))), '0600', 'the key of its certificate');
        assert.equal(octal(mode(join(dataDir, 'gateway-cert.pem'))), '0644', 'the certificate is public');
        for (const name of ['certgate.db', 'certgate.db-wal', 'certgate.db-shm']) assert.equal(octal(mode(join(dataDir, name))), '0600', `${name} while the gateway runs`);
      } finally {
        await gateway.stop();
      }

      // a restart names the file again, and shows no key
      const again = await spawnCertgate('serve', ['--data-dir', dataDir], { CERTGATE_ADMIN_KEY: undefined });
      const said = again.output();
      await again.stop();
      assert.ok(!KEY.test(said), said);
      assert.ok(said.includes(`written to ${join(dataDir, 'initial-admin-key')}`), said);
    } finally {
      tmp.remove();
    }
  });

  it('leaves a directory the operator made as it is, warning when others may read it, and narrows the files an older certgate left 0644', async () => {
    const tmp = tempDir();
    const dataDir = join(tmp.path, 'data');
    try {
      mkdirSync(dataDir, { mode: 0o755 });
      chmodSync(dataDir, 0o755);
      const first = await spawnCertgate('serve', ['--data-dir', dataDir]);
      const said = first.output();
      await first.stop();
      assert.equal(octal(mode(dataDir)), '0755', 'not changed');
      assert.match(said, /"level":40[^\n]*accessible to other users \(mode 0755\)[^\n]*chmod 700/);
      // as certgate before this change left it
      chmodSync(join(dataDir, 'certgate.db'), 0o644);
      chmodSync(dataDir, 0o700);
      const second = await spawnCertgate('serve', ['--data-dir', dataDir]);
      const quiet = second.output();
      try {
        assert.equal(octal(mode(join(dataDir, 'certgate.db'))), '0600');
        assert.equal(octal(mode(join(dataDir, 'certgate.db-wal'))), '0600');
      } finally {
        await second.stop();
      }
      assert.ok(!/accessible to other users/.test(quiet), 'a 0700 directory is not warned about');
    } finally {
      tmp.remove();
    }
  });

  it('prints the generated key to a terminal (under script(1)\'s pseudo-terminal), and writes no file', async () => {
    const tmp = tempDir();
    const dataDir = join(tmp.path, 'data');
    try {
      const command = [process.execPath, CLI, 'serve', '--port', '0', '--data-dir', dataDir].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
      const env: NodeJS.ProcessEnv = { ...process.env, CERTGATE_LOG_LEVEL: 'info' }; // the default workers: the primary makes and prints the key
      delete env.CERTGATE_ADMIN_KEY;
      const child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        for (let i = 0; i < 150 && !/Server listening at (http:\/\/\S+?)"/.test(output); i++) await new Promise((r) => setTimeout(r, 100));
        const url = /Server listening at (http:\/\/[^"\s]+)/.exec(output)?.[1];
        assert.ok(url, output);
        const key = KEY.exec(output)?.[0];
        assert.ok(key, `no key printed to the terminal:\n${output}`);
        assert.equal(await works(url, key), 200);
        assert.ok(!existsSync(join(dataDir, 'initial-admin-key')), 'no file when the key was shown');
      } finally {
        process.kill(-child.pid!, 'SIGTERM');
        await exited;
      }
    } finally {
      tmp.remove();
    }
  });
});
