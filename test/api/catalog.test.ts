import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { errorCatalog } from '../../src/domain/errors.js';

it('documents every error code of the catalog in the README', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const missing = Object.keys(errorCatalog).filter((code) => code !== 'internal_error' && !readme.includes(`\`${code}\``));
  assert.deepEqual(missing, []);
});
