import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { ApiError, errorCatalog, type ErrorCode } from '../../src/domain/errors.js';

const root = new URL('../../../', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** Every README table row that starts with backquoted codes: code → status. */
function documented(): Map<string, number> {
  const rows = new Map<string, number>();
  for (const line of readme.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || !cells[1]!.startsWith('`') || !/^\d{3}$/.test(cells[2]!)) continue;
    for (const [, code] of cells[1]!.matchAll(/`([a-z_]+)`/g)) rows.set(code!, Number(cells[2]));
  }
  return rows;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

it('documents every code of the catalog in the README, with the catalog status, and no code the catalog lacks', () => {
  const rows = documented();
  for (const [code, { status }] of Object.entries(errorCatalog)) {
    if (code === 'internal_error') continue;
    assert.equal(rows.get(code), status, `README row for ${code}`);
  }
  for (const code of rows.keys()) assert.ok(code in errorCatalog, `README documents ${code}, which the catalog does not have`);
});

it('uses every catalog code somewhere in the code, and maps each to one status and type', () => {
  const code = sources(join(root, 'src'))
    .filter((p) => !p.endsWith(join('domain', 'errors.ts')))
    .map((p) => readFileSync(p, 'utf8'))
    .join('\n');
  for (const name of Object.keys(errorCatalog) as ErrorCode[]) {
    assert.ok(code.includes(`'${name}'`), `${name} is in the catalog but never raised`);
    const err = new ApiError(name, 'm');
    assert.equal(err.status, errorCatalog[name].status);
    assert.deepEqual(err.toBody(), { error: { message: 'm', type: errorCatalog[name].type, param: null, code: 'wire' in errorCatalog[name] ? null : name } });
    // OpenAI's types: a rate limit's is what it limits (requests), every other 4xx an invalid request
    assert.equal(err.type, err.status >= 500 ? 'server_error' : err.status === 429 ? 'requests' : 'invalid_request_error');
  }
});
