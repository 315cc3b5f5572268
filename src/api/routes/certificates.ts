import type { FastifyInstance, FastifyReply } from 'fastify';
import { ORGANIZATION_SCOPE } from '../../domain/model.js';
import {
  deleteCertificate,
  getCertificate,
  certificatePage,
  renameCertificate,
  setActive,
  uploadCertificate,
  type UploadInput,
} from '../../services/certificates.js';
import type { Runtime } from '../../runtime.js';
import {
  certificateObject,
  certificateSchema,
  listSchema,
  pageQuery,
  pageRequest,
  scopedCertificateObject,
  togglesSchema,
  type PageQuery,
} from '../wire.js';

const idParams = { type: 'object', properties: { certificate_id: { type: 'string' } } } as const;
const projectParams = { type: 'object', properties: { project_id: { type: 'string' } } } as const;

const uploadBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    certificate: { type: 'string' },
    content: { type: 'string' },
    name: { type: ['string', 'null'] },
  },
} as const;

const renameBody = {
  type: 'object',
  additionalProperties: false,
  properties: { name: { type: ['string', 'null'] } },
} as const;

const toggleBody = {
  type: 'object',
  additionalProperties: false,
  required: ['certificate_ids'],
  properties: { certificate_ids: { type: 'array', items: { type: 'string' } } },
} as const;

const retrieveQuery = {
  type: 'object',
  properties: {
    include: { type: 'array', items: { type: 'string', enum: ['content'] } },
    'include[]': { type: 'array', items: { type: 'string', enum: ['content'] } },
  },
} as const;

const JSON_TYPE = 'application/json; charset=utf-8';
const orgItem = scopedCertificateObject('organization.certificate');
const projectItem = scopedCertificateObject('organization.project.certificate');

export function certificateRoutes(app: FastifyInstance, rt: Runtime): void {
  app.post<{ Body: UploadInput }>(
    '/v1/organization/certificates',
    { config: { permission: 'api.mtls.write' }, schema: { body: uploadBody, response: { 200: certificateSchema } } },
    async (req) => certificateObject(await uploadCertificate(rt, req.admin, req.body)),
  );

  /** A list page as JSON text, remembered for as long as the snapshot it was read from is current. */
  async function listText(reply: FastifyReply, organizationId: string, scope: string, query: PageQuery, item: typeof orgItem): Promise<string> {
    const request = pageRequest(query);
    const key = `certificates|${scope}|${request.limit}|${request.order}|${request.after ?? ''}`;
    return rt.memo(organizationId, key, (snapshot) => {
      const page = certificatePage(snapshot, scope, request);
      return reply.serialize({ object: 'list', ...page, data: page.data.map(item) }) as string;
    });
  }

  app.get<{ Querystring: PageQuery }>(
    '/v1/organization/certificates',
    { config: { permission: 'api.mtls.read' }, schema: { querystring: pageQuery, response: { 200: listSchema(certificateSchema) } } },
    async (req, reply) =>
      reply.type(JSON_TYPE).send(await listText(reply, req.admin.organizationId, ORGANIZATION_SCOPE, req.query, orgItem)),
  );

  app.get<{ Params: { certificate_id: string }; Querystring: { include?: string[]; 'include[]'?: string[] } }>(
    '/v1/organization/certificates/:certificate_id',
    { config: { permission: 'api.mtls.read' }, schema: { params: idParams, querystring: retrieveQuery, response: { 200: certificateSchema } } },
    async (req) => {
      const include = [...(req.query.include ?? []), ...(req.query['include[]'] ?? [])];
      const found = await getCertificate(rt, req.admin.organizationId, req.params.certificate_id);
      return certificateObject(found, include.includes('content'));
    },
  );

  app.post<{ Params: { certificate_id: string }; Body: { name?: string | null } | undefined }>(
    '/v1/organization/certificates/:certificate_id',
    { config: { permission: 'api.mtls.write' }, schema: { params: idParams, body: renameBody, response: { 200: certificateSchema } } },
    async (req) =>
      certificateObject(await renameCertificate(rt, req.admin, req.params.certificate_id, req.body?.name)),
  );

  app.delete<{ Params: { certificate_id: string } }>(
    '/v1/organization/certificates/:certificate_id',
    { config: { permission: 'api.mtls.write' }, schema: { params: idParams } },
    async (req) => {
      await deleteCertificate(rt, req.admin, req.params.certificate_id);
      return { id: req.params.certificate_id, object: 'certificate.deleted' };
    },
  );

  for (const [verb, active] of [['activate', true], ['deactivate', false]] as const) {
    const noun = active ? 'activation' : 'deactivation';
    app.post<{ Body: { certificate_ids: string[] } }>(
      `/v1/organization/certificates/${verb}`,
      { config: { permission: 'api.mtls.write' }, schema: { body: toggleBody, response: { 200: togglesSchema(certificateSchema) } } },
      async (req) => {
        const items = await setActive(rt, req.admin, ORGANIZATION_SCOPE, req.body.certificate_ids, active);
        return { object: `organization.certificate.${noun}`, data: items.map(orgItem) };
      },
    );
    app.post<{ Params: { project_id: string }; Body: { certificate_ids: string[] } }>(
      `/v1/organization/projects/:project_id/certificates/${verb}`,
      { config: { permission: 'api.mtls.write' }, schema: { params: projectParams, body: toggleBody, response: { 200: togglesSchema(certificateSchema) } } },
      async (req) => {
        const items = await setActive(rt, req.admin, req.params.project_id, req.body.certificate_ids, active);
        return { object: `organization.project.certificate.${noun}`, data: items.map(projectItem) };
      },
    );
  }

  app.get<{ Params: { project_id: string }; Querystring: PageQuery }>(
    '/v1/organization/projects/:project_id/certificates',
    { config: { permission: 'api.mtls.read' }, schema: { params: projectParams, querystring: pageQuery, response: { 200: listSchema(certificateSchema) } } },
    async (req, reply) =>
      reply.type(JSON_TYPE).send(await listText(reply, req.admin.organizationId, req.params.project_id, req.query, projectItem)),
  );
}

