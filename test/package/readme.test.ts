// The README's code runs as written: its Quick start SDK snippet is taken from README.md, saved as a file beside the
// installed packages (so `import 'openai'` resolves as in a user's project) and run with node against a real server,
// in a directory holding ca.pem, with the environment the README names.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { makeCa } from '../support/pki.js';
import { ADMIN_KEY, startTestServer, type TestServer } from '../support/server.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const run = promisify(execFile);

/** The fenced blocks of one `## ` section, with their language. */
export function blocks(markdown: string, section: string): { lang: string; code: string }[] {
  const start = markdown.indexOf(`\n## ${section}\n`);
  assert.ok(start >= 0, `README has a "${section}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  const text = markdown.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

describe('README code', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    server = await startTestServer();
    mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
    dir = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'certgate-readme-'));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the Quick start\'s SDK snippet runs as written, and its certificate is active', async () => {
    const js = blocks(README, 'Quick start').filter((b) => b.lang === 'js');
    assert.equal(js.length, 1, 'one JavaScript snippet in the Quick start');
    writeFileSync(join(dir, 'quickstart.mjs'), js[0]!.code);
    writeFileSync(join(dir, 'ca.pem'), (await makeCa({ name: 'README CA' })).pem);
    const { stdout } = await run(process.execPath, ['quickstart.mjs'], {
      cwd: dir,
      env: { PATH: process.env.PATH, OPENAI_BASE_URL: server.baseURL, CERTGATE_ADMIN_KEY: ADMIN_KEY },
    });
    const id = /^(cert_\w+) is active for the organization$/m.exec(stdout)?.[1];
    assert.ok(id, stdout);
    const cert = (await server.sdk.admin.organization.certificates.list()).data.find((c) => c.id === id);
    assert.deepEqual([cert?.name, cert?.active], ['Production CA', true]);
  });
});
