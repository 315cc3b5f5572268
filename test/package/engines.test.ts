// engines: certgate says Node 20, so every package `npm ci` installs for production must admit Node 20.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { satisfies } from '../support/node-range.js';

const ROOT = new URL('../../../', import.meta.url);
const lock = JSON.parse(readFileSync(new URL('package-lock.json', ROOT), 'utf8')) as {
  packages: Record<string, { version?: string; dev?: boolean; engines?: { node?: string } }>;
};
const pkg = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { engines: { node: string } };

describe('engines', () => {
  it('reads the ranges packages write', () => {
    const cases: [string, string, boolean][] = [
      ['20.20.2', '*', true],
      ['20.20.2', '>=20', true],
      ['20.20.2', '>=22', false],
      ['20.20.2', '>= 10.x', true],
      ['20.20.2', '>=20.18.1', true],
      ['20.17.0', '>=20.18.1', false],
      ['20.20.2', '^16 || ^18 || >=20', true],
      ['19.0.0', '^16 || ^18 || >=20', false],
      ['20.20.2', '20.x || 22.x || 23.x', true],
      ['21.1.0', '20.x || 22.x || 23.x', false],
      ['20.20.2', '>=14 <21', true],
      ['21.0.0', '>=14 <21', false],
      ['20.20.2', '^20.19.0', true],
      ['22.0.0', '^20.19.0', false],
      ['20.20.2', '~20.1', false],
      ['20.1.5', '~20.1', true],
    ];
    for (const [node, range, expected] of cases) assert.equal(satisfies(node, range), expected, `${node} in ${range}`);
    assert.throws(() => satisfies('20.0.0', 'lts/*'));
  });

  it(`every production dependency in package-lock.json admits the running Node (${process.version}), as package.json's engines do`, () => {
    assert.ok(satisfies(process.version, pkg.engines.node), `package.json engines ${pkg.engines.node}`);
    assert.ok(satisfies('20.0.0', pkg.engines.node) && process.versions.node.startsWith('20.'), 'certgate is tested on the Node 20 its engines name');
    const refusing: string[] = [];
    let checked = 0;
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === '' || entry.dev || !entry.engines?.node) continue;
      checked++;
      if (!satisfies(process.version, entry.engines.node)) refusing.push(`${path.replace(/^.*node_modules\//, '')}@${entry.version} needs node ${entry.engines.node}`);
    }
    assert.ok(checked > 20, `${checked} packages declare engines`);
    assert.deepEqual(refusing, [], 'pin these (package.json) to versions that run on Node 20');
  });
});
