// A rule is a small named check; a list of rules is checked in order and the
// first failure refuses, naming the rule.

export interface Rule<C> {
  readonly name: string;
  /** Returns undefined when the rule holds, else a message a person can act on. */
  readonly check: (subject: C) => string | undefined;
}

export function firstFailure<C>(rules: readonly Rule<C>[], subject: C): { name: string; message: string } | undefined {
  for (const rule of rules) {
    const failure = rule.check(subject);
    if (failure !== undefined) return { name: rule.name, message: failure };
  }
  return undefined;
}
