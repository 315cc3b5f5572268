// What a server process loads to start (issue 11: fast start, small footprint): the gateway nothing of the admin
// API, and neither server a library it needs only for a feature nobody configured (metrics, a CRL, a filter).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { gatewayTlsFiles, spawnCertgate } from '../support/processes.js';
import { tempDir } from '../support/server.js';
import { within } from '../support/wait.js';

const PROBE = new URL('../support/loaded-modules.js', import.meta.url).pathname;
const ROOT = new URL('../../../', import.meta.url).pathname;

/** The packages each chunk of the bundle holds, from the build's metafile (scripts/bundle.mjs). */
function packagesByChunk(): Map<string, Set<string>> {
  const meta = JSON.parse(readFileSync(join(ROOT, 'dist', 'bundle-meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  const chunks = new Map<string, Set<string>>();
  for (const [output, { inputs }] of Object.entries(meta.outputs)) {
    chunks.set(join(ROOT, output), new Set(Object.keys(inputs).flatMap((input) => packageOf(input) ?? [])));
  }
  return chunks;
}

function packageOf(path: string): string | undefined {
  return /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1];
}

interface Loaded {
  /** every package with code in the process, bundled or from node_modules */
  readonly packages: Set<string>;
  /** files of the compiled tree (dist/src) loaded: none when the bundle runs */
  readonly compiledTree: string[];
  readonly chunks: number;
}

/** What a started server had loaded: the bundle's chunks (and the packages in them), and CommonJS files of node_modules. */
async function loadedBy(command: 'serve' | 'gateway', args: string[], dir: string): Promise<Loaded> {
  const file = join(dir, `${command}-modules.json`);
  // one process (--workers 1): the probe reports what the process that got SIGUSR2 loaded, and a primary serves nothing
  const server = await spawnCertgate(command, args, { NODE_OPTIONS: `--import=${PROBE}`, CERTGATE_TEST_LOADED_MODULES: file, CERTGATE_WORKERS: '1' });
  let loaded: { commonjs: string[]; esm: string[] };
  try {
    server.child.kill('SIGUSR2');
    await within(10_000, async () => existsSync(file));
    loaded = JSON.parse(readFileSync(file, 'utf8')) as { commonjs: string[]; esm: string[] };
  } finally {
    await server.stop();
  }
  const chunks = packagesByChunk();
  const packages = new Set<string>();
  const compiledTree: string[] = [];
  let bundled = 0;
  for (const url of loaded.esm) {
    if (!url.startsWith('file:')) continue;
    const path = fileURLToPath(url);
    const inChunk = chunks.get(path);
    if (inChunk) {
      bundled++;
      for (const name of inChunk) packages.add(name);
    } else if (path.startsWith(join(ROOT, 'dist', 'src'))) compiledTree.push(path);
    else if (packageOf(path)) packages.add(packageOf(path)!);
  }
  for (const path of loaded.commonjs) {
    const name = packageOf(path);
    if (!name) continue;
    packages.add(name);
    if (name === 'undici' && path.endsWith('/node_modules/undici/index.js')) packages.add('undici/index.js');
  }
  return { packages, compiledTree, chunks: bundled };
}

describe('what a server loads to start', () => {
  const dir = tempDir();
  after(() => dir.remove());

  it('the gateway: the data plane only (no Fastify, Ajv, prom-client, @peculiar/x509, CEL, commander or undici\'s index)', async () => {
    const tls = await gatewayTlsFiles(dir.path);
    const { packages, compiledTree, chunks } = await loadedBy('gateway', ['--data-dir', join(dir.path, 'data'), ...tls.args, '--upstream-url', 'http://127.0.0.1:9'], dir.path);
    assert.deepEqual(compiledTree, [], 'runs from the bundle, not the compiled tree');
    assert.ok(chunks > 0, 'loads chunks of the bundle');
    // what it does need, so that the probe is seen to work
    for (const needed of ['better-sqlite3', 'kysely', 'undici', 'pino']) assert.ok(packages.has(needed), `loads ${needed}: ${[...packages].join(', ')}`);
    for (const unwanted of ['fastify', 'ajv', 'prom-client', '@peculiar/x509', 'reflect-metadata', '@bufbuild/cel', '@marcbachmann/cel-js', 'commander', 'openai', 'pg', 'undici/index.js']) {
      assert.ok(!packages.has(unwanted), `the gateway loaded ${unwanted}`);
    }
  });

  it('serve: the admin API without the libraries of features nobody configured (@peculiar/x509, CEL, pg, commander)', async () => {
    const { packages, compiledTree } = await loadedBy('serve', ['--data-dir', join(dir.path, 'data')], dir.path);
    assert.deepEqual(compiledTree, [], 'runs from the bundle, not the compiled tree');
    for (const needed of ['fastify', 'better-sqlite3', 'kysely']) assert.ok(packages.has(needed), `loads ${needed}: ${[...packages].join(', ')}`);
    for (const unwanted of ['@peculiar/x509', 'reflect-metadata', '@bufbuild/cel', '@marcbachmann/cel-js', 'commander', 'openai', 'pg', 'undici']) {
      assert.ok(!packages.has(unwanted), `serve loaded ${unwanted}`);
    }
  });
});
