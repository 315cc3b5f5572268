import type { FastifyInstance } from 'fastify';
import type { Verdict } from '../../domain/checks/client.js';
import { certificatesFromPem } from '../../domain/x509/pem.js';
import type { Runtime } from '../../runtime.js';
import { admitInScope, verdictOf } from '../../services/admission.js';

const body = {
  type: 'object',
  additionalProperties: false,
  required: ['certificate'],
  properties: { certificate: { type: 'string', maxLength: 64 * 1024 }, project_id: { type: ['string', 'null'], maxLength: 200 } },
} as const;

const nullableString = { type: ['string', 'null'] } as const;

const verdictSchema = {
  type: 'object',
  properties: {
    object: { type: 'string' },
    accepted: { type: 'boolean' },
    required: { type: 'boolean' },
    scope: nullableString,
    certificate_id: nullableString,
    refusal: {
      type: ['object', 'null'],
      properties: { code: { type: 'string' }, reason: { type: 'string' }, message: { type: 'string' } },
    },
    checks: {
      type: 'array',
      items: { type: 'object', properties: { name: { type: 'string' }, passed: { type: 'boolean' }, message: { type: 'string' } } },
    },
  },
} as const;

export function verdictObject(v: Verdict) {
  return {
    object: 'certificate.verification',
    accepted: v.accepted,
    required: v.required,
    scope: v.scope,
    certificate_id: v.certificateId,
    refusal: v.refusal,
    checks: v.checks,
  };
}

/** "Test this certificate": the gateway's own admission decision for a chain, with every check it ran. */
export function verifyRoutes(app: FastifyInstance, rt: Runtime): void {
  app.post<{ Body: { certificate: string; project_id?: string | null } }>(
    '/v1/organization/certificates/verify',
    { config: { permission: 'api.mtls.read' }, schema: { body, response: { 200: verdictSchema } } },
    async (req) => {
      const chain = certificatesFromPem(req.body.certificate);
      const admission = await admitInScope(rt, { organizationId: req.admin.organizationId, projectId: req.body.project_id ?? null }, { chain: () => chain });
      return verdictObject(verdictOf(admission));
    },
  );
}
