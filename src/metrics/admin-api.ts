import type { FastifyInstance } from 'fastify';
import { Histogram } from 'prom-client';
import { requireAdminKey } from '../api/auth.js';
import type { Runtime } from '../runtime.js';
import type { FailedKeyThrottle } from '../state/failed-keys.js';
import { clusterMetrics, shareMetrics } from './cluster.js';
import { runtimeRegistry } from './registry.js';

/** The route label of a request no route matched: one value, never the raw URL. */
export const UNMATCHED_ROUTE = 'unmatched';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * GET /metrics on the admin API's own port (any admin key, sent as a bearer,
 * reads it: it needs no particular permission), and the API's request
 * durations by method, route pattern and status.
 */
export function metricsRoutes(app: FastifyInstance, rt: Runtime, failedKeys?: FailedKeyThrottle): void {
  const registry = runtimeRegistry(rt);
  shareMetrics(registry);
  const durations = new Histogram({
    name: 'certgate_http_request_duration_seconds',
    help: "Admin API request durations, by method, route pattern (e.g. /v1/organization/certificates/:certificate_id; 'unmatched' for unknown URLs) and status.",
    labelNames: ['method', 'route', 'status'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  app.addHook('onResponse', (request, reply, done) => {
    durations.observe({ method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', { onRequest: requireAdminKey(rt.state, rt.nowSeconds, true, failedKeys) }, async (_request, reply) => {
    const text = await clusterMetrics(registry);
    return reply.type(registry.contentType).send(text);
  });
}
