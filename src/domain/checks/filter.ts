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
// Cost is bounded by construction: at most 4 KiB and 1,000 syntax nodes, and
// no comprehension (exists, all, map, filter, …) inside another, so a leaf's
// SANs are walked at most once per comprehension.
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
  return cel.celEnv({
    variables: { subject: cel.mapType(S, S), subject_alt_names: cel.listType(cel.mapType(S, S)), ...Object.fromEntries(SAN_TYPES.map((t) => [t, S])) },
    funcs: strings,
    re2: cachedRe2,
  });
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
  let run: (bindings: Record<string, unknown>) => unknown;
  try {
    run = cel.plan(evaluator, parsed) as typeof run;
  } catch (err) {
    throw new FilterInvalid(`The filter could not be prepared for evaluation: ${firstLine((err as Error).message)}`);
  }
  return {
    expression,
    evaluate(certificate) {
      try {
        const value = run(filterInput(certificate));
        if (cel.isCelError(value)) return { ok: false, error: firstLine(String((value as Error).message ?? value)) };
        if (typeof value !== 'boolean') return { ok: false, error: 'the filter did not produce a bool' };
        return { ok: true, admitted: value };
      } catch (err) {
        return { ok: false, error: firstLine(err instanceof Error ? err.message : String(err)) };
      }
    },
  };
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
