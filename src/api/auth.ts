import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../domain/errors.js';
import type { KeyOwner } from '../domain/model.js';
import type { KeyResolver } from '../service/keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    admin: KeyOwner;
  }
}

/** The bearer token of a request, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}

export function missingKey(): ApiError {
  return new ApiError(
    'missing_api_key',
    "You didn't provide an API key. Send it in the Authorization header as 'Authorization: Bearer YOUR_KEY'.",
  );
}

export function invalidKey(kind: string): ApiError {
  return new ApiError('invalid_api_key', `Incorrect API key provided. Use ${kind}.`);
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
