import type { FastifyInstance } from 'fastify';
import type { Verdict } from '../../domain/verify.js';
import type { Core } from '../../service/core.js';
import { chainFromPem, decide } from '../../service/verify.js';

const body = {
  type: 'object',
  additionalProperties: false,
  required: ['certificate'],
  properties: { certificate: { type: 'string' }, project_id: { type: ['string', 'null'] } },
} as const;

const verdictSchema = {
  type: 'object',
  properties: {
    object: { type: 'string' },
    accepted: { type: 'boolean' },
    required: { type: 'boolean' },
    scope: { type: ['string', 'null'] },
    certificate_id: { type: ['string', 'null'] },
    checks: {
      type: 'array',
      items: { type: 'object', properties: { name: { type: 'string' }, passed: { type: 'boolean' }, message: { type: 'string' } } },
    },
  },
} as const;

export function verdictObject(v: Verdict) {
  return { object: 'certificate.verification', accepted: v.accepted, required: v.required, scope: v.scope, certificate_id: v.certificateId, checks: v.checks };
}

/** "Test this certificate": the gateway's decision for a chain, with every check, before any rollout. */
export function verifyRoutes(app: FastifyInstance, core: Core): void {
  app.post<{ Body: { certificate: string; project_id?: string | null } }>(
    '/v1/organization/certificates/verify',
    { schema: { body, response: { 200: verdictSchema } } },
    async (req) => {
      const chain = chainFromPem(req.body.certificate);
      const verdict = await decide(core, { organizationId: req.admin.organizationId, projectId: req.body.project_id ?? null }, chain);
      return verdictObject(verdict);
    },
  );
}
