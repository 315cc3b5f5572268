// certgate's client verification and `openssl verify -purpose sslclient`, case by case on the same chains:
// path lengths, Name Constraints of every supported form, critical extensions, intermediates' key purposes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyClient } from '../../../src/domain/checks/client.js';
import { readCertificate } from '../../../src/domain/x509/certificate.js';
import { dnsName, emailName, hex, ipRange, nameConstraints, seq, tlv, uriName } from '../../support/der.js';
import { opensslVerify } from '../../support/openssl.js';
import { Extension, makeCa, makeClient, SERVER_AUTH, type CertOptions, type Issued } from '../../support/pki.js';

const NC = '2.5.29.30';
const constrained = (permitted: Buffer[], excluded: Buffer[] = []) => [new Extension(NC, true, new Uint8Array(nameConstraints(permitted, excluded)))];
const unknownCritical = () => [new Extension('1.3.6.1.4.1.55555.1', true, new Uint8Array(hex('05 00')))];
/** directoryName O=<org> (2.5.4.10, UTF8String) */
const directory = (org: string) => tlv(0xa4, seq(tlv(0x31, seq(hex('06 03 55 04 0a'), tlv(0x0c, Buffer.from(org))))));

interface Case {
  readonly label: string;
  readonly anchor?: CertOptions;
  /** intermediates from the anchor down, each issued by the one before */
  readonly intermediates?: CertOptions[];
  readonly leaf?: CertOptions;
  /** certgate's expected answer: 'accepted', or the refusal reason */
  readonly expect: string;
}

