import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../runtime.js';
import { deleteCrl, getCrl, putCrl, type CertificateCrl } from '../../services/crls.js';

// certgate's extension for revocation: one CRL per anchor. This route alone takes bodies past the API's 64 KiB
// (a CRL of 10,000 serials is several hundred KiB); the CRL itself may be at most 1 MiB.

const path = '/v1/organization/certificates/:certificate_id/crl';
const params = { type: 'object', properties: { certificate_id: { type: 'string', maxLength: 200 } } } as const;
const putBody = { type: 'object', additionalProperties: false, required: ['crl'], properties: { crl: { type: 'string' } } } as const;
const crlSchema = {
  type: 'object',
  properties: {
    object: { type: 'string' },
    certificate_id: { type: 'string' },
    this_update: { type: ['integer', 'null'] },
    next_update: { type: ['integer', 'null'] },
    revoked_count: { type: 'integer' },
    updated_at: { type: ['integer', 'null'] },
  },
} as const;

function crlObject(c: CertificateCrl) {
  return {
    object: 'certificate.crl',
    certificate_id: c.certificateId,
    this_update: c.crl?.thisUpdate ?? null,
    next_update: c.crl?.nextUpdate ?? null,
    revoked_count: c.crl?.revokedCount ?? 0,
    updated_at: c.updatedAt,
  };
}

type Params = { certificate_id: string };

export function crlRoutes(app: FastifyInstance, rt: Runtime): void {
  app.get<{ Params: Params }>(path, { config: { permission: 'api.mtls.read' }, schema: { params, response: { 200: crlSchema } } }, async (req) =>
    crlObject(await getCrl(rt, req.admin.organizationId, req.params.certificate_id)),
  );
  app.put<{ Params: Params; Body: { crl: string } }>(path, { config: { permission: 'api.mtls.write' }, bodyLimit: 2 * 1024 * 1024, schema: { params, body: putBody, response: { 200: crlSchema } } }, async (req) =>
    crlObject(await putCrl(rt, req.admin, req.params.certificate_id, req.body.crl)),
  );
  app.delete<{ Params: Params }>(path, { config: { permission: 'api.mtls.write' }, schema: { params, response: { 200: crlSchema } } }, async (req) =>
    crlObject(await deleteCrl(rt, req.admin, req.params.certificate_id)),
  );
}
