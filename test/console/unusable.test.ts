// The console marks a stored certificate this version of certgate cannot read: an "unusable" badge on its row, the
// reason as its title, and a notice when it is active. Real server, real headless Chromium (Debian's package).
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { ORGANIZATION_SCOPE } from '../../src/domain/model.js';
import { makeCa } from '../support/pki.js';
import { ADMIN_KEY, startTestServer, tempDir } from '../support/server.js';
import { assertRefusedByApi, lenientCa, storeAsOlderVersion } from '../support/unusable-anchor.js';

const CHROMIUM = process.env.CERTGATE_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

test('the console marks a certificate this version cannot read, and nothing answers 500', { timeout: 120_000 }, async (t) => {
  assert.ok(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}: install Debian's package (apt-get install -y chromium), as .ci/run does, or set CERTGATE_CHROMIUM.`);
  const server = await startTestServer();
  const profile = tempDir('certgate-chromium-');
  let context: BrowserContext | undefined;
  t.after(async () => {
    await context?.close();
    await server.close();
    profile.remove();
  });

  const readable = (await server.sdk.admin.organization.certificates.create({ certificate: (await makeCa({ name: 'readable CA' })).pem, name: 'readable CA' })).id;
  const lenient = await lenientCa();
  await assertRefusedByApi(server.request, lenient);
  const unusable = await storeAsOlderVersion(server.rt, lenient, ORGANIZATION_SCOPE);
  const problem = (await server.request('GET', '/v1/organization/certificates/unusable')).body.data[0].problem as string;

  context = await chromium.launchPersistentContext(profile.path, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1360, height: 860 } });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(10_000);
  const failures: string[] = [];
  page.on('pageerror', (err) => failures.push(`page error: ${err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 500) failures.push(`${res.status()} ${res.url()}`);
  });
  await page.goto(`${server.url}/console/`);
  await page.fill('#signin-key', ADMIN_KEY);
  await page.click('#signin-submit');

  const row = page.locator(`#certificates-table tr[data-certificate-id="${unusable}"]`);
  const badge = row.locator('.badge.unusable');
  await badge.waitFor();
  assert.equal(await badge.textContent(), 'unusable');
  assert.equal(await badge.getAttribute('title'), `This version of certgate cannot read this certificate: ${problem}`);
  assert.equal(await page.locator(`#certificates-table tr[data-certificate-id="${readable}"] .badge.unusable`).count(), 0, 'the readable one has no such badge');
  await page.locator('#unusable-notice', { hasText: '1 active anchor cannot be read by this version of certgate' }).waitFor();
  // the row is still a row like the others: it can be deactivated in Access and then deleted
  assert.equal(await row.locator('[data-action="delete"]').isDisabled(), true);

  // the Access view, which loads the same inventory, still works
  await page.click('.nav a[data-view="access"]');
  await page.locator(`#matrix tr[data-certificate-id="${unusable}"] input[data-scope="organization"]`).waitFor();
  assert.equal(await page.locator(`#matrix tr[data-certificate-id="${unusable}"] input[data-scope="organization"]`).isChecked(), true);
  assert.deepEqual(failures, []);
});
