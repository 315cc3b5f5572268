import { ApiError } from '../domain/errors.js';

/** The bearer token of an Authorization header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}

export function missingKey(): ApiError {
  return new ApiError('missing_api_key', "You didn't provide an API key. Send it in the Authorization header as 'Authorization: Bearer YOUR_KEY'.");
}

export function invalidKey(kind: string): ApiError {
  return new ApiError('invalid_api_key', `Incorrect API key provided. Use ${kind}.`);
}
