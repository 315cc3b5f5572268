import type { FastifyInstance } from 'fastify';
import type { ServiceAccountRecord } from '../../domain/model.js';
import type { Runtime } from '../../runtime.js';
import { createServiceAccount, deleteServiceAccount, getServiceAccount, listServiceAccounts, updateServiceAccount } from '../../services/service-accounts.js';
import { listSchema, pageQuery, pageRequest, type PageQuery } from '../wire.js';

const base = '/v1/organization/projects/:project_id/service_accounts';
const projectParams = { type: 'object', properties: { project_id: { type: 'string' } } } as const;
const accountParams = { type: 'object', properties: { project_id: { type: 'string' }, service_account_id: { type: 'string' } } } as const;

const accountSchema = {
  type: 'object',
  properties: { object: { type: 'string' }, id: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, created_at: { type: 'integer' } },
} as const;

const createdSchema = {
  type: 'object',
  properties: {
    ...accountSchema.properties,
    api_key: {
      type: ['object', 'null'],
      properties: { object: { type: 'string' }, value: { type: 'string' }, name: { type: 'string' }, created_at: { type: 'integer' }, id: { type: 'string' } },
    },
  },
} as const;

const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string' }, create_service_account_only: { type: ['boolean', 'null'] } },
} as const;

const updateBody = {
  type: 'object',
  additionalProperties: false,
  properties: { name: { type: 'string' }, role: { type: 'string', enum: ['member', 'owner'] } },
} as const;

function accountObject(a: ServiceAccountRecord) {
  return { object: 'organization.project.service_account', id: a.id, name: a.name, role: a.role, created_at: a.createdAt };
}

type AccountParams = { project_id: string; service_account_id: string };

export function serviceAccountRoutes(app: FastifyInstance, rt: Runtime): void {
  app.post<{ Params: { project_id: string }; Body: { name: string; create_service_account_only?: boolean | null } }>(
    base,
    { config: { permission: 'api.management.write' }, schema: { params: projectParams, body: createBody, response: { 200: createdSchema } } },
    async (req) => {
      const { account, apiKey } = await createServiceAccount(rt, req.admin, req.params.project_id, req.body);
      return {
        ...accountObject(account),
        api_key: apiKey && {
          object: 'organization.project.service_account.api_key',
          value: apiKey.value,
          name: 'Secret Key',
          created_at: account.createdAt,
          id: apiKey.id,
        },
      };
    },
  );

  app.get<{ Params: { project_id: string }; Querystring: PageQuery }>(
    base,
    { config: { permission: 'api.management.read' }, schema: { params: projectParams, querystring: pageQuery, response: { 200: listSchema(accountSchema) } } },
    async (req) => {
      const page = await listServiceAccounts(rt, req.admin.organizationId, req.params.project_id, pageRequest(req.query, 'asc'));
      return { object: 'list', ...page, data: page.data.map(accountObject) };
    },
  );

  app.get<{ Params: AccountParams }>(
    `${base}/:service_account_id`,
    { config: { permission: 'api.management.read' }, schema: { params: accountParams, response: { 200: accountSchema } } },
    async (req) => accountObject(await getServiceAccount(rt, req.admin.organizationId, req.params.project_id, req.params.service_account_id)),
  );

  app.post<{ Params: AccountParams; Body: { name?: string; role?: 'member' | 'owner' } | undefined }>(
    `${base}/:service_account_id`,
    { config: { permission: 'api.management.write' }, schema: { params: accountParams, body: updateBody, response: { 200: accountSchema } } },
    async (req) =>
      accountObject(await updateServiceAccount(rt, req.admin, req.params.project_id, req.params.service_account_id, req.body ?? {})),
  );

  app.delete<{ Params: AccountParams }>(`${base}/:service_account_id`, { config: { permission: 'api.management.write' }, schema: { params: accountParams } }, async (req) => {
    await deleteServiceAccount(rt, req.admin, req.params.project_id, req.params.service_account_id);
    return { object: 'organization.project.service_account.deleted', id: req.params.service_account_id, deleted: true };
  });
}
