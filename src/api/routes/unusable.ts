import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../runtime.js';
import { unusableCertificates } from '../../services/unusable-anchors.js';

const unusableSchema = {
  type: 'object',
  properties: {
    object: { type: 'string' },
    data: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          object: { type: 'string' },
          id: { type: 'string' },
          name: { type: ['string', 'null'] },
          problem: { type: 'string' },
          active_in: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
} as const;

/**
 * Which stored certificates this version of certgate cannot read, and why: a certgate extension (OpenAI's
 * certificate object has no field for it), which the console reads to mark them.
 */
export function unusableRoutes(app: FastifyInstance, rt: Runtime): void {
  app.get('/v1/organization/certificates/unusable', { config: { permission: 'api.mtls.read' }, schema: { response: { 200: unusableSchema } } }, async (req) => ({
    object: 'list',
    data: unusableCertificates(rt, await rt.snapshot(req.admin.organizationId)).map((c) => ({
      object: 'certificate.unusable',
      id: c.id,
      name: c.name,
      problem: c.problem,
      active_in: c.activeIn,
    })),
  }));
}
