import { createRequire } from 'node:module';
import type { CertificateFacts } from '../x509/certificate.js';
import { AttributeOid, attributeValues, type GeneralName } from '../x509/names.js';

// OpenAI's per-anchor filter: a CEL expression over the verified client
// certificate's subject and subject alternative names, which must be a
// boolean. Two well-kept CEL libraries share the work:
// - @marcbachmann/cel-js type-checks each expression when it is saved (the
//   only JavaScript CEL with a checker): unknown variables, unknown fields and
//   non-boolean results are refused with its message;
// - @bufbuild/cel evaluates it at the gate: conformance-tested against the CEL
//   spec, with RE2 regular expressions, whose matching time is linear, so no
//   filter can backtrack for seconds on a crafted SAN.
// The size limits (4 KiB, 1,000 syntax nodes, no nested comprehension) bound
// the text, not the work: `split("").join("…")` chained a few times grows
// exponentially. Neither library meters evaluation, so every evaluation runs
// under a budget of work (see Meter below): every function the evaluator
// resolves is wrapped to charge its cost, computed from the sizes of its
// inputs BEFORE it runs (so an output too large to afford is never built),
// and every comprehension step is charged through a call spliced into its
// loop condition. A filter that needs more than the budget on a probe
// certificate is refused when saved; one that exceeds it at the gate is an
// evaluation error (503), and the process goes on.
// Both libraries are loaded with the first filter compiled, not with this
// module (together some 0.15 CPU-s and 10 MiB): a gateway whose anchors have
// no filter never loads them.

const require = createRequire(import.meta.url);
type BufCel = typeof import('@bufbuild/cel');
type CelJs = typeof import('@marcbachmann/cel-js');

/**
 * @marcbachmann/cel-js is an ES module only. A Node that can require() one (20.19 and later) loads it with the
 * first filter; an older Node 20 loads it here, with this module, as before.
 */
const celJsNow: CelJs | undefined = (process.features as { require_module?: boolean }).require_module ? undefined : await import('@marcbachmann/cel-js');

export const MAX_FILTER_BYTES = 4096;

/** The subject fields, each the first value of its attribute in the subject ("" when absent). */
const SUBJECT_FIELDS = {
  common_name: AttributeOid.commonName,
  country_code: AttributeOid.countryName,
  organization: AttributeOid.organizationName,
  organizational_unit: AttributeOid.organizationalUnitName,
  locality: AttributeOid.localityName,
  province: AttributeOid.stateOrProvinceName,
  street_address: AttributeOid.streetAddress,
  postal_code: AttributeOid.postalCode,
} as const;

export const SAN_TYPES = ['DNS', 'EMAIL', 'IP_ADDRESS', 'URI', 'CUSTOM'] as const;

/**
 * The budget of work of one evaluation, in units of roughly a nanosecond of this evaluator's CPU on the machine the
 * figures in the README were measured on. The costs below are upper bounds measured on @bufbuild/cel 0.6 (see the
 * README, "Filters: a budget of work"); BUDGET is set at 2 ms so that the 5 ms CPU bound holds with margin on a
 * loaded machine, and because every output is charged as it is allocated, memory stays under 16 MiB.
 */
export const FILTER_BUDGET = 2_000_000;
const COST = {
  /** evaluating one syntax node outside a function (attribute, literal, logical operator) */
  node: 300,
  /** one call through the evaluator's resolver: argument checks, overload choice */
  call: 300,
  /** one character scanned by native string code (indexOf, startsWith, ==, split) */
  scan: 1,
  /** one character built by the strings extension's character loops (lowerAscii, join, format, quote, replace) */
  build: 20,
  /** one character of a new string, for the memory it takes */
  alloc: 2,
  /** one list element iterated, copied or created (the evaluator's lists are iterated through generators) */
  element: 200,
  /** one character of text matched by RE2 (its NFA is linear in the text and in the pattern: see regexPerPatternChar) */
  regex: 250,
  regexPerPatternChar: 5,
} as const;

/** The words every over-budget error carries (admission keeps such a refusal on the connection: it is not transient). */
export const OVER_BUDGET = 'the filter exceeded its budget of work';

