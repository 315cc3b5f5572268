// engines: package.json names the runtimes certgate supports, and every package `npm ci` installs for production
// must admit every one of them, not only the Node running this test. Ranges are read with `semver`, npm's own reader.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import semver from 'semver';
import { refusingSupported, SUPPORTED_NODE } from '../support/node-range.js';

const ROOT = new URL('../../../', import.meta.url);
const lock = JSON.parse(readFileSync(new URL('package-lock.json', ROOT), 'utf8')) as {
  packages: Record<string, { version?: string; dev?: boolean; engines?: { node?: string } }>;
};
const SUPPORTED = SUPPORTED_NODE;

describe('engines', () => {
  it('package.json names supported release lines, each from a version on', () => {
    const range = new semver.Range(SUPPORTED);
    assert.ok(range.set.length >= 2, `${SUPPORTED}: one alternative per supported release line`);
    for (const alternative of range.set) {
      const lower = alternative.find((c) => c.operator === '>=');
      const upper = alternative.find((c) => c.operator === '<');
      assert.ok(lower && upper, `${alternative.map(String).join(' ')}: bounded, so a release line nobody tested is not claimed`);
      assert.equal(upper.semver.major, lower.semver.major + 1, 'one major version per alternative');
    }
  });

  it('the check refuses what it must', () => {
    assert.deepEqual(refusingSupported([{ name: 'a', node: '>=20' }, { name: 'b', node: '20.x || 22.x || 24.x' }], '^20.19.0 || ^22.0.0 || ^24.0.0'), []);
    assert.deepEqual(
      refusingSupported(
        [
          { name: 'newer', version: '1.0.0', node: '>=22' },
          { name: 'capped', version: '1.0.0', node: '>=14 <24' },
          { name: 'late', version: '1.0.0', node: '>=20.19.1' },
        ],
        '^20.19.0 || ^22.0.0 || ^24.0.0',
      ),
      ['newer@1.0.0 needs node >=22', 'capped@1.0.0 needs node >=14 <24', 'late@1.0.0 needs node >=20.19.1'],
    );
  });

  it(`every production dependency in package-lock.json admits every supported runtime (${SUPPORTED}), the one running this test among them`, () => {
    assert.ok(semver.satisfies(process.version, SUPPORTED), `the suite runs on a supported runtime (${process.version}, package.json says ${SUPPORTED})`);
    const production = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && !entry.dev)
      .map(([path, entry]) => ({ name: path.replace(/^.*node_modules\//, ''), version: entry.version, node: entry.engines?.node }));
    assert.ok(production.filter((p) => p.node).length > 20, 'enough packages declare engines for this to mean something');
    assert.deepEqual(refusingSupported(production), [], 'pin these (package.json) to a major that admits every supported runtime');
  });
});