const cases: Case[] = [
  { label: 'a good leaf, directly', expect: 'accepted' },
  { label: 'a leaf with an unknown critical extension', leaf: { extra: unknownCritical() }, expect: 'unhandled_critical_extension' },
  { label: 'a leaf with an unknown non-critical extension', leaf: { extra: [new Extension('1.3.6.1.4.1.55555.2', false, new Uint8Array(hex('05 00')))] }, expect: 'accepted' },
  { label: 'an intermediate with an unknown critical extension', intermediates: [{ extra: unknownCritical() }], expect: 'invalid_intermediate' },
  { label: 'anchor pathLen 0, one intermediate', anchor: { pathLength: 0 }, intermediates: [{}], expect: 'path_length_exceeded' },
  { label: 'anchor pathLen 1, one intermediate', anchor: { pathLength: 1 }, intermediates: [{}], expect: 'accepted' },
  { label: 'anchor pathLen 0, leaf issued directly', anchor: { pathLength: 0 }, expect: 'accepted' },
  { label: 'intermediate pathLen 0, another intermediate below it', intermediates: [{ pathLength: 0 }, {}], expect: 'path_length_exceeded' },
  { label: 'anchor pathLen 1, two intermediates', anchor: { pathLength: 1 }, intermediates: [{}, {}], expect: 'path_length_exceeded' },
  { label: 'an intermediate for TLS servers only', intermediates: [{ eku: [SERVER_AUTH] }], expect: 'invalid_intermediate' },
  { label: 'DNS .example.com permitted, leaf api.example.com', anchor: { extra: constrained([dnsName('.example.com')]) }, leaf: { dnsNames: ['api.example.com'] }, expect: 'accepted' },
  { label: 'DNS .example.com permitted, leaf evil.org', anchor: { extra: constrained([dnsName('.example.com')]) }, leaf: { dnsNames: ['evil.org'] }, expect: 'name_constraints_violated' },
  { label: 'DNS .example.com permitted, leaf example.com itself', anchor: { extra: constrained([dnsName('.example.com')]) }, leaf: { dnsNames: ['example.com'] }, expect: 'name_constraints_violated' },
  { label: 'DNS example.com permitted, leaf a.example.com', anchor: { extra: constrained([dnsName('example.com')]) }, leaf: { dnsNames: ['a.example.com'] }, expect: 'accepted' },
  { label: 'DNS example.com permitted, leaf badexample.com', anchor: { extra: constrained([dnsName('example.com')]) }, leaf: { dnsNames: ['badexample.com'] }, expect: 'name_constraints_violated' },
  { label: 'DNS case differs', anchor: { extra: constrained([dnsName('.Example.COM')]) }, leaf: { dnsNames: ['api.example.com'] }, expect: 'accepted' },
  { label: 'DNS bad.example.com excluded, leaf x.bad.example.com', anchor: { extra: constrained([], [dnsName('bad.example.com')]) }, leaf: { dnsNames: ['x.bad.example.com'] }, expect: 'name_constraints_violated' },
  { label: 'DNS bad.example.com excluded, leaf good.example.com', anchor: { extra: constrained([], [dnsName('bad.example.com')]) }, leaf: { dnsNames: ['good.example.com'] }, expect: 'accepted' },
  { label: 'DNS .example.com permitted, no DNS SAN, common name api.evil.org', anchor: { extra: constrained([dnsName('.example.com')]) }, leaf: { subject: 'CN=api.evil.org' }, expect: 'name_constraints_violated' },
  { label: 'DNS .example.com permitted, no SAN, a common name that is no host name', anchor: { extra: constrained([dnsName('.example.com')]) }, leaf: { subject: 'CN=workload one' }, expect: 'accepted' },
  { label: 'email example.com permitted, leaf a@example.com', anchor: { extra: constrained([emailName('example.com')]) }, leaf: { sans: [{ type: 'email', value: 'a@example.com' }] }, expect: 'accepted' },
  { label: 'email example.com permitted, leaf a@sub.example.com', anchor: { extra: constrained([emailName('example.com')]) }, leaf: { sans: [{ type: 'email', value: 'a@sub.example.com' }] }, expect: 'name_constraints_violated' },
  { label: 'email .example.com permitted, leaf a@sub.example.com', anchor: { extra: constrained([emailName('.example.com')]) }, leaf: { sans: [{ type: 'email', value: 'a@sub.example.com' }] }, expect: 'accepted' },
  { label: 'email one mailbox permitted, another mailbox', anchor: { extra: constrained([emailName('ops@example.com')]) }, leaf: { sans: [{ type: 'email', value: 'dev@example.com' }] }, expect: 'name_constraints_violated' },
  { label: 'URI .example.com permitted, leaf https://svc.example.com/x', anchor: { extra: constrained([uriName('.example.com')]) }, leaf: { sans: [{ type: 'url', value: 'https://svc.example.com/x' }] }, expect: 'accepted' },
  { label: 'URI .example.com permitted, leaf https://evil.org/', anchor: { extra: constrained([uriName('.example.com')]) }, leaf: { sans: [{ type: 'url', value: 'https://evil.org/' }] }, expect: 'name_constraints_violated' },
  { label: 'URI example.com permitted, SPIFFE id in that trust domain', anchor: { extra: constrained([uriName('example.com')]) }, leaf: { sans: [{ type: 'url', value: 'spiffe://example.com/ns/prod/sa/w1' }] }, expect: 'accepted' },
  { label: 'IP 10.0.0.0/8 permitted, leaf 10.1.2.3', anchor: { extra: constrained([ipRange([10, 0, 0, 0], [255, 0, 0, 0])]) }, leaf: { sans: [{ type: 'ip', value: '10.1.2.3' }] }, expect: 'accepted' },
  { label: 'IP 10.0.0.0/8 permitted, leaf 192.168.1.1', anchor: { extra: constrained([ipRange([10, 0, 0, 0], [255, 0, 0, 0])]) }, leaf: { sans: [{ type: 'ip', value: '192.168.1.1' }] }, expect: 'name_constraints_violated' },
  { label: 'directory O=Example permitted, leaf O=Example, CN=w1', anchor: { extra: constrained([directory('Example')]) }, leaf: { subject: 'O=Example, CN=w1' }, expect: 'accepted' },
  { label: 'directory O=Example permitted, leaf O=Other, CN=w1', anchor: { extra: constrained([directory('Example')]) }, leaf: { subject: 'O=Other, CN=w1' }, expect: 'name_constraints_violated' },
  { label: 'an intermediate excludes evil.org, leaf evil.org through it', intermediates: [{ extra: constrained([], [dnsName('evil.org')]) }], leaf: { dnsNames: ['evil.org'] }, expect: 'name_constraints_violated' },
  { label: 'the anchor permits .example.com, the leaf is evil.org through an intermediate', anchor: { extra: constrained([dnsName('.example.com')]) }, intermediates: [{}], leaf: { dnsNames: ['evil.org'] }, expect: 'name_constraints_violated' },
  { label: 'the issue: .example.com permitted, leaf DNS:evil.org with an unknown critical extension', anchor: { extra: constrained([dnsName('.example.com')]) }, leaf: { dnsNames: ['evil.org'], extra: unknownCritical() }, expect: 'name_constraints_violated' },
];

describe('client verification agrees with openssl verify -purpose sslclient', () => {
  for (const c of cases) {
    it(c.label, async () => {
      const anchor = await makeCa({ name: 'agreement anchor', ...c.anchor });
      let issuer: Issued = anchor;
      const intermediates: Issued[] = [];
      for (const [i, options] of (c.intermediates ?? []).entries()) {
        issuer = await makeCa({ name: `agreement intermediate ${i + 1}`, issuer, ...options });
        intermediates.unshift(issuer);
      }
      const leaf = await makeClient(issuer, c.leaf);
      const der = (cert: Issued) => Buffer.from(cert.cert.rawData);
      const verdict = verifyClient(
        [der(leaf), ...intermediates.map(der)],
        [{ id: 'cert_anchor', scope: 'organization', facts: readCertificate(der(anchor)), filter: null, revoked: null }],
        new Date(),
      );
      const ours = verdict.accepted ? 'accepted' : verdict.refusal!.reason;
      assert.equal(ours, c.expect, JSON.stringify(verdict.refusal));
      const openssl = await opensslVerify(anchor.pem, leaf.pem, intermediates.map((i) => i.pem));
      assert.equal(openssl.ok, verdict.accepted, `openssl verify said: ${openssl.output}`);
    });
  }
});
