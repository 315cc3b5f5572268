import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../runtime.js';
import { previewChange, type PreviewRequest } from '../../services/preview.js';

const body = {
  type: 'object',
  additionalProperties: false,
  required: ['action', 'certificate_ids'],
  properties: {
    action: { type: 'string', enum: ['activate', 'deactivate'] },
    certificate_ids: { type: 'array', items: { type: 'string' } },
    project_id: { type: ['string', 'null'], maxLength: 200 },
  },
} as const;

const previewSchema = {
  type: 'object',
  properties: {
    object: { type: 'string' },
    would_refuse: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          fingerprint: { type: ['string', 'null'] },
          subject: { type: ['string', 'null'] },
          project_id: { type: 'string' },
          service_account_id: { type: 'string' },
          last_seen_at: { type: 'integer' },
          requests: { type: 'integer' },
        },
      },
    },
    would_admit: { type: 'integer' },
    unjudged: { type: 'integer' },
  },
} as const;

/** "Who would this lock out?": a certgate extension, answered from the clients the gateways have seen. */
export function previewRoutes(app: FastifyInstance, rt: Runtime): void {
  app.post<{ Body: PreviewRequest }>('/v1/organization/certificates/preview', { config: { permission: 'api.mtls.read' }, schema: { body, response: { 200: previewSchema } } }, async (req) => {
    const { wouldRefuse, wouldAdmit, unjudged } = await previewChange(rt, req.admin.organizationId, req.body);
    return {
      object: 'certificate.preview',
      would_refuse: wouldRefuse.map((c) => ({
        fingerprint: c.fingerprint,
        subject: c.subject,
        project_id: c.projectId,
        service_account_id: c.serviceAccountId,
        last_seen_at: c.lastSeenAt,
        requests: c.requests,
      })),
      would_admit: wouldAdmit,
      unjudged,
    };
  });
}
