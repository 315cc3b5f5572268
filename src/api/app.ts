import { createServer } from 'node:http';
import { Ajv } from 'ajv';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ApiError } from '../domain/errors.js';
import { answerClientError, capConnections, DEFAULT_LIMITS, serverOptions, type ConnectionLimits } from '../http/connections.js';
import { newRequestId } from '../http/request-id.js';
import type { Runtime } from '../runtime.js';
import { requireAdminKey, requirePermissionOnEveryRoute } from './auth.js';
import { adminKeyRoutes } from './routes/admin-keys.js';
import { auditLogRoutes } from './routes/audit-logs.js';
import { handleError } from './errors.js';
import { describeApi } from './openapi.js';
import { certificateRoutes } from './routes/certificates.js';
import { projectRoutes } from './routes/projects.js';
import { serviceAccountRoutes } from './routes/service-accounts.js';
import { verifyRoutes } from './routes/verify.js';
import { filterRoutes } from './routes/filters.js';
import { crlRoutes } from './routes/crls.js';
import { mtlsSettingsRoutes } from './routes/mtls-settings.js';
import { previewRoutes } from './routes/preview.js';
import { consoleRoutes } from './routes/console.js';
import { errorResponse } from './wire.js';
import { metricsRoutes } from '../metrics/admin-api.js';

export interface AppDeps {
  readonly rt: Runtime;
  /** pino logger options, or false for none (tests) */
  readonly logger?: boolean | object | FastifyBaseLogger;
  readonly limits?: ConnectionLimits;
}

/** What a request line may say in the log: never its query string (a key or token put there must not land in a log). */
function requestForLog(req: FastifyRequest) {
  return { method: req.method, path: req.url.split('?')[0], remoteAddress: req.ip };
}

/** Errors Fastify raises before a route runs, in OpenAI's envelope. */
const FRAMEWORK_ERRORS: Record<string, () => ApiError> = {
  FST_ERR_BAD_URL: () => new ApiError('bad_request', 'The URL could not be decoded: send it percent-encoded as UTF-8.'),
  FST_ERR_MAX_PARAM_LENGTH: () => new ApiError('uri_too_long', 'A path parameter is too long (at most 1,024 characters).'),
};

// Ids are at most a few dozen characters: anything up to this reaches the route and is a clean 404.
const MAX_PARAM_LENGTH = 1024;

/** Certificates carry at most 16 KiB of PEM; JSON escaping and a name fit well within this. */
export const BODY_LIMIT = 64 * 1024;

// Bodies are validated as sent (no type coercion, unknown fields refused);
// query strings are text, so their numbers and booleans are coerced.
const bodyAjv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: false, removeAdditional: false, strict: false });
const queryAjv = new Ajv({ allErrors: false, coerceTypes: 'array', useDefaults: true, removeAdditional: false, strict: false });

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const logger = deps.logger && typeof deps.logger === 'object' && !('child' in deps.logger) ? { ...deps.logger, serializers: { req: requestForLog } } : (deps.logger ?? false);
  const app = Fastify({
    logger,
    bodyLimit: BODY_LIMIT,
    genReqId: newRequestId,
    requestIdHeader: false,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    serverFactory: (handler) => {
      const server = createServer(serverOptions(limits), handler);
      capConnections(server, limits.maxConnections);
      return server;
    },
    clientErrorHandler: answerClientError,
    frameworkErrors: (err, _req, reply) => {
      const known = FRAMEWORK_ERRORS[err.code]?.() ?? new ApiError('bad_request', 'The request could not be processed as sent.');
      void (reply as unknown as FastifyReply).status(known.status).send(known.toBody());
    },
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
  // GET /v1/openapi.json, made from every route registered below it; outside the /v1 plugin, so no key is needed
  describeApi(app);
  metricsRoutes(app, deps.rt);

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (deps.rt.store.ready()) return { status: 'ready' };
    const err = new ApiError('not_ready', 'The database connection is down; certgate is reconnecting.');
    return reply.status(err.status).send(err.toBody());
  });

  consoleRoutes(app);
  await app.register(async (v1) => {
    requirePermissionOnEveryRoute(v1);
    v1.addHook('onRequest', requireAdminKey(deps.rt.keys, deps.rt.nowSeconds));
    certificateRoutes(v1, deps.rt);
    filterRoutes(v1, deps.rt);
    crlRoutes(v1, deps.rt);
    mtlsSettingsRoutes(v1, deps.rt);
    previewRoutes(v1, deps.rt);
    projectRoutes(v1, deps.rt);
    serviceAccountRoutes(v1, deps.rt);
    verifyRoutes(v1, deps.rt);
    adminKeyRoutes(v1, deps.rt);
    auditLogRoutes(v1, deps.rt);
  });
  return app;
}
