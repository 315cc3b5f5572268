import type { CertificateRecord, ProjectRecord } from '../domain/model.js';
import { DEFAULT_LIMIT, MAX_LIMIT, type Order, type PageRequest } from '../domain/pagination.js';
import type { ScopedCertificate } from '../services/certificates.js';

// Wire shapes: the JSON schemas Fastify validates requests against and
// serializes responses from, and the functions that build those objects.
// Shapes follow OpenAI's OpenAPI spec and the official SDK's types.

const nullableString = { type: ['string', 'null'] } as const;

export const errorResponse = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { message: { type: 'string' }, type: { type: 'string' }, param: nullableString, code: nullableString },
    },
  },
} as const;

const certificateDetails = {
  type: 'object',
  properties: { valid_at: { type: 'integer' }, expires_at: { type: 'integer' }, content: { type: 'string' } },
} as const;

export const certificateSchema = {
  type: 'object',
  properties: {
    object: { type: 'string' },
    id: { type: 'string' },
    name: nullableString,
    active: { type: 'boolean' },
    created_at: { type: 'integer' },
    certificate_details: certificateDetails,
  },
} as const;

export function listSchema(item: object) {
  return {
    type: 'object',
    properties: {
      object: { type: 'string' },
      data: { type: 'array', items: item },
      first_id: nullableString,
      last_id: nullableString,
      has_more: { type: 'boolean' },
    },
  } as const;
}

export function togglesSchema(item: object) {
  return { type: 'object', properties: { object: { type: 'string' }, data: { type: 'array', items: item } } } as const;
}

export const projectSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    object: { type: 'string' },
    name: nullableString,
    created_at: { type: 'integer' },
    archived_at: { type: ['integer', 'null'] },
    status: { type: 'string' },
    external_key_id: nullableString,
  },
} as const;

/** Query of every cursor-paginated list. */
export const pageQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT },
    order: { type: 'string', enum: ['asc', 'desc'] },
    after: { type: 'string', maxLength: 200 },
  },
} as const;

export interface PageQuery {
  limit?: number;
  order?: Order;
  after?: string;
}

export function pageRequest(query: PageQuery, defaultOrder: Order = 'desc'): PageRequest {
  return { limit: query.limit ?? DEFAULT_LIMIT, order: query.order ?? defaultOrder, after: query.after || undefined };
}

export function certificateObject(c: CertificateRecord, includeContent = false) {
  return {
    object: 'certificate',
    id: c.id,
    name: c.name,
    created_at: c.createdAt,
    certificate_details: includeContent
      ? { valid_at: c.validAt, expires_at: c.expiresAt, content: c.content }
      : { valid_at: c.validAt, expires_at: c.expiresAt },
  };
}

export type ScopedObject = 'organization.certificate' | 'organization.project.certificate';

export function scopedCertificateObject(object: ScopedObject) {
  return ({ certificate: c, active }: ScopedCertificate) => ({
    object,
    id: c.id,
    name: c.name,
    active,
    created_at: c.createdAt,
    certificate_details: { valid_at: c.validAt, expires_at: c.expiresAt },
  });
}

export function projectObject(p: ProjectRecord) {
  return {
    id: p.id,
    object: 'organization.project',
    name: p.name,
    created_at: p.createdAt,
    archived_at: p.archivedAt,
    status: p.archivedAt === null ? 'active' : 'archived',
    external_key_id: p.externalKeyId,
  };
}
