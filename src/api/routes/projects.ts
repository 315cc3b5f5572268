import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../runtime.js';
import { archiveProject, createProject, getProject, listProjects, updateProject } from '../../services/projects.js';
import { listSchema, pageQuery, pageRequest, projectObject, projectSchema, type PageQuery } from '../wire.js';

const params = { type: 'object', properties: { project_id: { type: 'string' } } } as const;

const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string' },
    external_key_id: { type: ['string', 'null'] },
    geography: { type: ['string', 'null'] },
    residency: { type: ['string', 'null'] },
  },
} as const;

const updateBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: ['string', 'null'] },
    external_key_id: { type: ['string', 'null'] },
    geography: { type: ['string', 'null'] },
  },
} as const;

const listQuery = {
  ...pageQuery,
  properties: { ...pageQuery.properties, include_archived: { type: 'boolean' } },
} as const;

type CreateBody = { name: string; external_key_id?: string | null };
type UpdateBody = { name?: string | null; external_key_id?: string | null };

export function projectRoutes(app: FastifyInstance, rt: Runtime): void {
  app.post<{ Body: CreateBody }>(
    '/v1/organization/projects',
    { config: { permission: 'api.management.write' }, schema: { body: createBody, response: { 200: projectSchema } } },
    async (req) => projectObject(await createProject(rt, req.admin, req.body)),
  );

  app.get<{ Querystring: PageQuery & { include_archived?: boolean } }>(
    '/v1/organization/projects',
    { config: { permission: 'api.management.read' }, schema: { querystring: listQuery, response: { 200: listSchema(projectSchema) } } },
    async (req) => {
      const page = await listProjects(rt, req.admin.organizationId, pageRequest(req.query, 'asc'), req.query.include_archived ?? false);
      return { object: 'list', ...page, data: page.data.map(projectObject) };
    },
  );

  app.get<{ Params: { project_id: string } }>(
    '/v1/organization/projects/:project_id',
    { config: { permission: 'api.management.read' }, schema: { params, response: { 200: projectSchema } } },
    async (req) => projectObject(await getProject(rt, req.admin.organizationId, req.params.project_id)),
  );

  app.post<{ Params: { project_id: string }; Body: UpdateBody | undefined }>(
    '/v1/organization/projects/:project_id',
    { config: { permission: 'api.management.write' }, schema: { params, body: updateBody, response: { 200: projectSchema } } },
    async (req) => projectObject(await updateProject(rt, req.admin, req.params.project_id, req.body ?? {})),
  );

  app.post<{ Params: { project_id: string } }>(
    '/v1/organization/projects/:project_id/archive',
    { config: { permission: 'api.management.write' }, schema: { params, response: { 200: projectSchema } } },
    async (req) => projectObject(await archiveProject(rt, req.admin, req.params.project_id)),
  );
}
