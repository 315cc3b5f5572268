import { readFileSync } from 'node:fs';
import type { VerifyConfig } from './config.js';
import type { Verdict } from './domain/verify.js';
import { DEFAULT_ORGANIZATION_ID } from './serve.js';
import { Core } from './service/core.js';
import { chainFromPem, decide } from './service/verify.js';
import { openStore } from './store/open.js';

/** The verify endpoint's verdict, written for a person. */
export function formatVerdict(verdict: Verdict, projectId: string | undefined): string {
  const where = projectId ? `project ${projectId} (its anchors, then the organization's)` : 'the organization';
  const lines = [`scope:   ${where}`];
  if (!verdict.required) {
    lines.push('result:  ACCEPTED: no trust anchor is active here, so no client certificate is required');
  } else if (verdict.accepted) {
    lines.push(`result:  ACCEPTED by ${verdict.scope} trust anchor ${verdict.certificateId}`);
  } else {
    lines.push(`result:  REFUSED: ${verdict.refusal!.code} (${verdict.refusal!.reason})`);
  }
  lines.push('checks:');
  for (const check of verdict.checks) lines.push(`  ${check.passed ? 'pass' : 'FAIL'}  ${check.name.padEnd(24)} ${check.message}`);
  return lines.join('\n') + '\n';
}

export async function runVerify(config: VerifyConfig, write: (text: string) => void): Promise<number> {
  const chain = chainFromPem(readFileSync(config.certFile, 'utf8'), 'cert');
  const store = await openStore(config);
  const core = new Core(store);
  try {
    const verdict = await decide(core, { organizationId: DEFAULT_ORGANIZATION_ID, projectId: config.projectId ?? null }, chain);
    write(formatVerdict(verdict, config.projectId));
    return verdict.accepted ? 0 : 1;
  } finally {
    core.close();
    await store.close();
  }
}
