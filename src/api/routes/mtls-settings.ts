import type { FastifyInstance } from 'fastify';
import type { MtlsMode } from '../../domain/model.js';
import type { Runtime } from '../../runtime.js';
import { getSettings, setMode, type MtlsSettings } from '../../services/mtls-settings.js';

const settingsSchema = {
  type: 'object',
  properties: {
    object: { type: 'string' },
    mode: { type: 'string' },
    inherited: { type: 'boolean' },
    would_refuse: { type: 'integer' },
    admitted: { type: 'integer' },
    since: { type: ['integer', 'null'] },
  },
} as const;
const body = {
  type: 'object',
  additionalProperties: false,
  required: ['mode'],
  properties: { mode: { type: ['string', 'null'], enum: ['enforce', 'observe', null] } },
} as const;
const params = { type: 'object', properties: { project_id: { type: 'string', maxLength: 200 } } } as const;

function settingsObject(s: MtlsSettings) {
  return { object: 'mtls_settings', mode: s.mode, inherited: s.inherited, would_refuse: s.observations.wouldRefuse, admitted: s.observations.admitted, since: s.observations.since };
}

export function mtlsSettingsRoutes(app: FastifyInstance, rt: Runtime): void {
  app.get('/v1/organization/mtls_settings', { config: { permission: 'api.mtls.read' }, schema: { response: { 200: settingsSchema } } }, async (req) =>
    settingsObject(await getSettings(rt, req.admin.organizationId, null)),
  );
  app.post<{ Body: { mode: MtlsMode | null } }>('/v1/organization/mtls_settings', { config: { permission: 'api.mtls.write' }, schema: { body, response: { 200: settingsSchema } } }, async (req) =>
    settingsObject(await setMode(rt, req.admin, null, req.body.mode)),
  );
  app.get<{ Params: { project_id: string } }>('/v1/organization/projects/:project_id/mtls_settings', { config: { permission: 'api.mtls.read' }, schema: { params, response: { 200: settingsSchema } } }, async (req) =>
    settingsObject(await getSettings(rt, req.admin.organizationId, req.params.project_id)),
  );
  app.post<{ Params: { project_id: string }; Body: { mode: MtlsMode | null } }>(
    '/v1/organization/projects/:project_id/mtls_settings',
    { config: { permission: 'api.mtls.write' }, schema: { params, body, response: { 200: settingsSchema } } },
    async (req) => settingsObject(await setMode(rt, req.admin, req.params.project_id, req.body.mode)),
  );
}
