// Without TLS files the gateway makes its own certificate, and leaves it in the data directory for clients' `ca`.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { describe, it } from 'node:test';
import { startGateway } from '../../src/commands/gateway.js';
import { gatewayConfig } from '../../src/config.js';
import { GATEWAY_CERT_FILE, selfSignedLocalhost } from '../../src/gateway/self-signed.js';
import { tempDir } from '../support/server.js';

/** A TLS handshake with the gateway, trusting only ca: whether the gateway's certificate verified. */
function handshake(url: string, ca: string): Promise<{ authorized: boolean; error?: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port), servername: 'localhost', ca, rejectUnauthorized: false }, () => {
      resolve({ authorized: socket.authorized, error: socket.authorizationError?.toString() });
      socket.end();
    });
    socket.once('error', reject);
  });
}

describe('the gateway with no TLS files', () => {
  it('writes its generated certificate, and no key, to <data-dir>/gateway-cert.pem; a client trusting that file connects', async () => {
    const dir = tempDir();
    const gateway = await startGateway(gatewayConfig(['--port', '0', '--upstream-url', 'http://127.0.0.1:9', '--data-dir', dir.path], {}), { quiet: true });
    try {
      const file = join(dir.path, GATEWAY_CERT_FILE);
      const pem = readFileSync(file, 'utf8');
      assert.match(pem, /^-----BEGIN CERTIFICATE-----\n/);
      assert.ok(!pem.includes('PRIVATE' + ' KEY'), 'the key stays in memory');
      assert.equal(statSync(file).mode & 0o777, 0o600, "like every file of the data directory (issue 17)");

      assert.deepEqual(await handshake(gateway.url, pem), { authorized: true, error: undefined });
      // the same handshake trusting another certificate fails: the file is what made it succeed
      const other = await selfSignedLocalhost();
      const refused = await handshake(gateway.url, other.cert);
      assert.equal(refused.authorized, false);

      const res = await fetch(`${gateway.url}/healthz`).catch((err: Error) => err);
      assert.ok(res instanceof Error, 'without the file, a default client refuses the self-signed certificate');
    } finally {
      await gateway.close();
      dir.remove();
    }
  });

  it('replaces the file with the certificate of the run', async () => {
    const dir = tempDir();
    const config = gatewayConfig(['--port', '0', '--upstream-url', 'http://127.0.0.1:9', '--data-dir', dir.path], {});
    try {
      const first = await startGateway(config, { quiet: true });
      const before = readFileSync(join(dir.path, GATEWAY_CERT_FILE), 'utf8');
      await first.close();
      const second = await startGateway(config, { quiet: true });
      const now = readFileSync(join(dir.path, GATEWAY_CERT_FILE), 'utf8');
      assert.notEqual(now, before);
      assert.equal((await handshake(second.url, now)).authorized, true);
      await second.close();
    } finally {
      dir.remove();
    }
  });
});
