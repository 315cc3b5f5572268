import { ApiError } from '../domain/errors.js';
import { containsPrivateKey, pemBlocks } from '../domain/pem.js';
import { requireUsableProject } from '../domain/projects.js';
import { verifyClientChain, type Verdict } from '../domain/verify.js';
import type { Core } from './core.js';

/** Which organization and (optionally) project a request or a test is made in. */
export interface RequestScope {
  readonly organizationId: string;
  readonly projectId: string | null;
}

/**
 * Is this chain accepted here? The verify endpoint and `certgate verify` ask this; the gateway makes the
 * same decision from the same parts (TrustAnchors.inForce, verifyClientChain) inline, because it keeps
 * verdicts against the anchor list's identity and answers an unusable project with a 401, not a 400.
 */
export async function decide(core: Core, scope: RequestScope, chain: readonly Buffer[]): Promise<Verdict> {
  const snapshot = await core.snapshots.get(scope.organizationId);
  if (scope.projectId !== null) requireUsableProject(scope.projectId, snapshot.project(scope.projectId));
  return verifyClientChain(chain, core.trust.inForce(snapshot, scope.projectId), core.clock());
}

/** The client chain in a PEM text, leaf first. A private key in it is refused, never read. */
export function chainFromPem(text: string, param = 'certificate'): Buffer[] {
  if (containsPrivateKey(text)) {
    throw new ApiError('invalid_certificate', 'The payload contains a private key. Send only the client certificate and its intermediates.', param);
  }
  const chain = pemBlocks(text)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => b.der);
  if (chain.length === 0) {
    throw new ApiError('invalid_certificate', 'No PEM-encoded certificate (-----BEGIN CERTIFICATE-----) was found.', param);
  }
  return chain;
}
