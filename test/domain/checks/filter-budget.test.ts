// Issue 17, item 1: a filter's work is bounded while it runs. Every blow-up shape below is either refused when saved
// or, on the largest certificate the gate reads (many SANs, long names), stopped within 5 ms of CPU and 16 MiB.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { compileFilter, FilterInvalid, type Filter } from '../../../src/domain/checks/filter.js';
import { readCertificate, type CertificateFacts } from '../../../src/domain/x509/certificate.js';
import { makeCa, makeClient } from '../../support/pki.js';

const SPLIT_JOIN = `subject.common_name${'.split("").join("0123456789abcdef")'.repeat(6)}.size() == 0`;

// (replace, format and strings.quote, which the evaluator meters too, are refused by the checker: it has no overloads for them)
const SHAPES: [string, string][] = [
  ['the 241-byte split/join chain', SPLIT_JOIN],
  ['one split/join, then growth by concatenation', 'subject.common_name.split("").join("0123456789abcdef").size() > 0'],
  ['strings grown by +', 'subject_alt_names.map(s, s.value + s.value + s.value + s.value + subject.common_name + subject.common_name).size() > 0'],
  ['lists grown by +', '(subject_alt_names + subject_alt_names + subject_alt_names + subject_alt_names).size() > 0 && (subject_alt_names + subject_alt_names) == (subject_alt_names + subject_alt_names)'],
  ['map producing a large list', 'subject.common_name.split("").map(c, c + c + c).size() > 0'],
  ['filter producing a large list', 'subject_alt_names.filter(s, true).size() > 0'],
  ['size() of a joined map', 'subject_alt_names.map(s, s.value).join("").size() > 0'],
  ['nested ternaries doubling', `(${'(subject.common_name.size() > 0 ? subject.common_name + subject.common_name : "")'} + subject.common_name).split("").size() > 0 ? true : false`],
  ['a huge regular expression input', 'subject.common_name.matches("^a*$") || subject_alt_names.exists(s, s.value.matches("^(a|b|c)*z$"))'],
  ['a pattern taken from the certificate', 'subject.common_name.matches(subject.common_name) || subject_alt_names.exists(s, s.value.matches(s.value))'],
  ['lowerAscii of everything joined', 'subject_alt_names.map(s, s.value).join(subject.common_name).lowerAscii().size() > 0'],
  ['membership in a built list', 'subject.common_name in subject_alt_names.map(s, s.value + s.value)'],
  ['a heavy body without calls', `subject_alt_names.all(s, ${Array.from({ length: 60 }, () => '{s.value: true}[s.value]').join(' && ')})`],
  ['exists_one with a map literal', 'subject_alt_names.exists_one(s, {s.value: [s, s, s]}[s.value].size() == 4)'],
];

let maximal: CertificateFacts;

/** CPU ms and heap growth of one evaluation, on a filter compiled afresh (a filter remembers leaves that exhausted it). */
function measure(expression: string): { cpuMs: number; heapMiB: number; result: ReturnType<Filter['evaluate']> } {
  const filter = compileFilter(expression);
  const heap = process.memoryUsage().heapUsed;
  const start = process.cpuUsage();
  const result = filter.evaluate(maximal);
  const used = process.cpuUsage(start);
  return { cpuMs: (used.user + used.system) / 1000, heapMiB: (process.memoryUsage().heapUsed - heap) / 2 ** 20, result };
}

describe('filters under a budget of work', () => {
  before(async () => {
    const ca = await makeCa();
    // about 90 KiB of DER, near the 100 KiB OpenSSL reads of a client's certificate message
    const dnsNames = Array.from({ length: 1500 }, (_, i) => `${'a'.repeat(40)}${i}.example.com`);
    const client = await makeClient(ca, { subject: `CN=${'a'.repeat(8000)}, OU=Production, O=Example`, dnsNames });
    maximal = readCertificate(Buffer.from(client.cert.rawData));
    assert.ok(maximal.der.length > 80_000, `${maximal.der.length} bytes`);
  });

  it('refuses the 241-byte split/join chain when saved, naming the cost', () => {
    assert.equal(Buffer.byteLength(SPLIT_JOIN), 241);
    assert.throws(() => compileFilter(SPLIT_JOIN), (err: Error) => err instanceof FilterInvalid && /budget of work/.test(err.message) && /2,000,000 units/.test(err.message));
  });

  for (const [label, expression] of SHAPES) {
    it(`${label}: refused when saved, or within 5 ms of CPU and 16 MiB at the gate`, () => {
      let outcome: ReturnType<typeof measure> | undefined;
      try {
        compileFilter(expression);
      } catch (err) {
        assert.ok(err instanceof FilterInvalid, String(err));
        assert.match(err.message, /budget of work/);
        return;
      }
      // CPU time on a shared machine: the best of five runs is the evaluation's own cost
      for (let i = 0; i < 5; i++) {
        const m = measure(expression);
        if (!outcome || m.cpuMs < outcome.cpuMs) outcome = m;
      }
      assert.ok(outcome!.cpuMs < 5, `${outcome!.cpuMs.toFixed(2)} ms of CPU`);
      assert.ok(outcome!.heapMiB < 16, `${outcome!.heapMiB.toFixed(1)} MiB of heap`);
      if (!outcome!.result.ok) assert.match(outcome!.result.error, /budget of work/);
    });
  }

  it("keeps OpenAI's example, regular expressions over SANs and ordinary string tests within the budget on an ordinary certificate", async () => {
    const ca = await makeCa();
    const cert = readCertificate(Buffer.from((await makeClient(ca, { subject: 'CN=w1, OU=Production', dnsNames: Array.from({ length: 20 }, (_, i) => `w${i}.example.com`) })).cert.rawData));
    for (const expression of [
      'subject.organizational_unit == "Production" && subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".example.com"))',
      'subject_alt_names.all(s, s.value.matches("^w[0-9]+[.]example[.]com$"))',
      'subject_alt_names.map(s, s.value.split(".")[0]).join(",").size() > 0 && subject.common_name.upperAscii() == "W1"',
      'subject_alt_names.filter(s, s.type == DNS).size() == 20',
    ]) {
      assert.deepEqual(compileFilter(expression).evaluate(cert), { ok: true, admitted: true }, expression);
    }
  });

  it('answers a leaf that exhausted the budget from memory the next time, without evaluating again', () => {
    const filter = compileFilter('subject_alt_names.map(s, s.value + s.value).size() > 0');
    const first = filter.evaluate(maximal);
    assert.equal(first.ok, false);
    // the very result kept from the first time: an evaluation would make a new one (a CPU-time bound here was at the
    // mercy of a garbage collection on a loaded machine)
    assert.equal(filter.evaluate(maximal), first);
  });
});
