import type { FastifyInstance } from 'fastify';
import { PERMISSIONS, type AdminKeyRecord } from '../../domain/model.js';
import type { Runtime } from '../../runtime.js';
import { createAdminKey, deleteAdminKey, getAdminKey, listAdminKeys } from '../../services/admin-keys.js';
import { listSchema, pageQuery, pageRequest, type PageQuery } from '../wire.js';

// OpenAI's admin API keys (client.admin.organization.adminAPIKeys), with
// certgate's `permissions` on create and on every key object.

const params = { type: 'object', properties: { key_id: { type: 'string' } } } as const;

const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string' },
    expires_in_seconds: { type: 'integer' },
    permissions: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 100 } },
  },
} as const;

const keySchema = {
  type: 'object',
  properties: {
    object: { type: 'string' },
    id: { type: 'string' },
    name: { type: ['string', 'null'] },
    redacted_value: { type: 'string' },
    value: { type: 'string' },
    created_at: { type: 'integer' },
    expires_at: { type: ['integer', 'null'] },
    last_used_at: { type: ['integer', 'null'] },
    owner: {
      type: 'object',
      properties: { type: { type: 'string' }, object: { type: 'string' }, id: { type: 'string' }, name: { type: 'string' }, created_at: { type: 'integer' }, role: { type: 'string' } },
    },
    permissions: { type: 'array', items: { type: 'string' } },
  },
} as const;

const deletedSchema = { type: 'object', properties: { id: { type: 'string' }, object: { type: 'string' }, deleted: { type: 'boolean' } } } as const;

function keyObject(k: AdminKeyRecord) {
  return {
    object: 'organization.admin_api_key',
    id: k.id,
    name: k.name,
    redacted_value: k.redactedValue,
    created_at: k.createdAt,
    expires_at: k.expiresAt,
    last_used_at: k.lastUsedAt,
    // certgate has no users: every key belongs to the organization's one operator
    owner: { type: 'user', object: 'organization.user', id: 'user-certgate', name: 'certgate operator', created_at: k.createdAt, role: k.permissions === null ? 'owner' : 'reader' },
    permissions: k.permissions ?? [...PERMISSIONS],
  };
}

type CreateBody = { name: string; expires_in_seconds?: number; permissions?: string[] };

export function adminKeyRoutes(app: FastifyInstance, rt: Runtime): void {
  const read = { permission: 'api.management.read' } as const;
  const write = { permission: 'api.management.write' } as const;

  app.get<{ Querystring: PageQuery }>(
    '/v1/organization/admin_api_keys',
    { config: read, schema: { querystring: pageQuery, response: { 200: listSchema(keySchema) } } },
    async (req) => {
      const page = await listAdminKeys(rt, req.admin.organizationId, pageRequest(req.query, 'asc'));
      return { object: 'list', ...page, data: page.data.map(keyObject) };
    },
  );

  app.post<{ Body: CreateBody }>(
    '/v1/organization/admin_api_keys',
    { config: write, schema: { body: createBody, response: { 200: keySchema } } },
    async (req) => {
      const { record, value } = await createAdminKey(rt, req.admin, {
        name: req.body.name,
        expiresInSeconds: req.body.expires_in_seconds,
        permissions: req.body.permissions,
      });
      return { ...keyObject(record), value };
    },
  );

  app.get<{ Params: { key_id: string } }>(
    '/v1/organization/admin_api_keys/:key_id',
    { config: read, schema: { params, response: { 200: keySchema } } },
    async (req) => keyObject(await getAdminKey(rt, req.admin.organizationId, req.params.key_id)),
  );

  app.delete<{ Params: { key_id: string } }>(
    '/v1/organization/admin_api_keys/:key_id',
    { config: write, schema: { params, response: { 200: deletedSchema } } },
    async (req) => {
      await deleteAdminKey(rt, req.admin, req.params.key_id);
      return { id: req.params.key_id, object: 'organization.admin_api_key.deleted', deleted: true };
    },
  );
}
