// `npm install -g` puts `certgate` on the PATH: the package as `npm pack` makes it, installed into a temporary
// prefix, answers from <prefix>/bin/certgate. Its dependencies come from npm's cache where it has them
// (--prefer-offline). By default native builds are skipped (--ignore-scripts: compiling better-sqlite3 takes
// minutes), so the commands run are those that open no store; CERTGATE_INSTALL_TEST=full also builds it and
// starts `certgate serve` from the installed copy.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { refusingSupported, SUPPORTED_NODE } from '../support/node-range.js';
import { tempDir } from '../support/server.js';

const run = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;
const FULL = process.env.CERTGATE_INSTALL_TEST === 'full';

describe(`npm pack, then npm install -g into a temporary prefix (${FULL ? 'full, with native builds' : 'without native builds; CERTGATE_INSTALL_TEST=full builds them'})`, { timeout: FULL ? 600_000 : 180_000 }, () => {
  const dir = tempDir('certgate-install-');
  const prefix = join(dir.path, 'prefix');
  const bin = join(prefix, 'bin', 'certgate');
  const installed = join(prefix, 'lib', 'node_modules', 'certgate');

  before(async () => {
    // --ignore-scripts: `prepare` would rebuild dist/ under the other tests' feet; the build is already there
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir.path], { cwd: ROOT });
    const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
    const args = ['install', '-g', '--prefix', prefix, join(dir.path, filename), '--prefer-offline', '--no-audit', '--no-fund'];
    if (!FULL) args.push('--ignore-scripts');
    await run('npm', args, { cwd: dir.path, timeout: FULL ? 540_000 : 150_000 });
  });
  after(() => dir.remove());

  it('puts certgate on the PATH, and it prints its usage', async () => {
    const { stdout } = await run(bin, ['--help']);
    assert.match(stdout, /^Usage: certgate \[options\] \[command\]/);
    assert.match(stdout, /\n {2}serve /);
    assert.match(stdout, /\n {2}gateway /);
  });

  it('runs a command from the installed files: verify without --cert names what is missing', async () => {
    const failed = await run(bin, ['verify']).then(
      () => assert.fail('verify without --cert succeeded'),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(failed.code, 2);
    assert.equal(failed.stderr, 'certgate: --cert FILE is required: the client certificate (PEM, leaf first, intermediates after)\n');
  });

  it('installs the bundle and the console\'s files, and no tests and no compiled tree', () => {
    assert.deepEqual(readdirSync(join(installed, 'dist')).sort(), ['bin', 'src']);
    assert.deepEqual(readdirSync(join(installed, 'dist', 'src')), ['console']);
    assert.ok(readdirSync(join(installed, 'dist', 'bin')).includes('cli.js'));
    assert.ok(readdirSync(join(installed, 'dist', 'src', 'console')).includes('index.html'));
  });

  it(`installs dependencies that all admit every supported runtime (${SUPPORTED_NODE})`, () => {
    const found: { name: string; version: string; node?: string | undefined }[] = [];
    const walk = (modules: string): void => {
      let names: string[];
      try {
        names = readdirSync(modules);
      } catch {
        return;
      }
      for (const name of names) {
        if (name.startsWith('.')) continue;
        if (name.startsWith('@')) {
          walk(join(modules, name));
          continue;
        }
        const manifest = JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')) as { name: string; version: string; engines?: { node?: string } };
        found.push({ name: manifest.name, version: manifest.version, node: manifest.engines?.node });
        walk(join(modules, name, 'node_modules'));
      }
    };
    walk(join(installed, 'node_modules'));
    assert.ok(found.length > 20, `${found.length} packages installed`);
    assert.deepEqual(refusingSupported(found), []);
  });

  it('serves the admin API from the installed copy', { skip: FULL ? false : 'needs better-sqlite3 built: CERTGATE_INSTALL_TEST=full' }, async () => {
    const data = join(dir.path, 'data');
    const child = spawn(bin, ['serve', '--port', '0', '--data-dir', data], { env: { ...process.env, CERTGATE_ADMIN_KEY: 'sk-admin-install-test-0123456789' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let output = '';
        const timer = setTimeout(() => reject(new Error(`no listening line:\n${output}`)), 20_000);
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
      });
      const res = await fetch(`${url}/v1/openapi.json`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { info: { version: string } }).info.version, JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).version);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
