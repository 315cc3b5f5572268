import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { crlDer, MAX_CRL_BYTES, readCrl, revokedSerials, serialKey, signedBy } from '../../../src/domain/x509/crl.js';
import { readCertificate } from '../../../src/domain/x509/certificate.js';
import { DerError } from '../../../src/domain/x509/der.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, makeClient, makeCrl, type Issued } from '../../support/pki.js';

describe('CRL reading', () => {
  it('reads a CRL of 10,000 serials into a set, and checks who signed it', async () => {
    const ca = await makeCa();
    const revoked = await makeClient(ca);
    const serials = Array.from({ length: 9_999 }, (_, i) => (0x10000000 + i * 7919).toString(16) + 'abcdef0123');
    const crl = readCrl(await makeCrl(ca, { revoked: [revoked], serials }));
    assert.equal(crl.revoked.size, 10_000);
    assert.ok(crl.revoked.has(serialKey(new (await import('node:crypto')).X509Certificate(revoked.pem).serialNumber)));
    assert.equal(await signedBy(crl, readCertificate(Buffer.from(ca.cert.rawData))), true);
    assert.equal(await signedBy(crl, readCertificate(Buffer.from((await makeCa()).cert.rawData))), false, 'another name and key');
    assert.equal(await signedBy(crl, readCertificate(Buffer.from((await makeCa({ name: 'certgate test CA' })).cert.rawData))), false, 'the same name, another key');
  });

  it('reads the same serials as OpenSSL from a CRL OpenSSL made, with and without entries', async () => {
    const ca = await makeCa();
    // serials as OpenSSL's index writes them: a high first bit, one byte, twenty bytes
    const serials = ['FF01', '0A', '7F', '80', '7FEEDDCCBBAA99887766554433221100AABBCCDD'];
    for (const listed of [serials, []]) {
      const pem = opensslCrl(ca, listed);
      const text = execFileSync('openssl', ['crl', '-noout', '-text'], { input: pem }).toString();
      const fromOpenssl = new Set([...text.matchAll(/Serial Number: ([0-9A-Fa-f]+)/g)].map((m) => serialKey(m[1]!)));
      assert.equal(fromOpenssl.size, listed.length);
      assert.deepEqual(revokedSerials(crlDer(pem)).keys(), fromOpenssl);
      assert.deepEqual(readCrl(pem).revoked.keys(), fromOpenssl);
      for (const serial of listed) assert.equal(readCrl(pem).revoked.has(serial), true, serial);
      assert.equal(readCrl(pem).revoked.has('0B'), false);
    }
  });

  it('refuses what is not a strict DER CRL', async () => {
    const ca = await makeCa();
    const der = crlDer(opensslCrl(ca, ['0A']));
    assert.throws(() => revokedSerials(Buffer.concat([der, Buffer.from([0])])), DerError);
    assert.throws(() => revokedSerials(der.subarray(0, der.length - 1)), DerError);
    assert.throws(() => revokedSerials(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])), DerError);
    // the serial 0A spelled with a needless leading zero byte (02 01 0A → 02 02 00 0A, lengths fixed up): OpenSSL will not load it either
    const at = der.indexOf(Buffer.from([0x02, 0x01, 0x0a, 0x17]));
    assert.ok(at > 0);
    const padded = Buffer.concat([der.subarray(0, at), Buffer.from([0x02, 0x02, 0x00, 0x0a]), der.subarray(at + 3)]);
    // the entry, the list, the TBSCertList and the CertificateList each grow by one byte (all short-form lengths here but the outer ones)
    const grown = growLengths(padded, at);
    assert.throws(() => revokedSerials(grown), DerError);
    assert.throws(() => execFileSync('openssl', ['crl', '-inform', 'DER', '-noout'], { input: grown, stdio: ['pipe', 'ignore', 'ignore'] }));
    assert.equal(revokedSerials(der).size, 1);
  });

  it('reads a CRL of 30,000 serials (under 1 MiB of DER) in under 50 ms of CPU, holds them in under 25 bytes each, and agrees with OpenSSL', async () => {
    const ca = await makeCa();
    const serials = Array.from({ length: 30_000 }, (_, i) => (0x1000000000 + i * 104_729).toString(16).toUpperCase() + 'C0FFEE01');
    const pem = opensslCrl(ca, serials);
    const der = crlDer(pem);
    assert.ok(der.length < MAX_CRL_BYTES && Buffer.byteLength(pem) > MAX_CRL_BYTES, `DER ${der.length}, PEM ${Buffer.byteLength(pem)}: the limit is on the DER`);
    // the least CPU of five reads: the cost of the reading itself, apart from what else the machine makes this process wait for
    let spentMs = Infinity;
    let crl = readCrl(pem);
    for (let i = 0; i < 5; i++) {
      const cpu = process.cpuUsage();
      crl = readCrl(pem);
      const used = process.cpuUsage(cpu);
      spentMs = Math.min(spentMs, (used.user + used.system) / 1000);
    }
    assert.ok(spentMs < 50, `${spentMs.toFixed(1)} ms of CPU`);
    assert.equal(crl.revoked.size, 30_000);
    assert.ok(crl.revoked.bytes / crl.revoked.size < 25, `${(crl.revoked.bytes / crl.revoked.size).toFixed(1)} bytes a serial`);
    assert.equal(crl.revoked.has(serials[12_345]!), true);
    assert.equal(crl.revoked.has('00' + serials[0]!.toLowerCase()), true, 'leading zeros and case do not matter');
    assert.equal(crl.revoked.has('1000000001C0FFEE01'), false);
    assert.equal(await signedBy(crl, readCertificate(Buffer.from(ca.cert.rawData))), true);
    const text = execFileSync('openssl', ['crl', '-noout', '-text'], { input: pem, maxBuffer: 64 * 1024 * 1024 }).toString();
    assert.equal([...text.matchAll(/Serial Number: /g)].length, crl.revoked.size);
  });

  it('refuses a CRL over 1 MiB of DER, and one signed with SHA-1, as OpenSSL at security level 2 would not use it', async () => {
    const ca = await makeCa();
    const big = opensslCrl(ca, Array.from({ length: 40_000 }, (_, i) => (0x1000000000 + i).toString(16) + 'C0FFEE0123'));
    assert.throws(() => readCrl(big), (err: any) => err.code === 'crl_invalid' && /at most 1 MiB of DER/.test(err.message));
    const sha1 = readCrl(opensslCrl(ca, ['0A'], 'sha1'));
    assert.match(sha1.signatureAlgorithm, /^(1\.2\.840\.113549\.1\.1\.5|1\.2\.840\.10045\.4\.1)$/, 'sha1WithRSAEncryption or ecdsa-with-SHA1');
    assert.equal(await signedBy(sha1, readCertificate(Buffer.from(ca.cert.rawData))), false);
  });

  it('spells serials one way: lowercase, no leading zeros', () => {
    assert.equal(serialKey('00AB01'), 'ab01');
    assert.equal(serialKey('0'), '0');
  });
});