/** Thrown inside the evaluator, caught by the planner's own handler; the meter keeps the verdict. */
class BudgetExceeded extends Error {}

class Meter {
  spent = 0;
  exceeded = false;
  constructor(readonly budget: number) {}
  charge(units: number): void {
    this.spent += units;
    if (this.spent > this.budget) {
      this.exceeded = true;
      throw new BudgetExceeded(`${OVER_BUDGET} (${this.budget.toLocaleString('en-US')} units)`);
    }
  }
}

/** The meter of the evaluation in progress: evaluation is synchronous, so one at a time. */
let meter: Meter | undefined;

type Value = unknown;
interface CelListLike {
  readonly size: number;
  [Symbol.iterator](): Iterator<Value>;
}

function lengthOf(v: Value): number {
  if (typeof v === 'string' || v instanceof Uint8Array) return v.length;
  if (v && typeof v === 'object' && 'size' in v && typeof (v as { size: unknown }).size === 'number') return (v as { size: number }).size;
  return 0;
}

/** Characters and elements a value holds, all the way down: what comparing or formatting it may visit. */
function deepSize(v: Value, isList: (v: Value) => boolean, isMap: (v: Value) => boolean): { chars: number; elements: number } {
  if (typeof v === 'string' || v instanceof Uint8Array) return { chars: v.length, elements: 0 };
  if (isList(v) || isMap(v)) {
    let chars = 0;
    let elements = 0;
    const items = isMap(v) ? [...(v as Map<Value, Value>).entries()].flat() : (v as CelListLike);
    for (const item of items) {
      // the walk itself is work: charged as it goes, so a huge value stops it early
      meter?.charge(COST.element);
      const inner = deepSize(item, isList, isMap);
      chars += inner.chars;
      elements += inner.elements + 1;
    }
    return { chars, elements };
  }
  return { chars: 0, elements: 0 };
}

function occurrences(text: string, part: string): number {
  if (part.length === 0) return text.length + 1;
  let n = 0;
  for (let at = text.indexOf(part); at !== -1; at = text.indexOf(part, at + part.length)) n++;
  return n;
}

/** What a call will cost, from its inputs, before it runs: the largest output it can build is charged up front. */
function callCost(name: string, target: Value, args: readonly Value[], cel: BufCel): number {
  const isList = cel.isCelList as (v: Value) => boolean;
  const isMap = cel.isCelMap as (v: Value) => boolean;
  const str = (v: Value) => (typeof v === 'string' ? v : '');
  switch (name) {
    case 'matches':
      return (lengthOf(target) + 1) * (COST.regex + COST.regexPerPatternChar * lengthOf(args[0])) + COST.build * lengthOf(args[0]);
    case 'lowerAscii':
    case 'upperAscii':
    case 'trim':
      return COST.build * lengthOf(target);
    case 'strings.quote':
      return COST.build * 2 * lengthOf(args[0]) + COST.build;
    case 'split':
      // at most one element per character, plus one
      return COST.scan * lengthOf(target) + COST.element * (lengthOf(target) + 1);
    case 'replace': {
      // the strings extension rebuilds the whole string at each occurrence
      const text = str(target);
      const [part, by] = [str(args[0]), str(args[1])];
      const n = Math.min(occurrences(text, part), args[2] === undefined || Number(args[2]) < 0 ? Infinity : Number(args[2]));
      const longest = text.length + n * Math.max(0, by.length - part.length);
      return COST.scan * text.length + n * (COST.scan + COST.alloc) * longest;
    }
    case 'join': {
      const list = target as CelListLike;
      let chars = 0;
      for (const item of list) chars += lengthOf(item);
      chars += Math.max(0, list.size - 1) * lengthOf(args[0]);
      return COST.element * list.size + COST.build * chars;
    }
    case 'format': {
      const { chars, elements } = deepSize(args[0], isList, isMap);
      // %x doubles a string; every other clause writes at most its value, a number or a fixed word
      return COST.build * (lengthOf(target) + 2 * chars + 32 * (elements + 1)) + COST.element * elements;
    }
    case '_+_':
      if (isList(target ?? args[0])) return COST.element * (lengthOf(args[0]) + lengthOf(args[1]));
      return COST.alloc * (lengthOf(args[0]) + lengthOf(args[1]));
    case 'size':
      return 0;
    default: {
      // comparisons, membership, conversions, searches: linear in everything they are given
      let units = 0;
      for (const v of [target, ...args]) {
        const { chars, elements } = deepSize(v, isList, isMap);
        units += COST.scan * chars + COST.element * elements;
      }
      return units;
    }
  }
}

