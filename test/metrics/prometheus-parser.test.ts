// The test support's Prometheus text reader is strict: it refuses what a Prometheus server would.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheusText, samples } from '../support/prometheus.js';

const GOOD = `# HELP a_total Things.
# TYPE a_total counter
a_total{x="1",y="q\\"uote\\\\d\\n"} 3
# TYPE h histogram
h_bucket{le="0.1"} 1
h_bucket{le="+Inf"} 2
h_sum 0.5
h_count 2
# TYPE g gauge
g -1.5e3
g{k="v"} NaN
`;

describe('prometheus text reader', () => {
  it('reads families, labels with escapes, histograms and special values', () => {
    const m = parsePrometheusText(GOOD);
    assert.equal(m.get('a_total')?.help, 'Things.');
    assert.deepEqual(samples(m, 'a_total')[0]!.labels, { x: '1', y: 'q"uote\\d\n' });
    assert.equal(samples(m, 'h', {}, 'h_count')[0]!.value, 2);
    assert.equal(samples(m, 'g')[0]!.value, -1500);
    assert.ok(Number.isNaN(samples(m, 'g', { k: 'v' })[0]!.value));
  });

  const bad: Record<string, string> = {
    'no final newline': '# TYPE g gauge\ng 1',
    'undeclared family': 'g 1\n',
    'bad value': '# TYPE g gauge\ng one\n',
    'unquoted label': '# TYPE g gauge\ng{a=1} 1\n',
    'repeated label': '# TYPE g gauge\ng{a="1",a="2"} 1\n',
    'repeated series': '# TYPE g gauge\ng{a="1"} 1\ng{a="1"} 2\n',
    'bad escape': '# TYPE g gauge\ng{a="\\x"} 1\n',
    'unknown type': '# TYPE g meter\ng 1\n',
    'TYPE after samples': '# TYPE g gauge\ng 1\n# TYPE g gauge\n',
    'negative counter': '# TYPE c counter\nc -1\n',
    'histogram without +Inf': '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
    'histogram not cumulative': '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    'histogram count differs': '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
    'garbage line': '# TYPE g gauge\n{g} 1\n',
  };
  for (const [why, text] of Object.entries(bad)) {
    it(`refuses: ${why}`, () => assert.throws(() => parsePrometheusText(text)));
  }
});
