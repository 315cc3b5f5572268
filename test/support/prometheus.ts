// A strict reader of the Prometheus text exposition format (version 0.0.4),
// for tests: every line must be a valid comment, HELP, TYPE or sample line, each
// sample must belong to a declared family, and histograms must be whole. It
// throws on the first thing a Prometheus server would refuse.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  type: MetricType;
  help: string | undefined;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function fail(lineNo: number, why: string, line: string): never {
  throw new Error(`prometheus text, line ${lineNo}: ${why}: ${JSON.stringify(line)}`);
}

function parseValue(text: string, lineNo: number, line: string): number {
  // as Go's strconv.ParseFloat, which Prometheus uses: NaN and Inf in any case
  if (/^nan$/i.test(text)) return NaN;
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) fail(lineNo, `bad value ${JSON.stringify(text)}`, line);
  return Number(text);
}

/** Reads `{a="x",b="y"}` starting at text[start] === '{'; returns the labels and the index after '}'. */
function parseLabels(text: string, start: number, lineNo: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    if (text[i] === '}') return { labels, end: i + 1 };
    const eq = text.indexOf('=', i);
    if (eq < 0) fail(lineNo, 'label without =', text);
    const name = text.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) fail(lineNo, `bad label name ${JSON.stringify(name)}`, text);
    if (name in labels) fail(lineNo, `label ${name} repeated`, text);
    i = eq + 1;
    if (text[i] !== '"') fail(lineNo, 'label value not quoted', text);
    i++;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) fail(lineNo, 'unterminated label value', text);
      if (c === '"') break;
      if (c === '\\') {
        const next = text[i + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else fail(lineNo, `bad escape \\${next}`, text);
        i += 2;
        continue;
      }
      if (c === '\n') fail(lineNo, 'raw newline in label value', text);
      value += c;
      i++;
    }
    labels[name] = value;
    i++;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail(lineNo, 'expected , or } after a label', text);
  }
}

/** The family a sample name belongs to, given the families declared so far. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const exact = families.get(name);
  if (exact) return exact;
  for (const suffix of ['_bucket', '_sum', '_count', '_total', '_created']) {
    if (!name.endsWith(suffix)) continue;
    const family = families.get(name.slice(0, -suffix.length));
    if (!family) continue;
    const allowed =
      family.type === 'histogram' ? ['_bucket', '_sum', '_count', '_created'] : family.type === 'summary' ? ['_sum', '_count', '_created'] : family.type === 'counter' ? ['_total', '_created'] : [];
    if (allowed.includes(suffix)) return family;
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seenSeries = new Set<string>();
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('prometheus text: the last line must end with a newline');
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest = ''] = m;
      if (!METRIC_NAME.test(name!)) fail(lineNo, 'bad metric name', line);
      let family = families.get(name!);
      if (kind === 'TYPE') {
        const type = rest.trim() as MetricType;
        if (!TYPES.has(type)) fail(lineNo, `unknown type ${JSON.stringify(rest)}`, line);
        if (family?.samples.length) fail(lineNo, 'TYPE after samples of its family', line);
        if (family && family.type !== 'untyped') fail(lineNo, 'TYPE given twice', line);
        if (!family) families.set(name!, (family = { name: name!, type, help: undefined, samples: [] }));
        family.type = type;
      } else {
        if (family?.help !== undefined) fail(lineNo, 'HELP given twice', line);
        if (!family) families.set(name!, (family = { name: name!, type: 'untyped', help: undefined, samples: [] }));
        family.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      }
      return;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nameMatch) fail(lineNo, 'not a sample line', line);
    const name = nameMatch[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i, lineNo));
    const rest = line.slice(i);
    const parts = rest.trim().split(/\s+/);
    if (!/^\s/.test(rest) || parts.length < 1 || parts.length > 2) fail(lineNo, 'expected a value (and maybe a timestamp)', line);
    const value = parseValue(parts[0]!, lineNo, line);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) fail(lineNo, 'bad timestamp', line);
    const family = familyOf(name, families);
    if (!family) fail(lineNo, `sample of an undeclared family`, line);
    const series = name + JSON.stringify(Object.entries(labels).sort());
    if (seenSeries.has(series)) fail(lineNo, 'series repeated', line);
    seenSeries.add(series);
    if (family.type === 'counter' && (value < 0 || Number.isNaN(value))) fail(lineNo, 'a counter below zero', line);
    family.samples.push({ name, labels, value });
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

/** Each label set of a histogram: cumulative buckets ending at +Inf, which equals _count. */
function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { buckets: [] }));
    if (s.name === `${family.name}_bucket`) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      g.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
    } else if (s.name === `${family.name}_count`) g.count = s.value;
    else if (s.name === `${family.name}_sum`) g.sum = s.value;
  }
  for (const [key, g] of groups) {
    const where = `${family.name}${key}`;
    if (g.count === undefined || g.sum === undefined) throw new Error(`${where}: _count or _sum missing`);
    const last = g.buckets.at(-1);
    if (!last || last[0] !== Infinity) throw new Error(`${where}: no +Inf bucket last`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i]![0] > g.buckets[i - 1]![0])) throw new Error(`${where}: buckets out of order`);
      if (g.buckets[i]![1] < g.buckets[i - 1]![1]) throw new Error(`${where}: buckets not cumulative`);
    }
    if (last[1] !== g.count) throw new Error(`${where}: +Inf bucket ${last[1]} is not _count ${g.count}`);
  }
}

/** The samples of one family whose labels include `match`. */
export function samples(families: Map<string, Family>, family: string, match: Record<string, string> = {}, sampleName = family): Sample[] {
  const f = families.get(family);
  if (!f) return [];
  return f.samples.filter((s) => s.name === sampleName && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}