/** One comprehension step: charged through a call spliced into each loop condition (see meterComprehensions). */
const STEP = '@certgate_step';

function makeChecker(Environment: CelJs['Environment']) {
  const env = new Environment({ limits: { maxAstNodes: 1000, maxDepth: 40, maxListElements: 100, maxMapEntries: 100, maxCallArguments: 8 } })
    .registerVariable({ name: 'subject', schema: Object.fromEntries(Object.keys(SUBJECT_FIELDS).map((field) => [field, 'string'])) })
    .registerType('SubjectAltName', { fields: { type: 'string', value: 'string', oid: 'string' } })
    .registerVariable('subject_alt_names', 'list<SubjectAltName>');
  for (const type of SAN_TYPES) env.registerConstant(type, 'string', type);
  return env;
}

function makeEvaluator(cel: BufCel, RE2JS: typeof import('@bufbuild/re2').RE2JS) {
  /** RE2 patterns compiled once each (the evaluator would otherwise compile a pattern on every call). */
  const patterns = new Map<string, { test(text: string): boolean }>();
  const cachedRe2 = {
    compile(pattern: string) {
      let matcher = patterns.get(pattern);
      if (!matcher) {
        const re = RE2JS.compile(pattern);
        matcher = { test: (text: string) => re.test(text) };
        if (patterns.size >= 1000) patterns.clear();
        patterns.set(pattern, matcher);
      }
      return matcher;
    },
  };
  const S = cel.CelScalar.STRING;
  const { strings } = require('@bufbuild/cel/ext') as typeof import('@bufbuild/cel/ext');
  const step = cel.celFunc(STEP, [cel.CelScalar.DYN, cel.CelScalar.INT], cel.CelScalar.DYN, (condition, units) => {
    meter?.charge(Number(units));
    return condition;
  });
  const env = cel.celEnv({
    variables: { subject: cel.mapType(S, S), subject_alt_names: cel.listType(cel.mapType(S, S)), ...Object.fromEntries(SAN_TYPES.map((t) => [t, S])) },
    funcs: [...strings, step],
    re2: cachedRe2,
  });
  return metered(env, cel);
}

/**
 * The same environment, with every function group the planner resolves wrapped by the meter: the call's cost is
 * charged before it runs, and a list built by `+` is copied flat, so that no list is a chain of views that each
 * later visit walks again (a comprehension's `map` would otherwise build one as deep as its input is long).
 */
function metered<E extends ReturnType<BufCel['celEnv']>>(env: E, cel: BufCel): E {
  type Group = NonNullable<ReturnType<E['funcs']['find']>>;
  const wrapped = new Map<string, Group>();
  const wrap = (group: Group): Group => {
    const name = group.name;
    return {
      name,
      [Symbol.iterator]: () => group[Symbol.iterator](),
      call(id: number, target: Value, args: Value[]) {
        const m = meter;
        // a comprehension step charges itself
        if (!m || name === STEP) return group.call(id, target as never, args as never);
        m.charge(COST.call + callCost(name, target, args, cel));
        let result = group.call(id, target as never, args as never) as Value;
        if (typeof result === 'string') m.charge(COST.alloc * result.length);
        else if (name === '_+_' && cel.isCelList(result)) result = cel.celList([...(result as unknown as Iterable<never>)]);
        return result as never;
      },
    } as unknown as Group;
  };
  const funcs = {
    [Symbol.iterator]: () => env.funcs[Symbol.iterator](),
    find(name: string) {
      let group = wrapped.get(name);
      if (!group) {
        const found = env.funcs.find(name) as Group | undefined;
        if (!found) return undefined;
        wrapped.set(name, (group = wrap(found)));
      }
      return group;
    },
  };
  return { namespace: env.namespace, registry: env.registry, variables: env.variables, funcs } as unknown as E;
}

