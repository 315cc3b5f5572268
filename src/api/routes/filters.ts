import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../runtime.js';
import { getFilter, setFilter, type CertificateFilter } from '../../services/filters.js';

// certgate's extension for OpenAI's per-anchor CEL filter. The certificate
// objects stay exactly as OpenAI's SDK types them; the filter lives here.

const path = '/v1/organization/certificates/:certificate_id/filter';
const params = { type: 'object', properties: { certificate_id: { type: 'string', maxLength: 200 } } } as const;

const putBody = {
  type: 'object',
  additionalProperties: false,
  required: ['expression'],
  properties: { expression: { type: 'string' } },
} as const;

const filterSchema = {
  type: 'object',
  properties: {
    object: { type: 'string' },
    certificate_id: { type: 'string' },
    expression: { type: ['string', 'null'] },
    updated_at: { type: ['integer', 'null'] },
  },
} as const;

function filterObject(f: CertificateFilter) {
  return { object: 'certificate.filter', certificate_id: f.certificateId, expression: f.expression, updated_at: f.updatedAt };
}

type Params = { certificate_id: string };

export function filterRoutes(app: FastifyInstance, rt: Runtime): void {
  app.get<{ Params: Params }>(path, { config: { permission: 'api.mtls.read' }, schema: { params, response: { 200: filterSchema } } }, async (req) =>
    filterObject(await getFilter(rt, req.admin.organizationId, req.params.certificate_id)),
  );

  app.put<{ Params: Params; Body: { expression: string } }>(path, { config: { permission: 'api.mtls.write' }, schema: { params, body: putBody, response: { 200: filterSchema } } }, async (req) =>
    filterObject(await setFilter(rt, req.admin, req.params.certificate_id, req.body.expression)),
  );

  app.delete<{ Params: Params }>(path, { config: { permission: 'api.mtls.write' }, schema: { params, response: { 200: filterSchema } } }, async (req) =>
    filterObject(await setFilter(rt, req.admin, req.params.certificate_id, null)),
  );
}
