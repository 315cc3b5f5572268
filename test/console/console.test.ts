// The web console, end to end: a real server, a real headless Chromium (Debian's package) driven by playwright-core,
// certificates made at test time. The browser does everything through the page; the SDK checks the outcome.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { AUDIT_EVENT_TYPES } from '../../src/domain/audit.js';
import { DEFAULT_ORGANIZATION_ID } from '../../src/domain/model.js';
import { CONSOLE_CSP } from '../../src/api/routes/console.js';
import { makeCa, makeClient } from '../support/pki.js';
import { ADMIN_KEY, startTestServer, tempDir } from '../support/server.js';

const CHROMIUM = process.env.CERTGATE_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const DAY = 24 * 60 * 60 * 1000;

/** Where screenshots go: CERTGATE_CONSOLE_SCREENSHOTS if set (to look at them), else a temp dir removed afterwards. */
function screenshotDir(): { path: string; remove(): void } {
  const wanted = process.env.CERTGATE_CONSOLE_SCREENSHOTS;
  if (!wanted) return tempDir('certgate-console-shots-');
  mkdirSync(wanted, { recursive: true });
  return { path: wanted, remove: () => undefined };
}

test('the web console: sign in, upload, activate, test a certificate, lockout preview, audit log', { timeout: 180_000 }, async (t) => {
  // A machine without Chromium must not pass this test silently: .ci/run installs it.
  assert.ok(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}: install Debian's package (apt-get install -y chromium), as .ci/run does, or set CERTGATE_CHROMIUM.`);

  const server = await startTestServer();
  const profile = tempDir('certgate-chromium-');
  const shots = screenshotDir();
  let context: BrowserContext | undefined;
  t.after(async () => {
    await context?.close();
    await server.close();
    profile.remove();
    shots.remove();
  });

  const org = server.sdk.admin.organization;
  const project = await org.projects.create({ name: 'Payments' });
  await org.projects.create({ name: 'Search' });
  const ca = await makeCa({ name: 'Production clients CA' });
  const successor = await makeCa({ name: 'Successor CA', notAfter: new Date(Date.now() + 20 * DAY) });
  const client = await makeClient(ca, { subject: 'CN=billing-worker, O=Example' });
  const stranger = await makeClient(await makeCa({ name: 'Unknown CA' }), { name: 'stranger' });

  context = await chromium.launchPersistentContext(profile.path, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1360, height: 860 } });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  const refusedLoads: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // A 4xx answer to a fetch is logged by Chromium as a failed load; the ones this test provokes are expected.
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) refusedLoads.push(message.text());
    else problems.push(message.text());
  });
  const shot = (name: string) => page.screenshot({ path: join(shots.path, `${name}.png`), fullPage: true });

  await t.test('/ redirects to the console, served with a strict content-security policy', async () => {
    const root = await fetch(`${server.url}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/console/');
    const response = await page.goto(`${server.url}/`);
    assert.ok(response);
    assert.equal(new URL(page.url()).pathname, '/console/');
    const headers = response.headers();
    assert.equal(headers['content-security-policy'], CONSOLE_CSP);
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.equal(headers['referrer-policy'], 'no-referrer');
    assert.match(headers['content-type'] ?? '', /^text\/html/);
    const script = await fetch(`${server.url}/console/main.js`);
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(script.headers.get('content-security-policy'), CONSOLE_CSP);
    assert.equal((await fetch(`${server.url}/console/nothing-here.js`)).status, 404);
  });

  await t.test('a wrong key shows the server message; the right one signs in and lives in sessionStorage only', async () => {
    const refused = await fetch(`${server.url}/v1/organization/certificates`, { headers: { authorization: 'Bearer sk-admin-wrong' } });
    const message = ((await refused.json()) as { error: { message: string } }).error.message;
    await page.fill('#signin-key', 'sk-admin-wrong');
    await page.click('#signin-submit');
    await page.getByRole('alert').filter({ hasText: message }).waitFor();
    await shot('01-sign-in');
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);

    await page.fill('#signin-key', ADMIN_KEY);
    await page.click('#signin-submit');
    await page.locator('.nav a.current', { hasText: 'Certificates' }).waitFor();
    await page.getByText('No certificates yet.').waitFor();
    const storage = await page.evaluate(() => ({
      session: Object.keys(sessionStorage).map((k) => sessionStorage.getItem(k)),
      local: localStorage.length,
      cookie: document.cookie,
    }));
    assert.deepEqual(storage.session, [ADMIN_KEY]);
    assert.equal(storage.local, 0);
    assert.equal(storage.cookie, '');
    assert.deepEqual(await context!.cookies(), []);
    assert.ok(!page.url().includes(ADMIN_KEY));
    assert.ok(!(await page.content()).includes(ADMIN_KEY), 'the key is not written into the page');
  });

  let caId = '';
  let successorId = '';
  await t.test('upload: a refusal shows the rule; a CA pasted as PEM is listed with its days left', async () => {
    await page.fill('#upload-pem', 'not a certificate');
    await page.click('#upload-submit');
    const refusal = await server.request('POST', '/v1/organization/certificates', { certificate: 'not a certificate' });
    assert.equal(refusal.status, 400);
    await page.getByRole('alert').filter({ hasText: refusal.body.error.message }).waitFor();

    await page.fill('#upload-name', 'Production clients CA');
    await page.fill('#upload-pem', ca.pem);
    await page.click('#upload-submit');
    await page.getByText('Uploaded Production clients CA').waitFor();
    await page.fill('#upload-name', 'Successor CA');
    await page.setInputFiles('#upload-file', { name: 'successor.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from(successor.pem) });
    // the page reads the chosen file asynchronously (File.text()): wait for it to land in the field
    await page.waitForFunction((expected) => (document.querySelector('#upload-pem') as HTMLTextAreaElement | null)?.value === expected, successor.pem, { timeout: 10_000 });
    assert.equal(await page.inputValue('#upload-pem'), successor.pem);
    await page.click('#upload-submit');
    await page.getByText('Uploaded Successor CA').waitFor();

    const listed = (await org.certificates.list()).data;
    caId = listed.find((c) => c.name === 'Production clients CA')!.id;
    successorId = listed.find((c) => c.name === 'Successor CA')!.id;
    const caRow = page.locator(`#certificates-table tr[data-certificate-id="${caId}"]`);
    const successorRow = page.locator(`#certificates-table tr[data-certificate-id="${successorId}"]`);
    assert.match((await caRow.locator('.badge').textContent()) ?? '', /^36[45] days$/);
    assert.equal(await caRow.locator('.badge').getAttribute('class'), 'badge ok');
    assert.match((await successorRow.locator('.badge').textContent()) ?? '', /^(19|20) days$/);
    assert.equal(await successorRow.locator('.badge').getAttribute('class'), 'badge warning');
    assert.equal(await caRow.locator('[data-action="delete"]').isEnabled(), true);
  });

  await t.test('rename through a dialog', async () => {
    await page.locator(`tr[data-certificate-id="${successorId}"] [data-action="rename"]`).click();
    await page.fill('#rename-input', 'Successor CA (2026)');
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await page.locator(`tr[data-certificate-id="${successorId}"] .name`, { hasText: 'Successor CA (2026)' }).waitFor();
    assert.equal((await org.certificates.retrieve(successorId)).name, 'Successor CA (2026)');
  });

  await t.test('the matrix activates an anchor for a project, and delete is disabled with the reason', async () => {
    await page.click('.nav a[data-view="access"]');
    const box = page.locator(`#matrix tr[data-certificate-id="${caId}"] input[data-scope="${project.id}"]`);
    await box.waitFor();
    assert.equal(await box.isChecked(), false);
    await box.click();
    await page.getByRole('status').filter({ hasText: 'Activated Production clients CA in Payments.' }).waitFor();
    assert.equal(await page.locator(`#matrix tr[data-certificate-id="${caId}"] input[data-scope="${project.id}"]`).isChecked(), true);
    assert.equal(await page.locator(`#matrix tr[data-certificate-id="${caId}"] input[data-scope="organization"]`).isChecked(), false);
    await shot('03-access');
    const inProject = (await org.projects.certificates.list(project.id)).data;
    assert.equal(inProject.find((c) => c.id === caId)?.active, true);
    assert.equal((await org.certificates.list()).data.find((c) => c.id === caId)?.active, false);

    await page.click('.nav a[data-view="certificates"]');
    const del = page.locator(`tr[data-certificate-id="${caId}"] [data-action="delete"]`);
    await del.waitFor();
    assert.equal(await del.isDisabled(), true);
    assert.match((await del.getAttribute('title')) ?? '', new RegExp(`Active in: ${project.id}`));
    await page.locator(`tr[data-certificate-id="${caId}"] .reason`, { hasText: `active in ${project.id}` }).waitFor();
  });

  await t.test('the filter editor shows a refusal and saves a valid expression', async () => {
    await page.locator(`tr[data-certificate-id="${caId}"] [data-action="filter"]`).click();
    await page.getByText('No filter set').waitFor();
    await page.fill('#filter-input', 'subject.organization ==');
    await page.getByRole('dialog').getByRole('button', { name: 'Save filter' }).click();
    const refused = await server.request('PUT', `/v1/organization/certificates/${caId}/filter`, { expression: 'subject.organization ==' });
    assert.equal(refused.status, 400);
    await page.getByRole('dialog').getByRole('alert').filter({ hasText: refused.body.error.message.slice(0, 40) }).waitFor();
    await page.fill('#filter-input', 'subject.organization == "Example"');
    await page.getByRole('dialog').getByRole('button', { name: 'Save filter' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    assert.equal((await server.request('GET', `/v1/organization/certificates/${caId}/filter`)).body.expression, 'subject.organization == "Example"');
  });

  await t.test('testing a client certificate shows the verdict and every check', async () => {
    await page.click('.nav a[data-view="verify"]');
    await page.locator(`#verify-project option[value="${project.id}"]`).waitFor({ state: 'attached' });
    await page.fill('#verify-pem', client.pem);
    await page.selectOption('#verify-project', project.id);
    await page.click('#verify-submit');
    await page.locator('#verdict', { hasText: 'Accepted' }).waitFor();
    const checks = await page.locator('#checks tbody tr').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-check'), r.className]));
    assert.ok(checks.length >= 5, `checks shown: ${JSON.stringify(checks)}`);
    assert.ok(checks.every(([, cls]) => cls === 'pass'));
    assert.ok(checks.some(([name]) => name === 'trusted_issuer'));
    assert.ok(checks.some(([name]) => name === 'filter'));
    await shot('04-verify');

    await page.fill('#verify-pem', stranger.pem);
    await page.click('#verify-submit');
    await page.locator('#verdict', { hasText: 'Refused' }).waitFor();
    assert.equal(await page.locator('#checks tr[data-check="trusted_issuer"]').getAttribute('class'), 'fail');
  });

  await t.test('a deactivation that would lock out a seen client asks first, with the client named', async () => {
    // Two anchors in force in the project; the gateways have seen a client of the first one.
    await org.projects.certificates.activate(project.id, { certificate_ids: [successorId] });
    const der = Buffer.from(client.cert.rawData);
    const now = Math.floor(Date.now() / 1000);
    await server.rt.store.recordClients(DEFAULT_ORGANIZATION_ID, [{
      projectId: project.id,
      serviceAccountId: 'svc_acct_billing',
      fingerprint: createHash('sha256').update(der).digest('hex'),
      subject: 'CN=billing-worker, O=Example',
      chain: [der],
      certificateId: caId,
      firstSeen: now - 3600,
      lastSeen: now - 60,
      requests: 42,
    }], now - 7 * 86400, 10_000);

    await page.click('.nav a[data-view="access"]');
    const box = page.locator(`#matrix tr[data-certificate-id="${caId}"] input[data-scope="${project.id}"]`);
    await box.waitFor();
    await box.click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('1 client would be locked out').waitFor();
    await dialog.locator('#lockout').getByText('CN=billing-worker').waitFor();
    await dialog.locator('#lockout').getByText('svc_acct_billing').waitFor();
    await shot('05-lockout-preview');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await box.isChecked(), true);
    assert.equal((await org.projects.certificates.list(project.id)).data.find((c) => c.id === caId)?.active, true);

    await box.click();
    await dialog.getByRole('button', { name: 'Deactivate anyway' }).click();
    await page.getByRole('status').filter({ hasText: 'Deactivated Production clients CA in Payments.' }).waitFor();
    assert.equal(await page.locator(`#matrix tr[data-certificate-id="${caId}"] input[data-scope="${project.id}"]`).isChecked(), false);
    assert.equal((await org.projects.certificates.list(project.id)).data.find((c) => c.id === caId)?.active, false);
  });

  await t.test('the certificates view, for the README', async () => {
    await page.click('.nav a[data-view="certificates"]');
    await page.locator('#certificates-table').waitFor();
    await shot('02-certificates');
  });

  /** Waits (10 s at most) for the audit table to show these event types, in order; the assertion after it says what it shows instead. */
  const auditRowsBecome = (expected: string[]) =>
    page
      .waitForFunction(
        (want) => JSON.stringify([...document.querySelectorAll('#audit-table tbody tr')].map((r) => r.getAttribute('data-event-type'))) === JSON.stringify(want),
        expected,
        { timeout: 10_000 },
      )
      .catch(() => undefined);

  await t.test('the audit log shows the changes made in the console, newest first, with filters', async () => {
    await page.click('.nav a[data-view="audit"]');
    await page.locator('#audit-table tr[data-event-type="certificates.deactivated"]').first().waitFor();
    const types = await page.locator('#audit-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event-type')));
    assert.ok(types.includes('certificate.created'), types.join(', '));
    assert.ok(types.includes('certificates.activated'), types.join(', '));
    assert.ok(types.includes('certificate.filter.updated'), types.join(', '));
    assert.equal(types[0], 'certificates.deactivated', 'newest first');
    const offered = await page.locator('#audit-type option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value).filter(Boolean));
    assert.deepEqual([...offered].sort(), [...AUDIT_EVENT_TYPES].sort(), 'the console offers every event type the server records');
    await shot('06-audit-log');

    await page.selectOption('#audit-type', 'certificates.activated');
    await page.selectOption('#audit-project', project.id);
    await page.click('#audit-apply');
    await auditRowsBecome(['certificates.activated', 'certificates.activated']);
    const filtered = await page.locator('#audit-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event-type')));
    assert.deepEqual(filtered, ['certificates.activated', 'certificates.activated']);
    await page.locator('#audit-table tbody tr').first().getByText(successorId).waitFor();

    await page.selectOption('#audit-type', '');
    await page.selectOption('#audit-project', '');
    await page.fill('#audit-resource', caId);
    await page.click('#audit-apply');
    await auditRowsBecome(['certificates.deactivated', 'certificate.filter.updated', 'certificates.activated', 'certificate.created']);
    const forCa = await page.locator('#audit-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event-type')));
    assert.deepEqual(forCa, ['certificates.deactivated', 'certificate.filter.updated', 'certificates.activated', 'certificate.created']);
  });

  await t.test('at 800 px and on a phone (390 px) no table spills out of its card, and the Access matrix keeps its first column in view', async () => {
    for (let i = 0; i < 8; i++) await org.projects.create({ name: `Narrow screen project ${i}` });
    const ready = { certificates: '#certificates-table', access: '#matrix', audit: '#audit-table tbody tr' } as const;
    for (const width of [800, 390]) {
      await page.setViewportSize({ width, height: 860 });
      for (const [view, selector] of Object.entries(ready)) {
        await page.click(`.nav a[data-view="${view}"]`);
        await page.locator(selector).first().waitFor();
        const spills = await page.evaluate(() =>
          [...document.querySelectorAll('table')]
            .filter((table) => (table as HTMLElement).offsetParent !== null)
            .flatMap((table) => {
              const box = (table.closest('.scroll') ?? table).getBoundingClientRect();
              const card = (table.closest('.panel') ?? table.closest('.view'))!.getBoundingClientRect();
              return box.left < card.left - 1 || box.right > card.right + 1 ? [`#${table.id}: ${box.left}..${box.right} outside its card ${card.left}..${card.right}`] : [];
            }),
        );
        assert.deepEqual(spills, [], `${view} at ${width} px`);
        const page_ = await page.evaluate(() => ({
          scroll: document.documentElement.scrollWidth,
          width: window.innerWidth,
          // the outermost elements that reach past the window, to name in a failure
          past: [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.scroll') && !(e.parentElement && e.parentElement.getBoundingClientRect().right > window.innerWidth + 1))
            .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}.${[...e.classList].join('.')}`)
            .slice(0, 5),
        }));
        assert.ok(page_.scroll <= page_.width + 1, `${view} at ${width} px: the page does not scroll sideways (${page_.scroll} > ${page_.width}: ${page_.past.join(', ')})`);
        await shot(`narrow-${width}-${view}`);
      }
      await page.click('.nav a[data-view="access"]');
      await page.locator('#matrix').waitFor();
      const matrix = await page.evaluate(() => {
        const wrap = document.querySelector('#matrix')!.closest('.scroll')!;
        wrap.scrollLeft = wrap.scrollWidth;
        const first = document.querySelector('#matrix tbody tr > th')!.getBoundingClientRect();
        return { overflow: wrap.scrollWidth - wrap.clientWidth, scrolled: wrap.scrollLeft, wrapLeft: wrap.getBoundingClientRect().left, firstLeft: first.left, firstWidth: first.width };
      });
      assert.ok(matrix.overflow > 0 && matrix.scrolled > 0, `at ${width} px the matrix is wider than its card and scrolls: ${JSON.stringify(matrix)}`);
      assert.ok(Math.abs(matrix.firstLeft - matrix.wrapLeft) <= 1 && matrix.firstWidth > 40, `the certificate column stays in view: ${JSON.stringify(matrix)}`);
      await shot(`narrow-${width}-access-scrolled`);
    }
    await page.setViewportSize({ width: 1360, height: 860 });
  });

  await t.test('a read-only key sees the certificates, and the server\'s permission message where it lacks one', async () => {
    const created = await server.request('POST', '/v1/organization/admin_api_keys', { name: 'viewer', permissions: ['api.mtls.read'] });
    assert.equal(created.status, 200, created.text);
    await page.click('#signout');
    await page.fill('#signin-key', created.body.value);
    await page.click('#signin-submit');
    await page.locator(`#certificates-table tr[data-certificate-id="${caId}"]`).waitFor();
    // Listing projects needs api.management.read: the page says so instead of failing.
    await page.getByRole('status').filter({ hasText: 'api.management.read' }).waitFor();
    await page.fill('#upload-pem', ca.pem);
    await page.click('#upload-submit');
    await page.getByRole('alert').filter({ hasText: 'insufficient permissions' }).filter({ hasText: 'api.mtls.write' }).waitFor();
    await page.click('.nav a[data-view="audit"]');
    await page.getByRole('alert').filter({ hasText: 'api.audit_logs.read' }).waitFor();
    assert.equal((await org.certificates.list()).data.length, 2, 'nothing was uploaded');
  });

  await t.test('sign out forgets the key', async () => {
    await page.click('#signout');
    await page.locator('#signin-key').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    await page.reload();
    await page.locator('#signin-key').waitFor();
  });

  await t.test('no script error and no policy violation during the whole flow', () => {
    assert.deepEqual(problems, []);
    // Only the refusals this test provoked (a wrong key or a missing permission: 401; bad input: 400), never a
    // 404 from a URL the console got wrong.
    assert.ok(refusedLoads.length > 0);
    for (const line of refusedLoads) assert.match(line, /status of (400|401)\b/);
    t.diagnostic(`screenshots in ${shots.path}`);
  });
});
