import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CLI } from '../support/processes.js';
import { tempDir } from '../support/server.js';

// The systemd units under deploy/, checked by systemd's own `systemd-analyze verify` (every key known, every
// value parsed, the command executable), with only the path of the certgate command put where the test built it.

const run = promisify(execFile);
const DEPLOY = new URL('../../../deploy/', import.meta.url).pathname;
const UNITS = ['certgate.service', 'certgate-gateway.service'];
const HARDENING = [
  'User=certgate',
  'StateDirectory=certgate',
  'StateDirectoryMode=0700',
  'UMask=0077',
  'NoNewPrivileges=yes',
  'ProtectSystem=strict',
  'ProtectHome=yes',
  'PrivateTmp=yes',
  'PrivateDevices=yes',
  'RestrictSUIDSGID=yes',
  'SystemCallFilter=@system-service',
  'CapabilityBoundingSet=',
];

/** systemd-analyze verify on a copy of the unit whose `/usr/bin/certgate` is this build's command; its exit status and what it printed. */
async function verify(unit: string, text: string): Promise<{ code: number; output: string }> {
  const dir = tempDir();
  try {
    const command = join(dir.path, 'certgate');
    writeFileSync(command, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`);
    chmodSync(command, 0o755);
    const path = join(dir.path, unit);
    writeFileSync(path, text.replaceAll('/usr/bin/certgate', command));
    return await run('systemd-analyze', ['verify', '--man=no', path]).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, output: err.stdout + err.stderr }),
    );
  } finally {
    dir.remove();
  }
}

describe('deploy/: the systemd units', () => {
  for (const unit of UNITS) {
    it(`${unit} passes systemd-analyze verify with nothing to say, and is hardened`, async () => {
      const text = readFileSync(join(DEPLOY, unit), 'utf8');
      const result = await verify(unit, text);
      assert.equal(result.code, 0, result.output);
      assert.equal(result.output.trim(), '', 'no unknown key, no bad value');
      const lines = new Set(text.split('\n').map((l) => l.trim()));
      for (const directive of HARDENING) assert.ok(lines.has(directive), `${unit}: ${directive}`);
      assert.doesNotMatch(text, /PRIVATE KEY|sk-admin-|sk-svcacct-/, 'no secret in a unit file');
    });
  }

  it('the check itself catches a mistyped directive and a command that is not there', async () => {
    const text = readFileSync(join(DEPLOY, UNITS[0]!), 'utf8');
    const typo = await verify(UNITS[0]!, text.replace('ProtectSystem=strict', 'ProtectSystm=strict'));
    assert.match(typo.output, /Unknown key/);
    const missing = await verify(UNITS[0]!, text.replace('ExecStart=/usr/bin/certgate', 'ExecStart=/nonexistent/certgate'));
    assert.notEqual(missing.code, 0);
  });
});
