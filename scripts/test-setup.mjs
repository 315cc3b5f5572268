#!/usr/bin/env node
// What the test suite needs beyond npm, set up when missing, so that `npm test` passes on a fresh machine by
// itself (it runs as `pretest`; .ci/run runs it too):
// - Debian's Chromium for the console's browser test, and curl, jq and openssl for the README's walkthrough
//   (apt-get, when missing and we are root);
// - a Python virtual environment with the official `openai` package for test/api/python-sdk.test.ts, made with
//   pip from the machine's configured index or wheel mirror, and kept in node_modules/.cache/certgate-python.
// A step that cannot be done is said on stderr and left to the test that needs it, which then fails saying why.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the Python SDK's environment lives; test/support/python.ts reads the same path. */
export const PYTHON_ENV = join(ROOT, 'node_modules', '.cache', 'certgate-python');
const CHROMIUM = process.env.CERTGATE_CHROMIUM ?? '/usr/bin/chromium';

const say = (line) => process.stderr.write(`test-setup: ${line}\n`);
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

/** A Debian package's program (a path, or a command on the PATH), installed with apt-get when missing and we are root. */
function ensureDebianPackage(pkg, program, purpose) {
  const present = () => (program.startsWith('/') ? existsSync(program) : has(program));
  if (present()) return true;
  if (!has('apt-get') || process.getuid?.() !== 0) {
    say(`${program} is missing: install Debian's package (apt-get install -y ${pkg}) for ${purpose}`);
    return false;
  }
  say(`installing Debian's ${pkg} for ${purpose}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = update.status === 0 && spawnSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'inherit', env });
  return Boolean(install && install.status === 0 && present());
}

export function ensureChromium() {
  return ensureDebianPackage('chromium', CHROMIUM, 'the console test');
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
  // the README's walkthrough runs as written (test/package/readme.test.ts): it calls these
  for (const tool of ['curl', 'jq', 'openssl']) ensureDebianPackage(tool, tool, "the README's walkthrough");
  try {
    say(`Python SDK ready: ${ensurePythonSdk()}`);
  } catch (err) {
    say(err.message);
  }
}
