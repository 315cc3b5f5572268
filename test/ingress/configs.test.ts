// The shipped ingress configurations as files: every placeholder documented at the top, each file accepted by its
// ingress's own checker once filled in, and the untested ones saying so on their first line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { binary, CONFIG_FILES, fillIn, placeholders, shippedConfig, type IngressKind } from '../support/ingress.js';
import { tempDir } from '../support/server.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

describe('docs/ingress configurations', () => {
  it('document every placeholder they use, at the top of the file', () => {
    for (const file of [...Object.values(CONFIG_FILES), 'docs/ingress/envoy.yaml', 'docs/ingress/traefik.yml']) {
      const { used, documented } = placeholders(readFileSync(join(ROOT, file), 'utf8'));
      assert.ok(used.size > 0, file);
      assert.deepEqual([...used].filter((name) => !documented.has(name)), [], `${file}: placeholders used but not documented`);
    }
  });

  it('mark the configurations the suite does not run as untested, on their first line', () => {
    for (const file of ['docs/ingress/envoy.yaml', 'docs/ingress/traefik.yml']) assert.match(readFileSync(join(ROOT, file), 'utf8').split('\n')[0]!, /^# UNTESTED:/, file);
  });

  it("pass their ingress's own configuration check once filled in", () => {
    const dir = tempDir('certgate-ingress-check-');
    try {
      // the checkers open the certificate files: any PEM pair will do
      const pki = join(dir.path, 'pki');
      mkdirSync(pki);
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(pki, 'k.pem'), '-out', join(pki, 'c.pem'), '-subj', '/CN=localhost', '-days', '1'], { stdio: 'ignore' });
      assert.equal(made.status, 0, 'openssl made a certificate');
      writeFileSync(join(pki, 'both.pem'), readFileSync(join(pki, 'c.pem'), 'utf8') + readFileSync(join(pki, 'k.pem'), 'utf8'));
      const values = {
        LISTEN: '127.0.0.1:47690', SITE: 'https://localhost:47690', SERVER_CERT: join(pki, 'c.pem'), SERVER_KEY: join(pki, 'k.pem'), SERVER_PEM: join(pki, 'both.pem'),
        CLIENT_CA_FILE: join(pki, 'c.pem'), CERTGATE_DECIDE: '127.0.0.1:47691', CERTGATE_GATEWAY: '127.0.0.1:47691', INGRESS_SECRET: 'ingress-secret-0123456789abcdef',
        UPSTREAM_URL: 'http://127.0.0.1:47692', RUN_DIR: dir.path, CACHE_DIR: join(dir.path, 'cache'), DATA_DIR: join(dir.path, 'data'),
      };
      const checks: Record<IngressKind, (file: string) => string[]> = {
        nginx: (file) => ['-t', '-q', '-c', file, '-e', 'stderr'],
        haproxy: (file) => ['-c', '-q', '-f', file],
        caddy: (file) => ['validate', '--config', file, '--adapter', 'caddyfile'],
      };
      for (const kind of Object.keys(checks) as IngressKind[]) {
        const file = join(dir.path, kind === 'caddy' ? 'Caddyfile' : `${kind}.conf`);
        writeFileSync(file, fillIn(shippedConfig(kind), values));
        const run = spawnSync(binary(kind), checks[kind](file), { encoding: 'utf8', env: { ...process.env, HOME: dir.path, XDG_CONFIG_HOME: dir.path, XDG_DATA_HOME: dir.path } });
        assert.equal(run.status, 0, `${kind}: ${run.stdout}${run.stderr}`);
      }
    } finally {
      dir.remove();
    }
  });
});
