import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../domain/errors.js';
import { toApiError as envelope } from '../http/envelope.js';

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string | undefined;
}

/** JSON pointer of a failing value as a parameter name: /certificate_ids/0 → certificate_ids[0]. */
function paramName(pointer: string): string {
  return pointer
    .split('/')
    .filter(Boolean)
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
}

/** One place that turns a schema-validation failure into an OpenAI-style 400. */
export function validationError(issue: ValidationIssue, where: string): ApiError {
  const param = paramName(issue.instancePath);
  switch (issue.keyword) {
    case 'required': {
      const missing = String(issue.params.missingProperty);
      const full = param ? `${param}.${missing}` : missing;
      return new ApiError('missing_required_parameter', `Missing required parameter: '${full}'.`, full);
    }
    case 'additionalProperties': {
      const extra = String(issue.params.additionalProperty);
      return new ApiError('unknown_parameter', `Unrecognized request argument supplied: ${extra}`, extra);
    }
    case 'type':
      if (!param) return new ApiError('invalid_type', `The request ${where} must be a JSON object.`);
      return new ApiError('invalid_type', `Invalid type for '${param}': expected ${describeType(issue.params.type)}.`, param);
    default:
      return new ApiError('invalid_value', `Invalid value for '${param || where}': ${issue.message ?? 'not allowed'}.`, param || null);
  }
}

function describeType(type: unknown): string {
  const names = Array.isArray(type) ? type : [type];
  return names.map((t) => (t === 'integer' ? 'an integer' : t === 'array' ? 'an array' : t === 'object' ? 'an object' : `a ${String(t)}`)).join(' or ');
}

const fastifyCodes: Record<string, ApiError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: new ApiError('invalid_json', 'The request body is not valid JSON.'),
  FST_ERR_CTP_EMPTY_JSON_BODY: new ApiError('invalid_json', 'The request body is empty; a JSON object was expected.'),
  FST_ERR_CTP_BODY_TOO_LARGE: new ApiError('request_too_large', 'The request body is too large.'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: new ApiError('unsupported_media_type', 'Send the request body as application/json.'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: new ApiError('bad_request', 'The Content-Length header does not match the body.'),
};

/** Fastify's own errors (validation, body parsing) as ours; undefined for anything else. */
function fromFastify(err: FastifyError): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err.validation && err.validation.length > 0) {
    return validationError(err.validation[0] as ValidationIssue, err.validationContext ?? 'body');
  }
  if (err.code && err.code in fastifyCodes) return fastifyCodes[err.code];
  if (err instanceof SyntaxError) return fastifyCodes.FST_ERR_CTP_INVALID_JSON_BODY;
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new ApiError('bad_request', 'The request could not be processed as sent.');
  }
  return undefined;
}

export function handleError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const known = fromFastify(err) ?? envelope(err);
  // The cause goes to the log (never the body or a request's secrets); the client gets the envelope.
  if (known.status >= 500) request.log.error({ err: known.cause ?? err, code: known.code }, 'request failed');
  void reply.status(known.status).send(known.toBody());
}