type AnyNode = { id?: bigint; exprKind?: { case?: string; value?: Record<string, unknown> } };

function nodeCount(node: unknown): number {
  if (!node || typeof node !== 'object') return 0;
  if (Array.isArray(node)) return node.reduce((n: number, item) => n + nodeCount(item), 0);
  let n = (node as AnyNode).exprKind?.case ? 1 : 0;
  for (const [key, value] of Object.entries(node)) if (key !== '$typeName') n += nodeCount(value);
  return n;
}

/**
 * Splices `@certgate_step(condition, units)` into every comprehension's loop condition, which the evaluator asks
 * before each step: `units` is what one step can cost outside function calls (each node of the condition and the
 * step once). No user can write the call: `@` cannot begin a CEL identifier.
 */
function meterComprehensions(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) meterComprehensions(item);
    return;
  }
  for (const [key, value] of Object.entries(node)) if (key !== '$typeName') meterComprehensions(value);
  const expr = node as AnyNode;
  if (expr.exprKind?.case !== 'comprehensionExpr') return;
  const loop = expr.exprKind.value as { loopCondition?: AnyNode; loopStep?: AnyNode };
  const units = COST.node * (nodeCount(loop.loopCondition) + nodeCount(loop.loopStep));
  const constant = { id: 0n, exprKind: { case: 'constExpr', value: { constantKind: { case: 'int64Value', value: BigInt(units) } } } };
  loop.loopCondition = { id: 0n, exprKind: { case: 'callExpr', value: { function: STEP, args: [loop.loopCondition, constant] } } } as AnyNode;
}

interface Libraries {
  readonly checker: ReturnType<typeof makeChecker>;
  readonly evaluator: ReturnType<typeof makeEvaluator>;
  readonly cel: BufCel;
  readonly RE2JS: typeof import('@bufbuild/re2').RE2JS;
}

let loaded: Libraries | undefined;

function libraries(): Libraries {
  if (!loaded) {
    const cel = require('@bufbuild/cel') as BufCel;
    const { RE2JS } = require('@bufbuild/re2') as typeof import('@bufbuild/re2');
    const celJs = celJsNow ?? (require('@marcbachmann/cel-js') as CelJs);
    loaded = { checker: makeChecker(celJs.Environment), evaluator: makeEvaluator(cel, RE2JS), cel, RE2JS };
  }
  return loaded;
}

/** Operators the evaluator's planner handles itself, beside the functions its resolver knows. */
const PLANNED = new Set(['_&&_', '_||_', '_?_:_', '@not_strictly_false', '_[_]']);

/** Every function an expression calls, by name. */
function calledFunctions(node: unknown, out = new Set<string>()): Set<string> {
  if (!node || typeof node !== 'object') return out;
  if (Array.isArray(node)) {
    for (const item of node) calledFunctions(item, out);
    return out;
  }
  const expr = node as { exprKind?: { case?: string; value?: { function?: string } } };
  if (expr.exprKind?.case === 'callExpr' && expr.exprKind.value?.function) out.add(expr.exprKind.value.function);
  for (const [key, value] of Object.entries(node)) if (key !== '$typeName') calledFunctions(value, out);
  return out;
}

/** An expression certgate refuses to save; the message says why (the compiler's own words where it has them). */
export class FilterInvalid extends Error {}

export type FilterResult = { readonly ok: true; readonly admitted: boolean } | { readonly ok: false; readonly error: string };

export interface Filter {
  readonly expression: string;
  evaluate(certificate: CertificateFacts): FilterResult;
}

type Node = { exprKind: { case: string | undefined; value?: unknown } };

/** The deepest nesting of comprehensions in a parsed expression. */
function comprehensionDepth(node: unknown): number {
  if (!node || typeof node !== 'object') return 0;
  if (Array.isArray(node)) return Math.max(0, ...node.map(comprehensionDepth));
  const expr = node as Partial<Node> & Record<string, unknown>;
  let deepest = 0;
  for (const [key, value] of Object.entries(expr)) {
    if (key === '$typeName') continue;
    deepest = Math.max(deepest, comprehensionDepth(value));
  }
  return expr.exprKind?.case === 'comprehensionExpr' ? deepest + 1 : deepest;
}

