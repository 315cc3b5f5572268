// Reading the client's certificates from an ingress's headers: every format the ingresses send, recognised from the
// value, with certificates made at test time; and what is refused (never echoing the value).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { certificatesInHeader, forwardedChain, MAX_FORWARDED_HEADER_CHARS, UnreadableCertificateHeader } from '../../../src/domain/x509/forwarded-certificates.js';
import { makeCa, makeClient, type Issued } from '../../support/pki.js';

const der = (c: Issued) => Buffer.from(c.cert.rawData);
const b64 = (c: Issued) => der(c).toString('base64');
/** nginx's $ssl_client_escaped_cert: the PEM URL-encoded (newlines as %0A, spaces %20, + / = escaped) */
const nginxEscaped = (c: Issued) => encodeURIComponent(c.pem);
/** Envoy's XFCC element with Cert and Chain (Chain holds the leaf too), each URL-encoded and quoted */
const xfcc = (leaf: Issued, chain: Issued[]) => `By=spiffe://ingress;Hash=abc;Cert="${encodeURIComponent(leaf.pem)}";Chain="${encodeURIComponent([leaf, ...chain].map((c) => c.pem).join(''))}";Subject="CN=x, O=y";URI=`;

function refused(run: () => unknown, why: RegExp, value?: string): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof UnreadableCertificateHeader, String(err));
    assert.match(err.message, why);
    // never the value, nor a piece of it
    if (value) assert.ok(!err.message.includes(value.slice(0, 24)), err.message);
    return true;
  });
}

describe('certificates forwarded in headers', () => {
  let ca: Issued;
  let intermediate: Issued;
  let leaf: Issued;
  let other: Issued;
  before(async () => {
    ca = await makeCa({ name: 'forwarded root' });
    intermediate = await makeCa({ name: 'forwarded intermediate', issuer: ca });
    leaf = await makeClient(intermediate, { name: 'forwarded leaf' });
    other = await makeClient(ca, { name: 'another leaf' });
  });

  it('reads nginx\'s escaped PEM of one certificate', () => {
    const value = nginxEscaped(leaf);
    assert.ok(value.includes('%0A') && !value.includes('\n'));
    assert.deepEqual(forwardedChain(value, undefined), [der(leaf)]);
  });

  it('reads plain PEM, newlines kept or turned into spaces, one or several blocks', () => {
    assert.deepEqual(forwardedChain(leaf.pem, undefined), [der(leaf)]);
    const spaced = (leaf.pem + intermediate.pem).replace(/\n/g, ' ');
    assert.deepEqual(forwardedChain(spaced, undefined), [der(leaf), der(intermediate)]);
  });

  it('reads RFC 9440: Client-Cert as :base64: and Client-Cert-Chain as a list of them', () => {
    assert.deepEqual(forwardedChain(`:${b64(leaf)}:`, `:${b64(intermediate)}:, :${b64(ca)}:`), [der(leaf), der(intermediate), der(ca)]);
    // a list split over two header lines arrives joined by a comma
    assert.deepEqual(forwardedChain(`:${b64(leaf)}:`, `:${b64(intermediate)}:,:${b64(ca)}:`).length, 3);
  });

  it('reads XFCC Cert and Chain, dropping the leaf Chain repeats; of several elements, the last (the ingress\'s own)', () => {
    assert.deepEqual(forwardedChain(xfcc(leaf, [intermediate]), undefined), [der(leaf), der(intermediate)]);
    const forged = xfcc(other, []);
    assert.deepEqual(forwardedChain(`${forged},${xfcc(leaf, [intermediate])}`, undefined), [der(leaf), der(intermediate)]);
    // Cert alone
    assert.deepEqual(forwardedChain(`Hash=abc;Cert="${encodeURIComponent(leaf.pem)}"`, undefined), [der(leaf)]);
  });

  it('reads base64 DER (HAProxy ssl_c_der, Caddy) and base64 of concatenated DERs (HAProxy ssl_c_chain_der)', () => {
    const chain = Buffer.concat([der(intermediate), der(ca)]).toString('base64');
    assert.deepEqual(forwardedChain(b64(leaf), chain), [der(leaf), der(intermediate), der(ca)]);
    // a chain that repeats the leaf: the copy is dropped
    const withLeaf = Buffer.concat([der(leaf), der(intermediate)]).toString('base64');
    assert.deepEqual(forwardedChain(b64(leaf), withLeaf), [der(leaf), der(intermediate)]);
    // URL-encoded base64, and a comma-separated list of base64 DERs (Traefik's PassTLSClientCert)
    assert.deepEqual(forwardedChain(encodeURIComponent(b64(leaf)), undefined), [der(leaf)]);
    assert.deepEqual(forwardedChain(`${b64(leaf)},${b64(intermediate)}`, undefined), [der(leaf), der(intermediate)]);
  });

  it('takes an absent or empty header as no certificate', () => {
    assert.deepEqual(forwardedChain(undefined, undefined), []);
    assert.deepEqual(forwardedChain('', ''), []);
    assert.deepEqual(forwardedChain('  ', undefined), []);
    // a chain without a leaf is not a presentation
    refused(() => forwardedChain('', b64(intermediate)), /chain header is set but the client certificate header is empty/);
  });

  it('refuses garbage in every format, never repeating it', () => {
    const cases = [
      'not a certificate at all',
      'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA', // base64 of a truncated DER
      ':bm90IGRlcg==:',
      ':abc', // an unterminated RFC 9440 item
      'Cert="%E0%A4%A"', // broken URL encoding
      `Hash=abc;Subject="CN=x"`, // XFCC without Cert or Chain
      'Cert="unterminated',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE----- trailing words',
      '-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----',
      Buffer.from([0x04, 0x02, 0x00, 0x00]).toString('base64'), // DER, but not a SEQUENCE
      Buffer.concat([der(leaf), Buffer.from([0x05, 0x00])]).toString('base64'), // a NULL after the certificate
    ];
    for (const value of cases) refused(() => forwardedChain(value, undefined), /header/, value);
    // one RFC 9440 item is one certificate
    refused(() => certificatesInHeader(`:${Buffer.concat([der(leaf), der(ca)]).toString('base64')}:`), /bytes after a certificate/);
  });

  it('refuses oversize headers and more than ten certificates', () => {
    const huge = 'A'.repeat(MAX_FORWARDED_HEADER_CHARS);
    refused(() => forwardedChain(b64(leaf), huge), /longer than 65536 characters/);
    const eleven: Issued[] = [];
    for (let i = 0; i < 11; i++) eleven.push(i % 2 ? intermediate : ca);
    // copies are dropped first: eleven copies of two certificates are three certificates
    assert.equal(forwardedChain(b64(leaf), eleven.map((c) => `:${b64(c)}:`).join(',')).length, 3);
  });

  it('refuses a chain of eleven distinct certificates', async () => {
    const many: Issued[] = [];
    for (let i = 0; i < 10; i++) many.push(await makeCa({ name: `many ${i}` }));
    assert.equal(forwardedChain(b64(leaf), many.slice(0, 9).map((c) => `:${b64(c)}:`).join(',')).length, 10);
    refused(() => forwardedChain(b64(leaf), many.map((c) => `:${b64(c)}:`).join(',')), /more than 10 certificates/);
    refused(() => forwardedChain(Buffer.concat([der(leaf), ...many.map(der)]).toString('base64'), undefined), /more than 10 certificates/);
  });
});
