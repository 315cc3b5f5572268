import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Where certgate is installed. The code runs from two places at different depths: the compiled tree (dist/src/…,
// what the tests import) and the bundle (dist/bin/…, what `certgate` and `npm start` run), so files of the package
// are found from its root, the nearest folder above this module holding certgate's package.json.

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'certgate') return (root = dir);
    if (dirname(dir) === dir) throw new Error('certgate: cannot find the package root (package.json) above ' + fileURLToPath(import.meta.url));
  }
}

/** A file or folder of the installed package, by its path from the root (e.g. 'dist/src/console'). */
export function packagePath(...segments: string[]): string {
  return join(packageRoot(), ...segments);
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
}
