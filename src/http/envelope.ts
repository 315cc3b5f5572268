import type { ServerResponse } from 'node:http';
import { ApiError } from '../domain/errors.js';
import { isStoreUnavailable } from '../store/store.js';

/**
 * Any failure as the ApiError a client is shown, in one place for both
 * servers: our own errors as they are, an unreachable database as 503
 * database_unavailable, anything else as a generic 500 that keeps its cause
 * for the log only.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isStoreUnavailable(err)) return new ApiError('database_unavailable', 'The database is unavailable; nothing was changed. Retry shortly.', null, { cause: err });
  return new ApiError('internal_error', 'The server had an error while processing the request.', null, { cause: err });
}

/** Writes an error in OpenAI's envelope on a plain node:http response. */
export function sendError(res: ServerResponse, err: ApiError, requestId: string): void {
  const body = JSON.stringify(err.toBody());
  res.writeHead(err.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': requestId });
  res.end(body);
}
