import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'node:test';
import { asciiDistinguishedName, clientId, forwardedClientCert, percentEncodedName, percentEncodedText } from '../../src/domain/identity.js';
import type { CertificateFacts } from '../../src/domain/x509/certificate.js';
import { rfc4514, type DistinguishedName } from '../../src/domain/x509/names.js';

const cn = (value: string) => [{ oid: '2.5.4.3', value }];

describe('RFC 4514 subjects and XFCC values', () => {
  const cases: [string, DistinguishedName, string][] = [
    ['reverse order, short names', [[{ oid: '2.5.4.6', value: 'DE' }], [{ oid: '2.5.4.10', value: 'Example' }], cn('w1')], 'CN=w1,O=Example,C=DE'],
    ['the specials escaped', [cn('a,b+c"d\\e<f>g;h')], 'CN=a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h'],
    ['a leading space or #, a trailing space', [cn(' lead'), cn('#hash'), cn('trail ')], 'CN=trail\\ ,CN=\\#hash,CN=\\ lead'],
    ['a multi-valued RDN', [[{ oid: '2.5.4.11', value: 'a' }, { oid: '2.5.4.3', value: 'b' }]], 'OU=a+CN=b'],
    ['an unnamed type by its OID', [[{ oid: '1.2.3.4', value: 'x' }]], '1.2.3.4=x'],
  ];
  for (const [label, name, expected] of cases) it(label, () => assert.equal(rfc4514(name), expected));

  it('quotes XFCC values that need it, and escapes quotes and backslashes inside', () => {
    const leaf = {
      fingerprint: 'ab'.repeat(32),
      subjectName: [cn('say "hi"')],
      subjectAltNames: [
        { kind: 'uri', value: 'spiffe://example.com/a;b' },
        { kind: 'dns', value: 'plain.example.com' },
        { kind: 'email', value: 'not@forwarded.example' },
      ],
    } as unknown as CertificateFacts;
    assert.equal(forwardedClientCert(leaf), `Hash=${'ab'.repeat(32)};Subject="CN=say \\\\\\"hi\\\\\\"";URI="spiffe://example.com/a;b";DNS=plain.example.com`);
    assert.equal(clientId(leaf, 'cn'), 'say "hi"');
    assert.equal(clientId(leaf, 'san-dns'), 'plain.example.com');
    assert.equal(clientId(leaf, 'fingerprint'), 'ab'.repeat(32));
  });
});

/** An RFC 4514 string read back: `\XX` pairs are UTF-8 bytes, `\c` is c. */
function decodeRfc4514(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === '\\') {
      bytes.push(...Buffer.from(text[++i]!, 'utf8'));
    } else bytes.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Only what any header value may hold: visible ASCII and interior spaces. */
const HEADER_SAFE = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;

describe('identity values are header-safe and lossless', () => {
  it('writes a subject beyond ASCII as RFC 4514 \\XX pairs of its UTF-8 bytes, as OpenSSL and Envoy do', () => {
    assert.equal(asciiDistinguishedName(rfc4514([cn('日本語'), [{ oid: '2.5.4.10', value: 'Société' }]])), 'O=Soci\\C3\\A9t\\C3\\A9,CN=\\E6\\97\\A5\\E6\\9C\\AC\\E8\\AA\\9E');
    assert.equal(asciiDistinguishedName(rfc4514([cn('Müller')])), 'CN=M\\C3\\BCller');
    assert.equal(asciiDistinguishedName(rfc4514([cn('line\nbreak\r\t\u007f')])), 'CN=line\\0Abreak\\0D\\09\\7F');
    assert.equal(asciiDistinguishedName(rfc4514([cn('😀')])), 'CN=\\F0\\9F\\98\\80');
    assert.equal(asciiDistinguishedName('CN=plain'), 'CN=plain');
  });

  it('gives back any name, whatever it holds (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }), (name, org) => {
        const encoded = asciiDistinguishedName(rfc4514([[{ oid: '2.5.4.10', value: org }], cn(name)]));
        assert.match(`x${encoded}x`, /^[\x20-\x7e]*$/);
        // one RDN of each: split at the first unescaped comma
        const comma = encoded.search(/(?<!\\)(?:\\\\)*,/);
        const at = encoded.indexOf(',', comma);
        assert.equal(decodeRfc4514(encoded.slice(3, at)), name);
        assert.equal(decodeRfc4514(encoded.slice(at + 3)), org);
        const text = percentEncodedText(name);
        if (text !== '') assert.match(text, HEADER_SAFE);
        assert.equal(decodeURIComponent(text), name);
      }),
      { numRuns: 2000 },
    );
  });

  it('percent-encodes what no URI or DNS name may hold, and a common name where it is not printable ASCII', () => {
    assert.equal(percentEncodedName('spiffe://example.com/ns/prod/sa/w1'), 'spiffe://example.com/ns/prod/sa/w1');
    assert.equal(percentEncodedName('spiffe://example.com/a%20b'), 'spiffe://example.com/a%20b');
    assert.equal(percentEncodedName('urn:x:a b\nc\u0000'), 'urn:x:a%20b%0Ac%00');
    assert.equal(percentEncodedText('w1'), 'w1');
    assert.equal(percentEncodedText('John Smith'), 'John Smith');
    assert.equal(percentEncodedText(' 100% '), '%20100%25%20');
    assert.equal(percentEncodedText('Müller'), 'M%C3%BCller');
    assert.equal(percentEncodedText('日本語'), '%E6%97%A5%E6%9C%AC%E8%AA%9E');
    assert.equal(percentEncodedText('line\nbreak'), 'line%0Abreak');
  });

  it('forwards SANs with control characters and a subject with quotes in a header-safe XFCC', () => {
    const leaf = {
      fingerprint: 'cd'.repeat(32),
      subjectName: [cn('a "q" \\ b\nc')],
      subjectAltNames: [
        { kind: 'uri', value: 'urn:x:a\tb' },
        { kind: 'dns', value: 'bad\nname.example' },
      ],
    } as unknown as CertificateFacts;
    const xfcc = forwardedClientCert(leaf);
    assert.match(xfcc, HEADER_SAFE);
    assert.equal(xfcc, `Hash=${'cd'.repeat(32)};Subject="CN=a \\\\\\"q\\\\\\" \\\\\\\\ b\\\\0Ac";URI=urn:x:a%09b;DNS=bad%0Aname.example`);
    assert.equal(clientId(leaf, 'cn'), 'a "q" \\ b%0Ac');
    assert.equal(clientId(leaf, 'san-uri'), 'urn:x:a%09b');
    assert.equal(clientId(leaf, 'san-dns'), 'bad%0Aname.example');
  });
});
