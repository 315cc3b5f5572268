// The one catalog of every error certgate returns: code → HTTP status → type.
// Codes are OpenAI's wherever OpenAI documents one (its API reference and its
// mTLS guide); certgate's own only where OpenAI has none. Nothing else decides
// a status: both servers map every error through this table.

export const errorCatalog = {
  // authentication of the caller
  invalid_api_key: { status: 401, type: 'invalid_request_error' },
  missing_api_key: { status: 401, type: 'invalid_request_error' },
  // a key that lacks a scope: OpenAI answers with no code at all (wire: null)
  insufficient_permissions: { status: 401, type: 'invalid_request_error', wire: null },
  // too many wrong keys from one source address: OpenAI's code and type for a request-rate limit
  rate_limit_exceeded: { status: 429, type: 'requests' },
  // the request itself
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_type: { status: 400, type: 'invalid_request_error' },
  invalid_value: { status: 400, type: 'invalid_request_error' },
  missing_required_parameter: { status: 400, type: 'invalid_request_error' },
  unknown_parameter: { status: 400, type: 'invalid_request_error' },
  conflicting_parameters: { status: 400, type: 'invalid_request_error' },
  bad_request: { status: 400, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  request_too_large: { status: 413, type: 'invalid_request_error' },
  unknown_url: { status: 404, type: 'invalid_request_error' },
  uri_too_long: { status: 414, type: 'invalid_request_error' },
  request_timeout: { status: 408, type: 'invalid_request_error' },
  headers_too_large: { status: 431, type: 'invalid_request_error' },
  // management (OpenAI's mTLS guide names the first four)
  mtls_certificate_invalid: { status: 400, type: 'invalid_request_error' },
  expired_certificate: { status: 400, type: 'invalid_request_error' },
  mtls_cel_policy_invalid: { status: 400, type: 'invalid_request_error' },
  certificate_in_use: { status: 400, type: 'invalid_request_error' },
  duplicate_certificate: { status: 400, type: 'invalid_request_error' },
  certificate_limit_reached: { status: 400, type: 'invalid_request_error' },
  crl_invalid: { status: 400, type: 'invalid_request_error' },
  certificate_not_found: { status: 404, type: 'invalid_request_error' },
  project_not_found: { status: 404, type: 'invalid_request_error' },
  project_archived: { status: 400, type: 'invalid_request_error' },
  service_account_not_found: { status: 404, type: 'invalid_request_error' },
  admin_api_key_not_found: { status: 404, type: 'invalid_request_error' },
  last_owner_key: { status: 400, type: 'invalid_request_error' },
  // request time, at the gateway (OpenAI's mTLS guide)
  certificate_required: { status: 403, type: 'invalid_request_error' },
  invalid_certificate: { status: 403, type: 'invalid_request_error' },
  certificate_verification_failed: { status: 403, type: 'invalid_request_error' },
  certificate_attribute_verification_failed: { status: 403, type: 'invalid_request_error' },
  authentication_temporarily_unavailable: { status: 503, type: 'server_error' },
  upstream_unavailable: { status: 502, type: 'server_error' },
  // the service itself
  database_unavailable: { status: 503, type: 'server_error' },
  not_ready: { status: 503, type: 'server_error' },
  shutting_down: { status: 503, type: 'server_error' },
  internal_error: { status: 500, type: 'server_error' },
} as const satisfies Record<string, { status: number; type: string; wire?: null }>;

export type ErrorCode = keyof typeof errorCatalog;

/**
 * An error whose message is safe to show the client. `cause`, when given, is
 * for the log only and never reaches a response body.
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly param: string | null;

  constructor(code: ErrorCode, message: string, param: string | null = null, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.code = code;
    this.param = param;
  }

  get status(): number {
    return errorCatalog[this.code].status;
  }

  get type(): string {
    return errorCatalog[this.code].type;
  }

  /** The code as the body shows it: OpenAI sends some errors with none. */
  get wireCode(): string | null {
    return 'wire' in errorCatalog[this.code] ? null : this.code;
  }

  toBody(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.wireCode } };
  }
}

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
