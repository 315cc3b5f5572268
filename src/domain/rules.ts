// A rule is a small named check; a list of rules is run in order and yields
// one result per rule. The upload endpoint refuses on the first failure; the
// verify endpoint shows every result.

export interface Rule<C> {
  readonly name: string;
  /** Returns undefined when the rule holds, else a message a person can act on. */
  readonly check: (subject: C) => string | undefined;
  readonly passMessage: string;
}

export interface RuleResult {
  readonly name: string;
  readonly passed: boolean;
  readonly message: string;
}

export function runRules<C>(rules: readonly Rule<C>[], subject: C): RuleResult[] {
  return rules.map((rule) => {
    const failure = rule.check(subject);
    return { name: rule.name, passed: failure === undefined, message: failure ?? rule.passMessage };
  });
}

export function firstFailure<C>(rules: readonly Rule<C>[], subject: C): { name: string; message: string } | undefined {
  for (const rule of rules) {
    const failure = rule.check(subject);
    if (failure !== undefined) return { name: rule.name, message: failure };
  }
  return undefined;
}
