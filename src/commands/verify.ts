import { readFileSync } from 'node:fs';
import type { Verdict } from '../domain/checks/client.js';
import { DEFAULT_ORGANIZATION_ID } from '../domain/model.js';
import { certificatesFromPem } from '../domain/x509/pem.js';
import { openRuntime } from '../runtime.js';
import { admitInScope, verdictOf } from '../services/admission.js';
import type { VerifyConfig } from '../config.js';

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

/** certgate verify: the gateway's decision for a PEM chain, from the store itself. Exit status 0 accepted, 1 refused. */
export async function runVerify(config: VerifyConfig, write: (text: string) => void): Promise<number> {
  const chain = certificatesFromPem(readFileSync(config.certFile, 'utf8'), 'cert');
  const rt = await openRuntime(config, { existing: true });
  try {
    const admission = await admitInScope(rt, { organizationId: DEFAULT_ORGANIZATION_ID, projectId: config.projectId ?? null }, { chain: () => chain });
    write(formatVerdict(verdictOf(admission), config.projectId));
    return admission.admitted ? 0 : 1;
  } finally {
    await rt.close();
  }
}
