import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, invalidKey, missingKey } from '../http/bearer.js';
import type { KeyOwner } from '../domain/model.js';
import type { KeyResolver } from '../state/keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    admin: KeyOwner;
  }
}

/** onRequest hook: every /v1 call needs an admin key of some organization. */
export function requireAdminKey(keys: KeyResolver) {
  const admit = (request: FastifyRequest, owner: KeyOwner | undefined, done: (err?: Error) => void) => {
    if (!owner) return done(invalidKey('an admin API key of this organization (sk-admin-...)'));
    request.admin = owner;
    done();
  };
  return function authenticate(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
    const token = bearerToken(request.headers.authorization);
    if (!token) return done(missingKey());
    const owner = keys.adminKey(token);
    // a cached key answers at once; only a miss waits for the store
    if (owner instanceof Promise) owner.then((found) => admit(request, found, done), done);
    else admit(request, owner, done);
  };
}
