import { ApiError } from './errors.js';

export const MAX_NAME_LENGTH = 256;

/**
 * The one rule for the names people give things (certificates, projects,
 * service accounts): at most 256 characters, and not blank where a name is required.
 */
export function checkName(name: string, options: { required: boolean; param?: string } = { required: true }): string {
  const param = options.param ?? 'name';
  if (options.required && name.trim().length === 0) throw new ApiError('invalid_value', `${param} must not be empty.`, param);
  if (name.length > MAX_NAME_LENGTH) throw new ApiError('invalid_value', `${param} must be at most ${MAX_NAME_LENGTH} characters long.`, param);
  return checkText(name, param);
}

// C0 controls and DEL: no name needs them, and PostgreSQL cannot store NUL, so both engines refuse them alike.
const CONTROL = /[\u0000-\u001f\u007f]/;
// with the u flag a pair is one code point: only an unpaired half is a Surrogate
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Free text a client stores (names, external ids): no control characters, and well-formed UTF-16. A lone surrogate
 * ("a\ud800b" in JSON) has no UTF-8 form: both engines would store U+FFFD in its place, so the name read back
 * would not be the one sent.
 */
export function checkText(value: string, param: string): string {
  if (CONTROL.test(value)) throw new ApiError('invalid_value', `${param} must not contain control characters (such as NUL or a line break).`, param);
  if (LONE_SURROGATE.test(value)) throw new ApiError('invalid_value', `${param} must be valid Unicode: it holds an unpaired surrogate (a lone \\ud800-\\udfff escape).`, param);
  return value;
}
