// Seeds a certgate data directory in-process, through the admin API itself
// (Fastify's inject, no socket), the way an operator would with the SDK.
import { randomBytes } from 'node:crypto';
import { buildApp } from '../../src/api/app.js';
import { seedAdminKey } from '../../src/commands/serve.js';
import { openRuntime } from '../../src/runtime.js';

export interface Seeded {
  readonly adminKey: string;
  readonly projectId: string;
  readonly projectKey: string;
  readonly certificateIds: readonly string[];
}

/**
 * Makes a project with a service-account key, uploads the CA certificates and activates the first `activate` of them
 * organization-wide; with `filter`, sets that CEL filter on each activated certificate; with `crl`, stores that CRL on the first.
 */
export async function seedDataDir(dataDir: string, caPems: readonly string[], activate: number, filter?: string, crl?: string): Promise<Seeded> {
  const adminKey = `sk-admin-bench-${randomBytes(24).toString('base64url')}`;
  const rt = await openRuntime({ dataDir, databaseUrl: undefined });
  await seedAdminKey(rt, adminKey, () => undefined);
  const app = await buildApp({ rt, logger: false });
  try {
    const call = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => {
      const res = await app.inject({ method, url, headers: { authorization: `Bearer ${adminKey}` }, ...(payload ? { payload } : {}) });
      if (res.statusCode !== 200) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
      return res.json() as Record<string, any>;
    };
    const project = await call('POST', '/v1/organization/projects', { name: 'bench' });
    const account = await call('POST', `/v1/organization/projects/${project.id}/service_accounts`, { name: 'bench load generator' });
    const certificateIds: string[] = [];
    for (const [i, pem] of caPems.entries()) {
      certificateIds.push((await call('POST', '/v1/organization/certificates', { certificate: pem, name: `bench CA ${i + 1}` })).id);
    }
    for (let i = 0; i < activate; i += 10) {
      await call('POST', '/v1/organization/certificates/activate', { certificate_ids: certificateIds.slice(i, Math.min(activate, i + 10)) });
    }
    if (filter) for (const id of certificateIds.slice(0, activate)) await call('PUT', `/v1/organization/certificates/${id}/filter`, { expression: filter });
    if (crl) await call('PUT', `/v1/organization/certificates/${certificateIds[0]}/crl`, { crl });
    return { adminKey, projectId: project.id, projectKey: account.api_key.value, certificateIds };
  } finally {
    await app.close();
    await rt.close();
  }
}
