// The console's only door to the server: the /v1 admin API, with the admin key as a bearer.
// The key lives in this tab's sessionStorage and nowhere else (no localStorage, cookie or URL).

const KEY = 'certgate.adminKey';

export const session = {
  key: () => sessionStorage.getItem(KEY),
  signIn: (key) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

/** An error answered by the server, with its message as sent (OpenAI's envelope). */
export class ApiError extends Error {
  constructor(status, body) {
    const error = body && typeof body === 'object' && body.error ? body.error : null;
    super(error?.message || (status === 0 ? 'The server could not be reached.' : `The server answered ${status}.`));
    this.status = status;
    this.code = error?.code ?? null;
    this.param = error?.param ?? null;
  }

  /** A valid key that lacks the permission this call needs. */
  get forbidden() {
    return this.status === 401 && /insufficient permissions/i.test(this.message);
  }

  /** The key itself is not accepted (wrong, expired or deleted). */
  get badKey() {
    return this.status === 401 && !this.forbidden;
  }
}

let onBadKey = () => {};
/** Called when the server stops accepting the key mid-session (deleted or expired). */
export function whenKeyRefused(listener) {
  onBadKey = listener;
}

export async function api(method, path, body, key = session.key()) {
  const headers = { authorization: `Bearer ${key}`, accept: 'application/json' };
  const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/v1${path}`, init);
  } catch {
    throw new ApiError(0, null);
  }
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, parsed);
    if (error.badKey && key === session.key()) onBadKey(error);
    throw error;
  }
  return parsed;
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const item of value) search.append(`${name}[]`, item);
    else search.append(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Every item of a cursor-paginated list. */
export async function listAll(path, params = {}) {
  const items = [];
  let after;
  for (;;) {
    const page = await api('GET', path + query({ ...params, limit: 100, after }));
    items.push(...page.data);
    if (!page.has_more || !page.last_id) return items;
    after = page.last_id;
  }
}