/** A CRL made by `openssl ca -gencrl` for `ca`, revoking the given serials (hex), in a temporary directory removed after. */
function opensslCrl(ca: Issued, serials: readonly string[], digest = 'sha256'): string {
  const dir = mkdtempSync(join(tmpdir(), 'certgate-crl-'));
  try {
    writeFileSync(join(dir, 'ca.pem'), ca.pem);
    writeFileSync(join(dir, 'ca.key'), ca.keyPem, { mode: 0o600 });
    const index = serials.map((s) => `R\t301231235959Z\t260101000000Z\t${s}\tunknown\t/CN=revoked ${s}\n`).join('');
    writeFileSync(join(dir, 'index.txt'), index);
    writeFileSync(join(dir, 'crlnumber'), '01\n');
    writeFileSync(
      join(dir, 'ca.cnf'),
      ['[ca]', 'default_ca = here', '[here]', `database = ${dir}/index.txt`, `crlnumber = ${dir}/crlnumber`, `certificate = ${dir}/ca.pem`, `private_key = ${dir}/ca.key`, `default_md = ${digest}`, 'default_crl_days = 7', ''].join('\n'),
    );
    return execFileSync('openssl', ['ca', '-batch', '-gencrl', '-config', join(dir, 'ca.cnf')], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 }).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** After a one-byte insertion at `at`, adds one to the length of every SEQUENCE that encloses it (short or long form, no form change). */
function growLengths(der: Buffer, at: number): Buffer {
  const out = Buffer.from(der);
  const visit = (start: number, limit: number): void => {
    for (let i = start; i < limit; ) {
      const tag = out[i]!;
      let len = out[i + 1]!;
      let head = 2;
      if (len & 0x80) {
        const n = len & 0x7f;
        len = out.readUIntBE(i + 2, n);
        head += n;
      }
      const end = i + head + len;
      if (tag === 0x30 && i < at && at < end + 1 && at >= i + head) {
        if (head === 2) out[i + 1] = len + 1;
        else out.writeUIntBE(len + 1, i + 2, head - 2);
        visit(i + head, end + 1);
        return;
      }
      i = end;
    }
  };
  visit(0, out.length);
  return out;
}
