import { randomBytes } from 'node:crypto';
import { Ajv } from 'ajv';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ApiError } from '../domain/errors.js';
import type { Core } from '../service/core.js';
import { KeyResolver } from '../service/keys.js';
import { requireAdminKey } from './auth.js';
import { handleError } from './errors.js';
import { certificateRoutes } from './routes/certificates.js';
import { projectRoutes } from './routes/projects.js';
import { serviceAccountRoutes } from './routes/service-accounts.js';
import { verifyRoutes } from './routes/verify.js';
import { errorResponse } from './wire.js';

export interface AppDeps {
  readonly core: Core;
  /** pino logger options, or false for none (tests) */
  readonly logger?: boolean | object | FastifyBaseLogger;
}

/** Certificates carry at most 16 KiB of PEM; JSON escaping and a name fit well within this. */
export const BODY_LIMIT = 64 * 1024;

// Request ids are drawn from a pooled random buffer: one system call per 512 ids, not one per request.
const ID_BYTES = 12;
const ID_POOL = ID_BYTES * 512;
let idPool = randomBytes(ID_POOL);
let idOffset = 0;

export function newRequestId(): string {
  if (idOffset === ID_POOL) {
    idPool = randomBytes(ID_POOL);
    idOffset = 0;
  }
  const id = idPool.toString('hex', idOffset, idOffset + ID_BYTES);
  idOffset += ID_BYTES;
  return `req_${id}`;
}

// Bodies are validated as sent (no type coercion, unknown fields refused);
// query strings are text, so their numbers and booleans are coerced.
const bodyAjv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: false, removeAdditional: false, strict: false });
const queryAjv = new Ajv({ allErrors: false, coerceTypes: 'array', useDefaults: true, removeAdditional: false, strict: false });

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: BODY_LIMIT,
    genReqId: newRequestId,
    requestIdHeader: false,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
  }) as unknown as FastifyInstance;

  // JSON only: any other body type is a 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema));
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0];
    const err = new ApiError('unknown_url', `Invalid URL (${req.method} ${path}).`);
    void reply.status(err.status).send(err.toBody());
  });
  // Callback-style hooks: on the hot path they cost no promise when nothing waits.
  app.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    done();
  });
  app.addSchema({ $id: 'error', ...errorResponse });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (deps.core.store.ready()) return { status: 'ready' };
    const err = new ApiError('not_ready', 'The database connection is down; certgate is reconnecting.');
    return reply.status(err.status).send(err.toBody());
  });

  const keys = new KeyResolver(deps.core.store, deps.core.snapshots);
  await app.register(async (v1) => {
    v1.addHook('onRequest', requireAdminKey(keys));
    certificateRoutes(v1, deps.core);
    projectRoutes(v1, deps.core);
    serviceAccountRoutes(v1, deps.core);
    verifyRoutes(v1, deps.core);
  });
  return app;
}
