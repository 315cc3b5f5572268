// One catalog of every error certgate returns. Each code is either OpenAI's own
// (certificate_in_use, invalid_certificate, invalid_api_key, ...) or ours, and
// maps to exactly one HTTP status here, nowhere else.

export const errorCatalog = {
  invalid_api_key: { status: 401, type: 'invalid_request_error' },
  missing_api_key: { status: 401, type: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_type: { status: 400, type: 'invalid_request_error' },
  invalid_value: { status: 400, type: 'invalid_request_error' },
  missing_required_parameter: { status: 400, type: 'invalid_request_error' },
  unknown_parameter: { status: 400, type: 'invalid_request_error' },
  conflicting_parameters: { status: 400, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  request_too_large: { status: 413, type: 'invalid_request_error' },
  unknown_url: { status: 404, type: 'invalid_request_error' },
  bad_request: { status: 400, type: 'invalid_request_error' },
  invalid_certificate: { status: 400, type: 'invalid_request_error' },
  duplicate_certificate: { status: 400, type: 'invalid_request_error' },
  certificate_limit_reached: { status: 400, type: 'invalid_request_error' },
  certificate_not_found: { status: 404, type: 'invalid_request_error' },
  certificate_expired: { status: 400, type: 'invalid_request_error' },
  certificate_in_use: { status: 400, type: 'invalid_request_error' },
  project_not_found: { status: 404, type: 'invalid_request_error' },
  project_archived: { status: 400, type: 'invalid_request_error' },
  service_account_not_found: { status: 404, type: 'invalid_request_error' },
  certificate_required: { status: 403, type: 'invalid_request_error' },
  certificate_verification_failed: { status: 403, type: 'invalid_request_error' },
  upstream_unavailable: { status: 502, type: 'server_error' },
  database_unavailable: { status: 503, type: 'server_error' },
  not_ready: { status: 503, type: 'server_error' },
  internal_error: { status: 500, type: 'server_error' },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof errorCatalog;

/** An error whose message is safe to show the client. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly param: string | null;
  readonly status: number;
  readonly type: string;

  /** status: only where one code means different things at two places (invalid_certificate: a bad upload, a refused client). */
  constructor(code: ErrorCode, message: string, param: string | null = null, status?: number) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.param = param;
    this.status = status ?? errorCatalog[code].status;
    this.type = errorCatalog[code].type;
  }

  toBody(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
