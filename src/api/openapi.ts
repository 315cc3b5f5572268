import type { FastifyInstance, RouteOptions } from 'fastify';
import { operations, type OperationInfo } from './operations.js';
import { errorResponse } from './wire.js';
import { packageVersion } from '../package.js';

// The OpenAPI 3.1 document of the admin API, made from the routes themselves: every route's JSON schemas
// (params, querystring, body, response), as Fastify validates and serializes with them, so the document
// cannot say something the server does not do. Summaries and operationIds come from ./operations.ts, or from
// the route's own `schema.summary` / `config.summary`.

/** What the document needs of one registered route. */
export interface RouteRecord {
  readonly method: string;
  /** Fastify's path syntax, /v1/things/:thing_id */
  readonly url: string;
  readonly schema: Record<string, unknown>;
  readonly config: Record<string, unknown>;
}

type Schema = Record<string, unknown>;

declare module 'fastify' {
  interface FastifySchema {
    /** leaves the route out of the API document (the web console's pages) */
    hide?: boolean;
  }
}

const SECURITY_SCHEME = 'AdminApiKeyAuth';
export const DOCUMENT_PATH = '/v1/openapi.json';

/** Every route registered on app (and on its plugins) from now on, HEAD routes Fastify adds for GETs aside. */
export function collectRoutes(app: FastifyInstance): RouteRecord[] {
  const routes: RouteRecord[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    // the web console's pages are not API: their routes say so with `schema.hide`, as fastify-swagger reads it
    if (route.schema?.hide) return;
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      routes.push({ method, url: route.url, schema: (route.schema ?? {}) as Schema, config: (route.config ?? {}) as Schema });
    }
  });
  return routes;
}

/** /v1/things/:thing_id → /v1/things/{thing_id} */
export function openapiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, '{$1}');
}

export function operationKey(method: string, url: string): string {
  return `${method.toUpperCase()} ${openapiPath(url)}`;
}

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function properties(schema: unknown): [string, Schema][] {
  const props = (schema as Schema | undefined)?.properties;
  return props && typeof props === 'object' ? Object.entries(props as Record<string, Schema>) : [];
}

function requiredOf(schema: unknown): string[] {
  const required = (schema as Schema | undefined)?.required;
  return Array.isArray(required) ? (required as string[]) : [];
}

function parameters(route: RouteRecord, path: string) {
  const out: Schema[] = [];
  const declared = new Map(properties(route.schema.params));
  for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
    out.push({ name, in: 'path', required: true, schema: copy(declared.get(name!) ?? { type: 'string' }) });
  }
  const query = route.schema.querystring;
  const required = requiredOf(query);
  for (const [name, schema] of properties(query)) {
    out.push({
      name,
      in: 'query',
      required: required.includes(name),
      schema: copy(schema),
      ...(schema.type === 'array' ? { style: 'form', explode: true } : {}),
    });
  }
  return out;
}

function responses(route: RouteRecord) {
  const out: Record<string, unknown> = {};
  const declared = (route.schema.response ?? {}) as Record<string, Schema>;
  for (const [status, schema] of Object.entries(declared)) {
    out[status.toUpperCase()] = { description: status.startsWith('2') ? 'OK' : 'See the schema', content: { 'application/json': { schema: copy(schema) } } };
  }
  if (!Object.keys(out).some((status) => status.startsWith('2'))) out['200'] = { description: 'OK' };
  out['4XX'] = { $ref: '#/components/responses/Error' };
  out['5XX'] = { $ref: '#/components/responses/Error' };
  return out;
}

function summaryOf(route: RouteRecord, info: OperationInfo | undefined): string | undefined {
  const own = route.schema.summary ?? route.config.summary;
  return typeof own === 'string' ? own : info?.summary;
}

/** Whether the route needs an admin key: everything under /v1 but this document, and what the table says. */
function needsKey(route: RouteRecord, info: OperationInfo | undefined): boolean {
  return info?.adminKey ?? route.url.startsWith('/v1/');
}

function operation(route: RouteRecord, path: string) {
  const key = operationKey(route.method, route.url);
  const info = operations[key];
  const summary = summaryOf(route, info);
  const description = route.schema.description;
  const ownTags = route.schema.tags;
  const permission = typeof route.config.permission === 'string' ? route.config.permission : undefined;
  const body = route.schema.body;
  return {
    operationId: info?.operationId ?? key.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase(),
    ...(summary ? { summary } : {}),
    ...(typeof description === 'string' ? { description } : {}),
    tags: Array.isArray(ownTags) ? ownTags : [info?.tag ?? 'Other'],
    parameters: parameters(route, path),
    ...(body
      ? { requestBody: { required: requiredOf(body).length > 0, content: { 'application/json': { schema: copy(body) } } } }
      : {}),
    responses: responses(route),
    security: needsKey(route, info) ? [{ [SECURITY_SCHEME]: permission ? [permission] : [] }] : [],
    ...(permission ? { 'x-certgate-permission': permission } : {}),
    ...(info?.extension ? { 'x-certgate-extension': true } : {}),
  };
}

export function openapiDocument(routes: readonly RouteRecord[], version = packageVersion()) {
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Set<string>();
  const sorted = [...routes].sort((a, b) => openapiPath(a.url).localeCompare(openapiPath(b.url)));
  for (const route of sorted) {
    const path = openapiPath(route.url);
    const op = operation(route, path);
    op.tags.forEach((tag: string) => tags.add(tag));
    (paths[path] ??= {})[route.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'certgate admin API',
      version,
      description:
        "OpenAI's organization Certificates admin API as certgate serves it, with projects, service accounts and certgate's extensions (marked x-certgate-extension). Made from the server's own route schemas.",
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    tags: [...tags].sort().map((name) => ({ name })),
    paths,
    components: {
      schemas: { ErrorResponse: copy(errorResponse) },
      responses: {
        Error: {
          description: "An error in OpenAI's envelope: {error: {message, type, param, code}}.",
          content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } },
        },
      },
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          description: 'An admin API key (sk-admin-…). A required permission is listed as the scope, and as x-certgate-permission.',
        },
      },
    },
  };
}

/**
 * Collects every route registered from now on and serves their document at GET /v1/openapi.json, which needs
 * no key. Call before registering the routes, outside the plugin that checks admin keys.
 */
export function describeApi(app: FastifyInstance): void {
  const routes = collectRoutes(app);
  let document: string | undefined;
  app.get(DOCUMENT_PATH, async (_req, reply) => {
    document ??= JSON.stringify(openapiDocument(routes));
    return reply.type('application/json; charset=utf-8').send(document);
  });
}
