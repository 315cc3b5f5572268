// The official Python SDK, unchanged, against a real `certgate serve` on every engine: test/sdk/python_flow.py goes
// through every method the SDK has for certificates (organization and project), projects, service accounts, admin
// API keys and the audit log, deletes included. Its virtual environment is made once with pip (the machine's
// configured index or wheel mirror) by scripts/test-setup.mjs, which `npm test` and .ci/run run first; when it
// cannot be made this test fails with pip's words, it does not skip.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { engines } from '../support/engines.js';
import { makeCa } from '../support/pki.js';
import { spawnCertgate, storeArgs, type CertgateProcess } from '../support/processes.js';
import { ADMIN_KEY, tempDir } from '../support/server.js';

const ROOT = new URL('../../../', import.meta.url);
const FLOW = new URL('test/sdk/python_flow.py', ROOT).pathname;
const run = promisify(execFile);

let python: string;
before(async () => {
  const setup = (await import(new URL('scripts/test-setup.mjs', ROOT).href)) as { ensurePythonSdk(): string };
  python = setup.ensurePythonSdk();
});

for (const engine of engines) {
  describe(`the official Python SDK against certgate serve (${engine.name})`, { timeout: 600_000 }, () => {
    const files = tempDir('certgate-python-');
    let serve: CertgateProcess;
    let drop: () => Promise<void>;
    before(async () => {
      const place = await engine.fresh();
      drop = place.drop;
      // as `npm start` runs it: the default worker count, so a create and the read after it may land on different workers
      serve = await spawnCertgate('serve', storeArgs(place), { CERTGATE_WORKERS: '' });
    });
    after(async () => {
      await serve?.stop();
      await drop?.();
      files.remove();
    });

    it('goes through every admin method for certificates, projects, service accounts, admin keys and audit logs', async () => {
      const cas: string[] = [];
      for (let i = 0; i < 3; i++) {
        const path = join(files.path, `ca-${i}.pem`);
        writeFileSync(path, (await makeCa({ name: `python ${i}` })).pem);
        cas.push(path);
      }
      const env = { PATH: process.env.PATH, OPENAI_BASE_URL: `${serve.url}/v1`, OPENAI_ADMIN_KEY: ADMIN_KEY, CERTGATE_TEST_CAS: cas.join(delimiter) };
      const result = await run(python, [FLOW], { env, timeout: 120_000 }).catch((err: { stdout: string; stderr: string }) => {
        assert.fail(`the Python flow failed:\n${err.stdout}\n${err.stderr}`);
      });
      assert.match(result.stdout, /^python sdk \d+\.\d+\.\d+: (\d+) checks passed$/m);
      assert.ok(Number(/(\d+) checks passed/.exec(result.stdout)![1]) >= 50, result.stdout);
    });
  });
}
