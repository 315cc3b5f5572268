// Without TLS files the gateway serves a self-signed certificate made once and kept in the data directory: its
// certificate in gateway-cert.pem (0644, for clients' `ca`), its key with the certificate in gateway-key.pem (0600).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { describe, it } from 'node:test';
import { startGateway } from '../../src/commands/gateway.js';
import { ConfigError, gatewayConfig } from '../../src/config.js';
import { GATEWAY_CERT_FILE, GATEWAY_KEY_FILE, keptCertificate, selfSignedLocalhost } from '../../src/gateway/self-signed.js';
import { spawnCertgate } from '../support/processes.js';
import { tempDir } from '../support/server.js';

/** A TLS handshake with the gateway, trusting only ca: whether the gateway's certificate verified, and its fingerprint. */
function handshake(url: string, ca: string): Promise<{ authorized: boolean; error?: string; fingerprint: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port), servername: 'localhost', ca, rejectUnauthorized: false }, () => {
      resolve({ authorized: socket.authorized, error: socket.authorizationError?.toString(), fingerprint: socket.getPeerCertificate().fingerprint256 });
      socket.end();
    });
    socket.once('error', reject);
  });
}

const config = (dir: string, port = 0) => gatewayConfig(['--port', String(port), '--upstream-url', 'http://127.0.0.1:9', '--data-dir', dir], {});
const mode = (file: string) => statSync(file).mode & 0o777;
/** What a file is, to the byte and the inode: content, inode, mtime. */
const identity = (file: string) => {
  const s = statSync(file);
  return { text: readFileSync(file, 'utf8'), ino: s.ino, mtimeMs: s.mtimeMs, mode: s.mode & 0o777 };
};

