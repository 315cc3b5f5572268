import { Ajv } from 'ajv';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ApiError } from '../domain/errors.js';
import { newRequestId } from '../http/request-id.js';
import type { Runtime } from '../runtime.js';
import { requireAdminKey } from './auth.js';
import { handleError } from './errors.js';
import { certificateRoutes } from './routes/certificates.js';
import { projectRoutes } from './routes/projects.js';
import { serviceAccountRoutes } from './routes/service-accounts.js';
import { verifyRoutes } from './routes/verify.js';
import { filterRoutes } from './routes/filters.js';
import { errorResponse } from './wire.js';

export interface AppDeps {
  readonly rt: Runtime;
  /** pino logger options, or false for none (tests) */
  readonly logger?: boolean | object | FastifyBaseLogger;
}

/** Certificates carry at most 16 KiB of PEM; JSON escaping and a name fit well within this. */
export const BODY_LIMIT = 64 * 1024;

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
    if (deps.rt.store.ready()) return { status: 'ready' };
    const err = new ApiError('not_ready', 'The database connection is down; certgate is reconnecting.');
    return reply.status(err.status).send(err.toBody());
  });

  await app.register(async (v1) => {
    v1.addHook('onRequest', requireAdminKey(deps.rt.keys));
    certificateRoutes(v1, deps.rt);
    filterRoutes(v1, deps.rt);
    projectRoutes(v1, deps.rt);
    serviceAccountRoutes(v1, deps.rt);
    verifyRoutes(v1, deps.rt);
  });
  return app;
}