/** Each literal pattern given to matches(), compiled now as RE2, so a bad pattern is refused when saved rather than failing at the gate. */
function literalPatterns(node: unknown, out: string[] = []): string[] {
  if (!node || typeof node !== 'object') return out;
  if (Array.isArray(node)) {
    for (const item of node) literalPatterns(item, out);
    return out;
  }
  const expr = node as { exprKind?: { case?: string; value?: { function?: string; args?: unknown[] } } };
  if (expr.exprKind?.case === 'callExpr' && expr.exprKind.value?.function === 'matches') {
    const pattern = expr.exprKind.value.args?.at(-1) as { exprKind?: { case?: string; value?: { constantKind?: { case?: string; value?: unknown } } } } | undefined;
    const constant = pattern?.exprKind?.case === 'constExpr' ? pattern.exprKind.value?.constantKind : undefined;
    if (constant?.case === 'stringValue') out.push(String(constant.value));
  }
  for (const [key, value] of Object.entries(node)) if (key !== '$typeName') literalPatterns(value, out);
  return out;
}

const firstLine = (message: string) => message.split('\n')[0]!.trim();

export function compileFilter(expression: string): Filter {
  if (expression.trim().length === 0) throw new FilterInvalid('The filter expression is empty.');
  if (Buffer.byteLength(expression, 'utf8') > MAX_FILTER_BYTES) throw new FilterInvalid(`The filter expression must be at most ${MAX_FILTER_BYTES} bytes.`);
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(expression)) throw new FilterInvalid('The filter expression must not contain control characters other than tabs and line breaks.');
  const { checker, evaluator, cel, RE2JS } = libraries();
  let checked: { valid: boolean; type?: string; error?: Error };
  try {
    checked = checker.check(expression) as typeof checked;
  } catch (err) {
    throw new FilterInvalid(`The filter does not compile: ${firstLine((err as Error).message)}`);
  }
  if (!checked.valid) throw new FilterInvalid(`The filter does not compile: ${firstLine(checked.error?.message ?? 'invalid expression')}`);
  if (checked.type !== 'bool') throw new FilterInvalid(`The filter must evaluate to a bool; this expression is of type ${checked.type}.`);
  let parsed: ReturnType<BufCel['parse']>;
  try {
    parsed = cel.parse(expression);
  } catch (err) {
    throw new FilterInvalid(`The filter does not compile: ${firstLine((err as Error).message)}`);
  }
  if (comprehensionDepth(parsed.expr) > 1) {
    throw new FilterInvalid('The filter nests one comprehension (exists, all, exists_one, map, filter) inside another; certgate allows one level, so evaluation stays linear in the number of SANs.');
  }
  // the checker and the evaluator are two libraries: refuse a function the evaluator would not find at the gate
  for (const name of calledFunctions(parsed.expr)) {
    if (!PLANNED.has(name) && !evaluator.funcs.find(name)) throw new FilterInvalid(`The filter calls ${name}(), which certgate's evaluator does not provide.`);
  }
  for (const pattern of literalPatterns(parsed.expr)) {
    try {
      RE2JS.compile(pattern);
    } catch (err) {
      throw new FilterInvalid(`The filter's regular expression ${JSON.stringify(pattern)} is not valid RE2: ${firstLine((err as Error).message)}`);
    }
  }
  meterComprehensions(parsed.expr);
  let run: (bindings: Record<string, unknown>) => unknown;
  try {
    run = cel.plan(evaluator, parsed) as typeof run;
  } catch (err) {
    throw new FilterInvalid(`The filter could not be prepared for evaluation: ${firstLine((err as Error).message)}`);
  }
  const base = COST.node * nodeCount(parsed.expr);
  const judge = (input: Record<string, unknown>): FilterResult & { spent: number } => {
    const m = new Meter(FILTER_BUDGET);
    const outer = meter;
    meter = m;
    let result: FilterResult;
    try {
      m.charge(base);
      const value = run(input);
      if (cel.isCelError(value)) result = { ok: false, error: firstLine(String((value as Error).message ?? value)) };
      else if (typeof value !== 'boolean') result = { ok: false, error: 'the filter did not produce a bool' };
      else result = { ok: true, admitted: value };
    } catch (err) {
      result = { ok: false, error: firstLine(err instanceof Error ? err.message : String(err)) };
    } finally {
      meter = outer;
    }
    // a handler inside the evaluator may have turned the meter's throw into a value: the meter's word is final
    if (m.exceeded) result = { ok: false, error: `${OVER_BUDGET} (${FILTER_BUDGET.toLocaleString('en-US')} units)` };
    return { ...result, spent: m.spent };
  };
  for (const probe of probes()) {
    const { spent } = judge(probe);
    if (spent > FILTER_BUDGET) {
      throw new FilterInvalid(
        `The filter's cost exceeds its budget of work: on a certificate of the largest ordinary shape (${PROBE_SHAPE}) it needs more than ${FILTER_BUDGET.toLocaleString('en-US')} units (about 3 ms of CPU); the gate stops any filter at that budget.`,
      );
    }
  }
  /** leaves (by fingerprint) that exhausted the budget: the same leaf and filter always do, so they are not tried again */
  const exhausted = new Map<string, FilterResult>();
  return {
    expression,
    evaluate(certificate) {
      const known = exhausted.get(certificate.fingerprint);
      if (known) return known;
      const { spent, ...result } = judge(filterInput(certificate));
      if (spent > FILTER_BUDGET) {
        if (exhausted.size >= 1000) exhausted.clear();
        exhausted.set(certificate.fingerprint, result);
      }
      return result;
    },
  };
}

