// The runtimes certgate supports (package.json's `engines.node`), and which packages refuse some of them. Ranges
// are read with `semver`, the reader npm itself uses.
import { readFileSync } from 'node:fs';
import semver from 'semver';

export const SUPPORTED_NODE = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }).engines.node;

/** Each package whose `engines.node` refuses some runtime that `supported` admits: "name@version needs node RANGE". */
export function refusingSupported(packages: Iterable<{ name: string; version?: string | undefined; node?: string | undefined }>, supported = SUPPORTED_NODE): string[] {
  const refusing: string[] = [];
  for (const p of packages) {
    if (p.node && !semver.subset(supported, p.node)) refusing.push(`${p.name}@${p.version ?? '?'} needs node ${p.node}`);
  }
  return refusing;
}
