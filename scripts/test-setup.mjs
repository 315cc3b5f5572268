#!/usr/bin/env node
// What the test suite needs beyond npm, set up when missing, so that `npm test` passes on a fresh machine by
// itself (it runs as `pretest`; .ci/run runs it too):
// - Debian's Chromium for the console's browser test (apt-get, when /usr/bin/chromium is absent and we are root);
// - Debian's nginx, HAProxy and Caddy for test/ingress, which runs the configurations in docs/ingress (same way);
//   their own system services are kept from starting at install (a policy-rc.d that says no, for the install only):
//   the tests start each as a child process on ports of their own, never the packages' services on 80/443;
// - curl, jq and openssl for the README's walkthrough, which test/package/readme.test.ts runs as written;
// - a Python virtual environment with the official `openai` package for test/api/python-sdk.test.ts, made with
//   pip from the machine's configured index or wheel mirror, and kept in node_modules/.cache/certgate-python.
// A step that cannot be done is said on stderr and left to the test that needs it, which then fails saying why.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the Python SDK's environment lives; test/support/python.ts reads the same path. */
export const PYTHON_ENV = join(ROOT, 'node_modules', '.cache', 'certgate-python');
const CHROMIUM = process.env.CERTGATE_CHROMIUM ?? '/usr/bin/chromium';

const say = (line) => process.stderr.write(`test-setup: ${line}\n`);
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

/**
 * Installs Debian packages when `present()` says they are missing and we are root with apt-get. Their services are
 * not started by the install: when the machine has no /usr/sbin/policy-rc.d, one that denies every start is put
 * there for the install's duration (containers usually have one already).
 */
function ensureDebian(packages, present, why) {
  if (present()) return true;
  if (!has('apt-get') || process.getuid?.() !== 0) {
    say(`missing for ${why}: install Debian's ${packages.join(' ')} (apt-get install -y ${packages.join(' ')})`);
    return false;
  }
  say(`installing Debian's ${packages.join(' ')} for ${why}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\n# written by certgate scripts/test-setup.mjs during apt-get install; removed after\nexit 101\n', { mode: 0o755 });
  try {
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    const install = update.status === 0 && spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env });
    return Boolean(install && install.status === 0 && present());
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
}

export function ensureChromium() {
  return ensureDebian(['chromium'], () => existsSync(CHROMIUM), `the console test (expected at ${CHROMIUM})`);
}

/** nginx (with auth_request), HAProxy and Caddy, which test/ingress runs with the configurations in docs/ingress. */
export function ensureIngresses() {
  const all = () => ['nginx', 'haproxy', 'caddy'].every(has) && ngxAuthRequest();
  return ensureDebian(['nginx', 'haproxy', 'caddy'], all, 'the ingress tests (test/ingress)');
}

function ngxAuthRequest() {
  const v = spawnSync('nginx', ['-V'], { encoding: 'utf8' });
  return /http_auth_request_module/.test(`${v.stdout}${v.stderr}`);
}

/** The environment's python when it imports openai, else undefined. */
function usable(dir) {
  const python = join(dir, 'bin', 'python');
  return existsSync(python) && spawnSync(python, ['-c', 'import openai'], { stdio: 'ignore' }).status === 0 ? python : undefined;
}

/** The Python interpreter of an environment holding the official openai package; made when missing. Throws with pip's words. */
export function ensurePythonSdk() {
  const ready = usable(PYTHON_ENV);
  if (ready) return ready;
  if (!has('python3')) throw new Error('python3 is not installed: the Python SDK test needs it (apt-get install -y python3 python3-venv)');
  say(`making a Python environment with the openai package in ${PYTHON_ENV} (once)`);
  // made in place: an interrupted build does not import openai, so the next run makes it again
  rmSync(PYTHON_ENV, { recursive: true, force: true });
  mkdirSync(dirname(PYTHON_ENV), { recursive: true });
  try {
    execFileSync('python3', ['-m', 'venv', PYTHON_ENV], { stdio: ['ignore', 'pipe', 'pipe'] });
    // --retries 0: an index this machine cannot reach is skipped at once instead of retried for minutes
    execFileSync(join(PYTHON_ENV, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '--retries', '0', 'openai'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  } catch (err) {
    const output = `${err.stdout ?? ''}${err.stderr ?? ''}`.split('\n').filter((l) => !/Retrying|is ignored/.test(l)).join('\n');
    throw new Error(`could not install the Python openai package into a virtual environment: ${err.message}\n${output}`);
  }
  const python = usable(PYTHON_ENV);
  if (!python) throw new Error(`the Python environment in ${PYTHON_ENV} does not import openai after install`);
  return python;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  ensureChromium();
  ensureIngresses();
  // the README's walkthrough runs as written (test/package/readme.test.ts): it calls these
  ensureDebian(['curl', 'jq', 'openssl'], () => ['curl', 'jq', 'openssl'].every(has), "the README's walkthrough");
  try {
    say(`Python SDK ready: ${ensurePythonSdk()}`);
  } catch (err) {
    say(err.message);
  }
}