/** Sizes of the probes a filter is tried on when saved: RFC 5280's upper bounds for the subject, a DNS name's maximum. */
const PROBE_SANS = 20;
const PROBE_SHAPE = `every subject field 64 characters, ${PROBE_SANS} SANs of 253`;
let probeInputs: Record<string, unknown>[] | undefined;

/** Inputs shaped like a large certificate, with the separators filters split on, in two contents (so both sides of a comparison are taken). */
function probes(): Record<string, unknown>[] {
  if (!probeInputs) {
    const text = (unit: string, length: number) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
    probeInputs = ['a.b-c_d/e@f:0 ', 'x'].map((unit) => {
      const subject = new Map(Object.keys(SUBJECT_FIELDS).map((field) => [field, text(unit, 64)]));
      const subject_alt_names = Array.from({ length: PROBE_SANS }, (_, i) => new Map([
        ['type', SAN_TYPES[i % SAN_TYPES.length]!],
        ['value', text(unit, 253)],
        ['oid', i % SAN_TYPES.length === 4 ? '1.3.6.1.4.1.311.20.2.3' : ''],
      ]));
      return { subject, subject_alt_names, ...Object.fromEntries(SAN_TYPES.map((t) => [t, t])) };
    });
  }
  return probeInputs;
}

const inputs = new WeakMap<CertificateFacts, Record<string, unknown>>();

function sanEntry(name: GeneralName): Map<string, string> {
  const type = { dns: 'DNS', email: 'EMAIL', ip: 'IP_ADDRESS', uri: 'URI' }[name.kind as string] ?? 'CUSTOM';
  const oid = name.kind === 'other' || name.kind === 'registered' ? name.oid : '';
  return new Map([
    ['type', type],
    ['value', name.value],
    ['oid', oid],
  ]);
}

/** The CEL variables for one certificate (OpenAI's names), built once per certificate. */
export function filterInput(certificate: CertificateFacts): Record<string, unknown> {
  let input = inputs.get(certificate);
  if (!input) {
    const subject = new Map<string, string>();
    for (const [field, oid] of Object.entries(SUBJECT_FIELDS)) subject.set(field, attributeValues(certificate.subjectName, oid)[0] ?? '');
    input = { subject, subject_alt_names: certificate.subjectAltNames.map(sanEntry), ...Object.fromEntries(SAN_TYPES.map((t) => [t, t])) };
    inputs.set(certificate, input);
  }
  return input;
}
