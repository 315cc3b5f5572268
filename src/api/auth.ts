import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../domain/errors.js';
import { bearerToken, invalidKey, missingKey } from '../http/bearer.js';
import type { AdminKeyOwner, Permission } from '../domain/model.js';
import { missingPermission } from '../domain/permissions.js';
import type { FailedKeyThrottle } from '../state/failed-keys.js';
import type { State } from '../state/state.js';

declare module 'fastify' {
  interface FastifyRequest {
    admin: AdminKeyOwner;
  }
  interface FastifyContextConfig {
    /** what an admin key must hold to call the route; every /v1 route names one */
    permission?: Permission;
  }
}

/**
 * onRequest hook: every /v1 call needs an unexpired admin key of some organization, holding the route's permission.

 * The key is checked against a snapshot at least the store's revision now, and that check is what makes every
 * admin read of the request read-after-write across processes (see State). With `anyPermission` (GET /metrics),
 * any unexpired admin key will do, checked against what this process knows (metrics answer during outages). With
 * `failedKeys`, a source address that sent too many wrong keys is answered 429 before its key is looked at.
 */
export function requireAdminKey(state: State, nowSeconds: () => number, anyPermission = false, failedKeys?: FailedKeyThrottle) {
  const keys = state.keys;
  const admit = (request: FastifyRequest, reply: FastifyReply, owner: AdminKeyOwner | undefined, done: (err?: Error) => void) => {
    if (!owner) {
      failedKeys?.failed(request.ip);
      return done(invalidKey('an admin API key of this organization (sk-admin-...)'));
    }
    if (owner.expiresAt !== null && owner.expiresAt <= nowSeconds()) {
      failedKeys?.failed(request.ip);
      return done(new ApiError('invalid_api_key', `This admin API key (${owner.key.redactedValue}) expired at ${new Date(owner.expiresAt * 1000).toISOString()}. Create a new one.`));
    }
    const needed = request.routeOptions.config.permission;
    if (needed === undefined && !anyPermission) return done(new ApiError('internal_error', 'This route names no permission.'));
    keys.noteUse(owner.key.id);
    if (needed !== undefined && !owner.permissions.has(needed)) return done(missingPermission(needed));
    request.admin = owner;
    if (request.method !== 'GET') {
      // a change's log lines name who made it: the key's id, never its value
      request.log = reply.log = request.log.child({ actor: owner.key.id });
    }
    done();
  };
  return function authenticate(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
    const header = request.headers.authorization;
    const token = bearerToken(header);
    if (!token) return done(missingKey());
    const wait = failedKeys?.retryAfter(request.ip) ?? 0;
    if (wait > 0) {
      void reply.header('retry-after', String(wait));
      return done(
        new ApiError('rate_limit_exceeded', `Rate limit reached for requests with an incorrect API key from your address: no key from it is checked for ${wait} s. Try again in ${wait}s.`),
      );
    }
    const owner = state.adminKey(header!, token, request.raw.socket, !anyPermission);
    // a remembered key on a current snapshot answers at once; only a miss or a catch-up waits for the store
    if (owner instanceof Promise) owner.then((found) => admit(request, reply, found, done), done);
    else admit(request, reply, owner, done);
  };
}

/** Refuses to start a server with an admin route that names no permission: access is never granted by omission. */
export function requirePermissionOnEveryRoute(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const config = route.config as { permission?: Permission } | undefined;
    if (!config?.permission) throw new Error(`route ${String(route.method)} ${route.url} names no permission`);
  });
}