describe('the gateway with no TLS files', () => {
  it('keeps its certificate in gateway-cert.pem (0644, no key) and its key in gateway-key.pem (0600); a client trusting the certificate file connects', async () => {
    const dir = tempDir();
    const gateway = await startGateway(config(dir.path), { quiet: true });
    try {
      const certFile = join(dir.path, GATEWAY_CERT_FILE);
      const keyFile = join(dir.path, GATEWAY_KEY_FILE);
      const pem = readFileSync(certFile, 'utf8');
      assert.match(pem, /^-----BEGIN CERTIFICATE-----\n/);
      assert.ok(!pem.includes('PRIVATE' + ' KEY'), 'the certificate file holds no key');
      assert.equal(mode(certFile), 0o644, 'the certificate is public');
      assert.equal(mode(keyFile), 0o600, 'the key is readable by certgate\'s user alone');
      assert.match(readFileSync(keyFile, 'utf8'), /-----BEGIN PRIVATE KEY-----/);
      assert.deepEqual(readdirSync(dir.path).filter((name) => name.endsWith('.tmp')), [], 'no partial file left');

      const served = await handshake(gateway.url, pem);
      assert.equal(served.authorized, true, served.error);
      // the same handshake trusting another certificate fails: the file is what made it succeed
      const other = await selfSignedLocalhost();
      assert.equal((await handshake(gateway.url, other.cert)).authorized, false);
      const res = await fetch(`${gateway.url}/healthz`).catch((err: Error) => err);
      assert.ok(res instanceof Error, 'without the file, a default client refuses the self-signed certificate');
    } finally {
      await gateway.close();
      dir.remove();
    }
  });

  it('serves the same certificate after a restart, and leaves both files as they were', async () => {
    const dir = tempDir();
    try {
      const first = await startGateway(config(dir.path), { quiet: true });
      const ca = readFileSync(join(dir.path, GATEWAY_CERT_FILE), 'utf8');
      const before = { cert: identity(join(dir.path, GATEWAY_CERT_FILE)), key: identity(join(dir.path, GATEWAY_KEY_FILE)) };
      const fingerprint = (await handshake(first.url, ca)).fingerprint;
      await first.close();
      const second = await startGateway(config(dir.path), { quiet: true });
      try {
        const served = await handshake(second.url, ca);
        assert.equal(served.authorized, true, 'a client holding the old file still trusts the gateway');
        assert.equal(served.fingerprint, fingerprint);
        assert.deepEqual({ cert: identity(join(dir.path, GATEWAY_CERT_FILE)), key: identity(join(dir.path, GATEWAY_KEY_FILE)) }, before);
      } finally {
        await second.close();
      }
    } finally {
      dir.remove();
    }
  });

  it('two gateway processes started at once on one data directory serve the same certificate, the one in the file', async () => {
    const dir = tempDir();
    try {
      // several rounds, each on a fresh directory: the two processes race for the files each time
      for (let round = 0; round < 3; round++) {
        const data = join(dir.path, `round-${round}`);
        const args = ['--data-dir', data, '--upstream-url', 'http://127.0.0.1:9'];
        const [a, b] = await Promise.all([spawnCertgate('gateway', args), spawnCertgate('gateway', args)]);
        try {
          const ca = readFileSync(join(data, GATEWAY_CERT_FILE), 'utf8');
          const [fromA, fromB] = await Promise.all([handshake(a.url, ca), handshake(b.url, ca)]);
          assert.equal(fromA.authorized, true, fromA.error);
          assert.equal(fromB.authorized, true, fromB.error);
          assert.equal(fromA.fingerprint, fromB.fingerprint);
          const made = [a, b].filter((p) => /"made":true/.test(p.output())).length;
          assert.ok(made <= 1, 'at most one of them made the pair');
          assert.deepEqual(readdirSync(data).filter((name) => name.endsWith('.tmp')), []);
        } finally {
          await Promise.all([a.stop(), b.stop()]);
        }
      }
    } finally {
      dir.remove();
    }
  });

  it('the pair made by concurrent calls in one process is one pair', async () => {
    const dir = tempDir();
    try {
      const all = await Promise.all(Array.from({ length: 8 }, () => keptCertificate(dir.path)));
      assert.equal(new Set(all.map((k) => k.cert)).size, 1);
      assert.equal(new Set(all.map((k) => k.key)).size, 1);
      assert.equal(all.filter((k) => k.made).length, 1);
    } finally {
      dir.remove();
    }
  });

  it('a start on a port in use leaves the existing pair untouched, and a first start on a port in use makes none', async () => {
    const dir = tempDir();
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(48_017, '127.0.0.1', () => resolve()));
    try {
      const running = await startGateway(config(dir.path), { quiet: true });
      const before = { cert: identity(join(dir.path, GATEWAY_CERT_FILE)), key: identity(join(dir.path, GATEWAY_KEY_FILE)) };
      try {
        await assert.rejects(startGateway(config(dir.path, 48_017), { quiet: true }), ConfigError);
        assert.deepEqual({ cert: identity(join(dir.path, GATEWAY_CERT_FILE)), key: identity(join(dir.path, GATEWAY_KEY_FILE)) }, before);
        assert.equal((await handshake(running.url, before.cert.text)).authorized, true, 'the running gateway is still trusted');
      } finally {
        await running.close();
      }
      const fresh = join(dir.path, 'fresh');
      await assert.rejects(startGateway(config(fresh, 48_017), { quiet: true }), ConfigError);
      assert.equal(existsSync(join(fresh, GATEWAY_KEY_FILE)), false);
      assert.equal(existsSync(join(fresh, GATEWAY_CERT_FILE)), false);
    } finally {
      busy.close();
      dir.remove();
    }
  });

  it('replaces the per-run certificate an earlier certgate left without its key, and never a kept pair that is unusable', async () => {
    const dir = tempDir();
    try {
      const earlier = await selfSignedLocalhost();
      writeFileSync(join(dir.path, GATEWAY_CERT_FILE), earlier.cert, { mode: 0o600 });
      const kept = await keptCertificate(dir.path);
      assert.equal(kept.made, true);
      assert.notEqual(kept.cert, earlier.cert);
      assert.equal(readFileSync(join(dir.path, GATEWAY_CERT_FILE), 'utf8'), kept.cert);
      assert.equal(mode(join(dir.path, GATEWAY_CERT_FILE)), 0o644);

      // a key file whose key is not its certificate's: refused, left as it is
      const other = await selfSignedLocalhost();
      const broken = `${other.key}${kept.cert}`;
      writeFileSync(join(dir.path, GATEWAY_KEY_FILE), broken);
      await assert.rejects(keptCertificate(dir.path), (err: Error) => err instanceof ConfigError && err.message.includes(GATEWAY_KEY_FILE) && !err.message.includes('PRIVATE KEY'));
      assert.equal(readFileSync(join(dir.path, GATEWAY_KEY_FILE), 'utf8'), broken);
    } finally {
      dir.remove();
    }
  });
});
