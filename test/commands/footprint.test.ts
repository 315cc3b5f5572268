// What a server process loads to start (issue 11: fast start, small footprint): the gateway nothing of the admin
// API, and neither server a library it needs only for a feature nobody configured (metrics, a CRL, a filter).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gatewayTlsFiles, spawnCertgate } from '../support/processes.js';
import { tempDir } from '../support/server.js';
import { within } from '../support/wait.js';

const PROBE = new URL('../support/loaded-modules.js', import.meta.url).pathname;

/** The packages (and undici's index) a started server had loaded, from its require.cache. */
async function loadedBy(command: 'serve' | 'gateway', args: string[], dir: string): Promise<Set<string>> {
  const file = join(dir, `${command}-modules.json`);
  const server = await spawnCertgate(command, args, { NODE_OPTIONS: `--import=${PROBE}`, CERTGATE_TEST_LOADED_MODULES: file });
  let paths: string[];
  try {
    server.child.kill('SIGUSR2');
    await within(10_000, async () => existsSync(file));
    paths = JSON.parse(readFileSync(file, 'utf8')) as string[];
  } finally {
    await server.stop();
  }
  const packages = new Set<string>();
  for (const path of paths) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(path);
    if (!match) continue;
    packages.add(match[1]!);
    if (match[1] === 'undici' && match[2] === 'index.js') packages.add('undici/index.js');
    if (match[1] === 'kysely' && match[2]!.startsWith('dist/esm/')) packages.add('kysely (ES build)');
  }
  return packages;
}

describe('what a server loads to start', () => {
  const dir = tempDir();
  after(() => dir.remove());

  it('the gateway: the data plane only (no Fastify, Ajv, prom-client, @peculiar/x509, CEL, commander or undici\'s index)', async () => {
    const tls = await gatewayTlsFiles(dir.path);
    const loaded = await loadedBy('gateway', ['--data-dir', join(dir.path, 'data'), ...tls.args, '--upstream-url', 'http://127.0.0.1:9'], dir.path);
    // what it does need, so that the probe is seen to work
    for (const needed of ['better-sqlite3', 'kysely', 'undici', 'pino']) assert.ok(loaded.has(needed), `loads ${needed}: ${[...loaded].join(', ')}`);
    for (const unwanted of ['fastify', 'ajv', 'prom-client', '@peculiar/x509', 'reflect-metadata', '@bufbuild/cel', 'commander', 'openai', 'pg', 'undici/index.js', 'kysely (ES build)']) {
      assert.ok(!loaded.has(unwanted), `the gateway loaded ${unwanted}`);
    }
  });

  it('serve: the admin API without the libraries of features nobody configured (@peculiar/x509, CEL, pg, commander)', async () => {
    const loaded = await loadedBy('serve', ['--data-dir', join(dir.path, 'data')], dir.path);
    for (const needed of ['fastify', 'better-sqlite3', 'kysely']) assert.ok(loaded.has(needed), `loads ${needed}: ${[...loaded].join(', ')}`);
    for (const unwanted of ['@peculiar/x509', 'reflect-metadata', '@bufbuild/cel', 'commander', 'openai', 'pg', 'undici', 'kysely (ES build)']) {
      assert.ok(!loaded.has(unwanted), `serve loaded ${unwanted}`);
    }
  });
});
