// Whether a Node version satisfies a package's `engines.node` range: the forms npm packages actually write
// (`*`, `>=20`, `>= 10.x`, `^16 || ^18 || >=20`, `20.x || 22.x`, `>=14 <22`, `~20.1`, a bare version). A form
// not listed here throws, so a new one is noticed rather than passed.

type Version = [number, number, number];

function parse(text: string): { version: Version; parts: number } {
  const pieces = text.replace(/^v/, '').split('.');
  const numbers = pieces.filter((p) => p !== 'x' && p !== 'X' && p !== '*');
  if (numbers.length === 0 || !numbers.every((p) => /^\d+$/.test(p)) || pieces.length > 3) throw new Error(`unsupported version ${JSON.stringify(text)}`);
  const n = numbers.map(Number);
  return { version: [n[0] ?? 0, n[1] ?? 0, n[2] ?? 0], parts: numbers.length };
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

function comparator(token: string, node: Version): boolean {
  if (token === '*' || token === 'x' || token === '') return true;
  const match = /^(>=|<=|>|<|=|\^|~)?(.+)$/.exec(token)!;
  const op = match[1] ?? '';
  const { version, parts } = parse(match[2]!);
  const c = compare(node, version);
  switch (op) {
    case '>=':
      return c >= 0;
    case '>':
      // >20 and >20.x mean above every 20.*
      return parts === 3 ? c > 0 : node[0] > version[0] || (parts === 2 && node[0] === version[0] && node[1] > version[1]);
    case '<=':
      return c <= 0 || (parts < 3 && node[0] === version[0] && (parts === 1 || node[1] === version[1]));
    case '<':
      return c < 0;
    case '^':
      return c >= 0 && (version[0] > 0 ? node[0] === version[0] : node[0] === 0 && node[1] === version[1]);
    case '~':
      return c >= 0 && node[0] === version[0] && (parts === 1 || node[1] === version[1]);
    default:
      // a bare (partial) version: every version it names
      return node[0] === version[0] && (parts < 2 || node[1] === version[1]) && (parts < 3 || node[2] === version[2]);
  }
}

export function satisfies(nodeVersion: string, range: string): boolean {
  const node = parse(nodeVersion).version;
  return range.split('||').some((alternative) => {
    const tokens = alternative.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1').split(/\s+/);
    return tokens.every((token) => comparator(token, node));
  });
}
