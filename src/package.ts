import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Where certgate is installed. The code runs from two places at different depths: the compiled tree (dist/src/…,
// what the tests import) and the bundle (dist/bin/…, what `certgate` and `npm start` run), so files of the package
// are found from its root, the nearest folder above this module holding certgate's package.json, read once.

interface Found {
  readonly root: string;
  readonly manifest: { readonly name: string; readonly version: string };
}

let found: Found | undefined;

/** The root and its package.json, read once. */
function find(): Found {
  if (found) return found;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as Found['manifest'];
      if (manifest.name === 'certgate') return (found = { root: dir, manifest });
    }
    if (dirname(dir) === dir) throw new Error('certgate: cannot find the package root (package.json) above ' + fileURLToPath(import.meta.url));
  }
}

/** A file or folder of the installed package, by its path from the root (e.g. 'dist/src/console'). */
export function packagePath(...segments: string[]): string {
  return join(find().root, ...segments);
}

export function packageVersion(): string {
  return find().manifest.version;
}
