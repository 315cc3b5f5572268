// A check is a small named function; a list of checks runs in order and stops
// at the first failure. Upload rules and client-certificate checks are both
// lists of these, so what ran, and why something was refused, is always the
// list's own record.

export type Outcome<F> = { readonly passed: true; readonly message: string } | ({ readonly passed: false; readonly message: string } & F);

export interface Check<C, F> {
  readonly name: string;
  readonly run: (subject: C) => Outcome<F>;
}

export interface CheckResult {
  readonly name: string;
  readonly passed: boolean;
  readonly message: string;
}

export interface Run<F> {
  readonly results: readonly CheckResult[];
  /** the first failure, when there was one */
  readonly failure: ({ readonly name: string; readonly message: string } & F) | undefined;
}

export const pass = (message: string) => ({ passed: true, message }) as const;

export function runChecks<C, F>(checks: readonly Check<C, F>[], subject: C): Run<F> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    const outcome = check.run(subject);
    results.push({ name: check.name, passed: outcome.passed, message: outcome.message });
    if (!outcome.passed) {
      const { passed: _passed, ...failure } = outcome as { passed: false; message: string } & F;
      return { results, failure: { name: check.name, ...failure } as { name: string; message: string } & F };
    }
  }
  return { results, failure: undefined };
}
