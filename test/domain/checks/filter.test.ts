// OpenAI's per-anchor CEL filter: what is refused when saved, and how it judges real certificates.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFilter, FilterInvalid } from '../../../src/domain/checks/filter.js';
import { readCertificate } from '../../../src/domain/x509/certificate.js';
import { makeCa, makeClient, type CertOptions } from '../../support/pki.js';

const EXAMPLE = 'subject.organizational_unit == "Production" && subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".example.com"))';

async function leaf(options: CertOptions) {
  const ca = await makeCa();
  return readCertificate(Buffer.from((await makeClient(ca, options)).cert.rawData));
}

function refused(expression: string): string {
  try {
    compileFilter(expression);
  } catch (err) {
    assert.ok(err instanceof FilterInvalid, String(err));
    return err.message;
  }
  assert.fail(`compiled: ${expression}`);
}

describe('filter compilation', () => {
  const bad: [string, string, RegExp][] = [
    ['empty', '  ', /empty/],
    ['over 4 KiB', `subject.common_name == "${'x'.repeat(4100)}"`, /at most 4096 bytes/],
    ['a syntax error', 'subject.common_name ==', /does not compile/],
    ['an unknown variable', 'san.value == "x"', /does not compile: .*san/],
    ['an unknown subject field', 'subject.email == "x"', /does not compile/],
    ['an unknown SAN field', 'subject_alt_names.exists(s, s.uri == "x")', /does not compile/],
    ['an int result', '1 + 1', /must evaluate to a bool; .* int/],
    ['a string result', 'subject.common_name', /must evaluate to a bool; .* string/],
    ['deep nesting', `${'('.repeat(300)}true${')'.repeat(300)}`, /does not compile/],
    ['a comprehension inside another', 'subject_alt_names.all(a, subject_alt_names.exists(b, a.value == b.value))', /nests one comprehension/],
    ['an invalid RE2 pattern', 'subject.common_name.matches("(")', /not valid RE2/],
    ['a back-reference, which RE2 does not have', 'subject.common_name.matches("(a)\\\\1")', /not valid RE2/],
  ];
  for (const [label, expression, message] of bad) {
    it(`refuses ${label}`, () => assert.match(refused(expression), message));
  }

  it("compiles OpenAI's example and the other variables as written", () => {
    for (const expression of [
      EXAMPLE,
      'subject.country_code in ["US", "DE"] && subject.organization != "" && subject.locality.startsWith("B")',
      'subject.province == "" || subject.street_address == "" || subject.postal_code.size() == 5',
      'subject_alt_names.exists(s, s.type == URI && s.value.startsWith("spiffe://example.com/"))',
      'subject_alt_names.all(s, s.type != IP_ADDRESS) && !subject_alt_names.exists(s, s.type == EMAIL || s.type == CUSTOM)',
    ]) {
      assert.equal(compileFilter(expression).expression, expression);
    }
  });
});

describe('filter evaluation on real certificates', () => {
  it("admits and refuses by OpenAI's example", async () => {
    const filter = compileFilter(EXAMPLE);
    const production = await leaf({ subject: 'CN=w1, OU=Production, O=Example', dnsNames: ['api.example.com'] });
    const staging = await leaf({ subject: 'CN=w1, OU=Staging, O=Example', dnsNames: ['api.example.com'] });
    const elsewhere = await leaf({ subject: 'CN=w1, OU=Production', dnsNames: ['api.example.org'] });
    const noOu = await leaf({ subject: 'CN=w1', dnsNames: ['api.example.com'] });
    assert.deepEqual(filter.evaluate(production), { ok: true, admitted: true });
    assert.deepEqual(filter.evaluate(staging), { ok: true, admitted: false });
    assert.deepEqual(filter.evaluate(elsewhere), { ok: true, admitted: false });
    // an absent attribute is "", not an error
    assert.deepEqual(filter.evaluate(noOu), { ok: true, admitted: false });
  });

  it('types each SAN as OpenAI does', async () => {
    const cert = await leaf({
      sans: [
        { type: 'dns', value: 'a.example.com' },
        { type: 'email', value: 'ops@example.com' },
        { type: 'ip', value: '10.0.0.7' },
        { type: 'url', value: 'spiffe://example.com/w1' },
      ],
    });
    const has = (type: string, value: string) => compileFilter(`subject_alt_names.exists(s, s.type == ${type} && s.value == "${value}")`).evaluate(cert);
    for (const [type, value] of [
      ['DNS', 'a.example.com'],
      ['EMAIL', 'ops@example.com'],
      ['IP_ADDRESS', '10.0.0.7'],
      ['URI', 'spiffe://example.com/w1'],
    ]) {
      assert.deepEqual(has(type!, value!), { ok: true, admitted: true }, `${type} ${value}`);
    }
    assert.deepEqual(has('DNS', 'ops@example.com'), { ok: true, admitted: false });
  });

  it('evaluates at the gate every function the checker accepted when saving (the two libraries agree)', async () => {
    const cert = await leaf({ subject: 'CN=Api.Example.COM, OU=Production', dnsNames: ['a.example.com'] });
    for (const expression of [
      'subject.common_name.lowerAscii() == "api.example.com" && subject.organizational_unit.upperAscii() == "PRODUCTION"',
      'subject.common_name.split(".").size() == 3 && subject.common_name.indexOf("Example") == 4',
      'subject_alt_names.exists(s, s.value.matches("^[a-z][.]example[.]com$")) && subject.common_name.lastIndexOf(".") == 11',
      '["a", "b"].join("-") == "a-b" && int("5") + 1 == 6 && string(7) == "7"',
    ]) {
      assert.deepEqual(compileFilter(expression).evaluate(cert), { ok: true, admitted: true }, expression);
    }
  });

  it('reports a run-time failure as an error, never as a decision', async () => {
    const result = compileFilter('subject_alt_names[5].value == "x"').evaluate(await leaf({ dnsNames: ['a.example.com'] }));
    assert.equal(result.ok, false);
  });

  it('matches with RE2: a pattern that backtracks for seconds in JavaScript is linear here', async () => {
    const cert = await leaf({ dnsNames: [`${'a'.repeat(60)}!`] });
    const result = compileFilter('subject_alt_names.exists(s, s.value.matches("^(a+)+$"))').evaluate(cert);
    assert.deepEqual(result, { ok: true, admitted: false });
  });
});
