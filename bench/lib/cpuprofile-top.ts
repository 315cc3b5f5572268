// Summarizes a V8 .cpuprofile (node --cpu-prof): self time per function, and
// inclusive time of functions matching an optional filter.
// usage: node dist/bench/lib/cpuprofile-top.js FILE.cpuprofile [N] [inclusive-regex]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}

const [file, topArg, filter] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: cpuprofile-top FILE [N] [inclusive-regex]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[] };
const top = Number(topArg ?? 30);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const total = profile.nodes.reduce((s, n) => s + n.hitCount, 0);
const where = (n: Node) => {
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/');
  return `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
};
const self = new Map<string, number>();
for (const n of profile.nodes) self.set(where(n), (self.get(where(n)) ?? 0) + n.hitCount);
const pct = (x: number) => ((100 * x) / total).toFixed(1).padStart(5) + '%';
console.log(`${total} samples; self time:`);
for (const [name, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(hits)}  ${name}`);

// inclusive: hits of a node and its descendants, counted once per matching frame name
const inclusive = new Map<string, number>();
const subtotal = (n: Node): number => n.hitCount + (n.children ?? []).reduce((s, c) => s + subtotal(byId.get(c)!), 0);
const walk = (n: Node, open: Set<string>) => {
  const name = where(n);
  const mine = !open.has(name);
  if (mine) {
    inclusive.set(name, (inclusive.get(name) ?? 0) + subtotal(n));
    open.add(name);
  }
  for (const c of n.children ?? []) walk(byId.get(c)!, open);
  if (mine) open.delete(name);
};
walk(profile.nodes[0]!, new Set());
const re = filter ? new RegExp(filter) : /dist\/src|node:(https|_tls|tls|_http)/;
console.log(`\ninclusive time (frames matching ${re}):`);
for (const [name, hits] of [...inclusive].filter(([k]) => re.test(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(hits)}  ${name}`);
