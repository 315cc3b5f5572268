import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { createRequire } from 'node:module';
import type { Ajv, ValidateFunction } from 'ajv';
import Fastify, { type FastifyServerOptions, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
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
import { unusableRoutes } from './routes/unusable.js';
import { consoleRoutes } from './routes/console.js';
import { errorResponse } from './wire.js';
import { metricsRoutes } from '../metrics/admin-api.js';
import { FAILED_KEY_LIMITS, FailedKeyThrottle } from '../state/failed-keys.js';

const require = createRequire(import.meta.url);

export interface AppDeps {
  readonly rt: Runtime;
  /** pino logger options, or false for none (tests) */
  readonly logger?: boolean | object | FastifyBaseLogger;
  readonly limits?: ConnectionLimits;
  /** HTTPS with this certificate and key (PEM); plain HTTP without */
  readonly tls?: { readonly cert: string; readonly key: string };
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
let bodyAjv: Ajv | undefined;
let queryAjv: Ajv | undefined;
const ajvFor = (httpPart: string | undefined): Ajv => {
  const { Ajv } = require('ajv') as typeof import('ajv');
  return httpPart === 'body'
    ? (bodyAjv ??= new Ajv({ allErrors: false, coerceTypes: false, useDefaults: false, removeAdditional: false, strict: false }))
    : (queryAjv ??= new Ajv({ allErrors: false, coerceTypes: 'array', useDefaults: true, removeAdditional: false, strict: false }));
};

// Schemas are compiled when a route is first called, not when the server starts: compiling every route's
// validator (Ajv) and response serializer (fast-json-stringify) up front, and loading both, was most of `serve`'s
// start-up (some 0.3 CPU-s). The functions are the same ones, made later; compileAllSchemas() makes them all now.

/** Per app, the schemas not compiled yet. */
const uncompiled = new WeakMap<FastifyInstance, Set<() => unknown>>();

/** A function made by `make` on its first call. */
function onFirstUse<F extends (...args: never[]) => unknown>(make: () => F, pending: Set<() => unknown>): { made: () => F } {
  let fn: F | undefined;
  const made = () => {
    if (!fn) {
      fn = make();
      pending.delete(made);
    }
    return fn;
  };
  pending.add(made);
  return { made };
}

/**
 * A route's validator. Fastify sees it as the Ajv function it is: it passes the parent data (`schemaEnv`), so
 * coercion and defaults work on the root value, and reads `errors` after a call.
 */
function validatorOnFirstUse(schema: object, httpPart: string | undefined, pending: Set<() => unknown>): ValidateFunction {
  const { made } = onFirstUse(() => ajvFor(httpPart).compile(schema), pending);
  const validate = function (this: unknown, data: unknown, context?: Parameters<ValidateFunction>[1]) {
    const check = made();
    const ok = check.call(this, data, context);
    validate.errors = check.errors;
    return ok;
  } as ValidateFunction;
  Object.defineProperty(validate, 'schemaEnv', { get: () => made().schemaEnv });
  return validate;
}

type SerializerFactory = (externalSchemas: unknown, options: unknown) => (route: { schema: object }) => (data: unknown) => string;

/** Fastify's own response serializer compiler (fast-json-stringify), the very copy Fastify would load. */
const fastifySerializers = (): SerializerFactory => createRequire(require.resolve('fastify'))('@fastify/fast-json-stringify-compiler')() as SerializerFactory;

/** Compiles every route schema of the app not compiled yet, as the server once did at start: a test's way to see each compiles. */
export function compileAllSchemas(app: FastifyInstance): number {
  const all = [...(uncompiled.get(app) ?? [])];
  for (const compile of all) compile();
  return all.length;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const logger = deps.logger && typeof deps.logger === 'object' && !('child' in deps.logger) ? { ...deps.logger, serializers: { req: requestForLog } } : (deps.logger ?? false);
  const pending = new Set<() => unknown>();
  const app = Fastify({
    // the types name @fastify/ajv-compiler's factory; Fastify calls any that returns a route's validator
    schemaController: {
      compilersFactory: {
        buildValidator: () => ({ schema, httpPart }: { schema: object; httpPart?: string }) => validatorOnFirstUse(schema, httpPart, pending),
        buildSerializer: (externalSchemas: unknown, options: unknown) => (route: { schema: object }) => {
          const { made } = onFirstUse(() => fastifySerializers()(externalSchemas, options)(route), pending);
          return (data: unknown) => made()(data);
        },
      } as unknown as NonNullable<FastifyServerOptions['schemaController']>['compilersFactory'],
    },
    logger,
    bodyLimit: BODY_LIMIT,
    genReqId: newRequestId,
    requestIdHeader: false,
    // a request that arrives while the server drains is answered below, in the envelope, not with Fastify's own body
    return503OnClosing: false,
    // the server is made below; this only tells Fastify's log to say https:// when it is HTTPS
    ...(deps.tls ? { https: true as unknown as null } : {}),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    serverFactory: (handler) => {
      const tls = deps.tls;
      const server = tls
        ? createTlsServer({ ...serverOptions(limits), cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2', handshakeTimeout: limits.handshakeTimeoutMs }, handler)
        : createServer(serverOptions(limits), handler);
      capConnections(server, limits.maxConnections);
      // a client that cannot finish its handshake (in time, or at all) is dropped, as at the gateway
      if (tls) server.on('tlsClientError', (_err, socket) => socket.destroy());
      return server as ReturnType<typeof createServer>;
    },
    clientErrorHandler: answerClientError,
    frameworkErrors: (err, _req, reply) => {
      const known = FRAMEWORK_ERRORS[err.code]?.() ?? new ApiError('bad_request', 'The request could not be processed as sent.');
      void (reply as unknown as FastifyReply).status(known.status).send(known.toBody());
    },
  }) as unknown as FastifyInstance;

  // JSON only: any other body type is a 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain');
  // A JSON content type with nothing after it is no body, as OpenAI takes it: the official Python SDK sends
  // `content-type: application/json` on every DELETE and on body-less POSTs. Anything else is Fastify's own parser.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body: string, done) => {
    if (body.length === 0) done(null, undefined);
    else void parseJson(req, body, done);
  });
  uncompiled.set(app, pending);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0];
    const err = new ApiError('unknown_url', `Invalid URL (${req.method} ${path}).`);
    void reply.status(err.status).send(err.toBody());
  });
  let draining = false;
  app.addHook('preClose', (done) => {
    draining = true;
    done();
  });
  // Callback-style hooks: on the hot path they cost no promise when nothing waits.
  app.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    if (!draining) return done();
    // what Fastify does while closing (503, and the connection closed so the client goes elsewhere), in the envelope
    const err = new ApiError('shutting_down', 'The server is shutting down; retry the request (another worker or replica will answer it).');
    void reply.header('connection', 'close').status(err.status).send(err.toBody());
  });
  app.addSchema({ $id: 'error', ...errorResponse });
  // GET /v1/openapi.json, made from every route registered below it; outside the /v1 plugin, so no key is needed
  describeApi(app);
  // one table per process: with --workers, each worker throttles the sources it sees on its own
  const failedKeys = new FailedKeyThrottle(FAILED_KEY_LIMITS, (source, failures, retryAfterSeconds) =>
    app.log.warn({ source, failedKeys: failures, retryAfterSeconds }, 'too many wrong admin keys from one source: its requests are answered 429 until its budget refills'),
  );
  metricsRoutes(app, deps.rt, failedKeys);

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (deps.rt.store.ready()) return { status: 'ready' };
    const err = new ApiError('not_ready', 'The database connection is down; certgate is reconnecting.');
    return reply.status(err.status).send(err.toBody());
  });

  consoleRoutes(app);
  await app.register(async (v1) => {
    requirePermissionOnEveryRoute(v1);
    v1.addHook('onRequest', requireAdminKey(deps.rt.state, deps.rt.nowSeconds, false, failedKeys));
    certificateRoutes(v1, deps.rt);
    filterRoutes(v1, deps.rt);
    crlRoutes(v1, deps.rt);
    mtlsSettingsRoutes(v1, deps.rt);
    previewRoutes(v1, deps.rt);
    unusableRoutes(v1, deps.rt);
    projectRoutes(v1, deps.rt);
    serviceAccountRoutes(v1, deps.rt);
    verifyRoutes(v1, deps.rt);
    adminKeyRoutes(v1, deps.rt);
    auditLogRoutes(v1, deps.rt);
  });
  return app;
}
