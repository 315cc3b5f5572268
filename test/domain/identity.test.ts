import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forwardedClientCert, clientId } from '../../src/domain/identity.js';
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
