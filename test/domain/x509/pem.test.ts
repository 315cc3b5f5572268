// RFC 7468 as certgate applies it everywhere a PEM is read (uploads, the verify endpoint, the CLI).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../../src/domain/errors.js';
import { certificatesFromPem } from '../../../src/domain/x509/pem.js';
import { makeCa } from '../../support/pki.js';

describe('PEM reading', async () => {
  const ca = await makeCa();
  const body = ca.pem.trim().split('\n').slice(1, -1);
  const der = Buffer.from(ca.cert.rawData);
  const wrap = (lines: string[], eol = '\n') => ['-----BEGIN CERTIFICATE-----', ...lines, '-----END CERTIFICATE-----'].join(eol);

  const accepted: [string, string][] = [
    ['canonical', ca.pem],
    ['CRLF line endings', wrap(body, '\r\n')],
    ['CRLF with blank lines inside and around', `\r\n\r\n${wrap(body.flatMap((l) => [l, '']), '\r\n')}\r\n\r\n`],
    ['explanatory text before and after', `Subject: CN=certgate test CA\nIssuer: the same\n${ca.pem}trailing notes\n`],
    ['one long base64 line', wrap([body.join('')])],
    ['indented lines', wrap(body.map((l) => `  ${l}`)).replace('-----BEGIN', '  -----BEGIN')],
    ['old Mac line endings (CR)', wrap(body, '\r')],
  ];
  for (const [label, text] of accepted) {
    it(`reads ${label}`, () => assert.deepEqual(certificatesFromPem(text), [der]));
  }

  const refused: [string, string][] = [
    ['a PEM with every newline removed', wrap(body, '')],
    ['a NUL before the BEGIN line', `\u0000${ca.pem}`],
    ['text on the BEGIN line', `see: ${ca.pem}`],
    ['a stray character in the base64', wrap([...body.slice(0, 1), '!!!!', ...body.slice(1)])],
    ['mismatched labels', wrap(body).replace('END CERTIFICATE', 'END X509 CRL')],
    ['padding before the end', wrap([`${body[0]!.slice(0, 2)}=${body[0]!.slice(3)}`, ...body.slice(1)])],
    ['a length that is no multiple of four', wrap([`${body.join('').replace(/=+$/, '')}A`.replace(/^(.{4})*$/, '$&AAA')])],
    ['PEM headers inside the block (RFC 1421 style)', wrap(['Proc-Type: 4,ENCRYPTED', '', ...body])],
    ['nothing', ''],
  ];
  for (const [label, text] of refused) {
    it(`refuses ${label}`, () => {
      assert.throws(
        () => certificatesFromPem(text),
        (err: unknown) => err instanceof ApiError && err.code === 'mtls_certificate_invalid' && /No PEM-encoded certificate/.test(err.message),
      );
    });
  }

  it('refuses any private key, whatever else the text holds', () => {
    assert.throws(() => certificatesFromPem(ca.pem + ca.keyPem), /private key/);
    // only the armour of an RSA key, spelled out here in two halves: no key is ever kept in the repository
    const armour = `-----BEGIN RSA ${'PRIVATE'} KEY-----`;
    assert.throws(() => certificatesFromPem(`junk ${armour} junk\n${ca.pem}`), /private key/);
  });
});
