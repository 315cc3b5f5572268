import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { makeCa } from '../support/pki.js';
import { CLI } from '../support/processes.js';
import { tempDir } from '../support/server.js';

const run = promisify(execFile);

// `certgate verify --data-dir` with a mistyped directory made an empty store there and answered ACCEPTED (no anchor
// in an empty store): it must refuse, create nothing, and say which directory it looked in.
test('certgate verify refuses a data directory without a store, and creates nothing there', async () => {
  const dir = tempDir();
  try {
    const ca = await makeCa({ name: 'verify debris' });
    const cert = join(dir.path, 'client.pem');
    writeFileSync(cert, ca.pem);
    const wrong = join(dir.path, 'wrong', 'path');
    const result = await run(process.execPath, [CLI, 'verify', '--cert', cert, '--data-dir', wrong], { env: { ...process.env, CERTGATE_DATABASE_URL: '' } }).then(
      () => ({ code: 0, stderr: '', stdout: 'ran' }),
      (err: { code: number; stderr: string; stdout: string }) => err,
    );
    assert.equal(result.code, 2, result.stdout);
    assert.match(result.stderr, /^certgate: no certgate store in ".*wrong\/path" \(no certgate\.db\)/);
    assert.doesNotMatch(result.stdout + result.stderr, /ACCEPTED/);
    assert.equal(existsSync(join(dir.path, 'wrong')), false, 'nothing was created');
  } finally {
    dir.remove();
  }
});
