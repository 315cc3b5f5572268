// A trust anchor as an earlier, more lenient certgate stored it, which this version's reader refuses: a CA whose
// basicConstraints BOOLEAN has a non-minimal length (OpenSSL reads it; certgate's DER reader does not). The API of
// this version refuses to upload it, so it is written straight into the store, as the older version had.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { DEFAULT_ORGANIZATION_ID } from '../../src/domain/model.js';
import { newId } from '../../src/domain/ids.js';
import type { Runtime } from '../../src/runtime.js';
import { hex } from './der.js';
import { Extension, KeyUsageFlags, makeCa, type Issued } from './pki.js';

const BY = { organizationId: DEFAULT_ORGANIZATION_ID, key: null, local: 'test' };

/** A CA certgate's reader refuses. */
export function lenientCa(name = 'anchor of an older reader'): Promise<Issued> {
  return makeCa({
    name,
    ca: null,
    keyUsage: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
    extra: [new Extension('2.5.29.19', true, new Uint8Array(hex('30 04 01 81 01 ff')))],
  });
}

/** Stores `ca` as an earlier version would have, active in `scope` (a project id, or 'organization'); answers its id. */
export async function storeAsOlderVersion(rt: Runtime, ca: Issued, scope: string): Promise<string> {
  const id = newId('cert');
  const now = Math.floor(Date.now() / 1000);
  await rt.write(BY, async (tx) => {
    await tx.insertCertificate({
      id,
      name: 'from an older version',
      fingerprint: createHash('sha256').update(Buffer.from(ca.cert.rawData)).digest('hex'),
      content: ca.pem,
      validAt: Math.floor(ca.cert.notBefore.getTime() / 1000),
      expiresAt: Math.floor(ca.cert.notAfter.getTime() / 1000),
      createdAt: now,
      filterExpression: null,
      filterUpdatedAt: null,
      crl: null,
    });
    await tx.activate(scope, [id], now);
  });
  return id;
}

/** The API of this version refuses to upload it: what makes the fixture one this version cannot read. */
export async function assertRefusedByApi(request: (method: string, path: string, body?: unknown) => Promise<{ status: number }>, ca: Issued): Promise<void> {
  assert.equal((await request('POST', '/v1/organization/certificates', { certificate: ca.pem })).status, 400);
}
