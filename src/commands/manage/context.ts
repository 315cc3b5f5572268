import { readFile } from 'node:fs/promises';
import type OpenAI from 'openai';

// What every management command shares: where it writes, how it reaches the server, how it fails.

export interface Io {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
  readonly env: NodeJS.ProcessEnv;
}

/** A failure the command explains itself; exit status 2 for bad usage, 1 for a refused or failed operation. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
  }
}

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080/v1';

/** The options every management command takes (see program.ts). */
export interface GlobalOptions {
  readonly baseUrl?: string;
  readonly apiKey?: string;
  readonly json?: boolean;
}

export interface Ctx {
  readonly io: Io;
  readonly json: boolean;
  /** the official SDK, configured as OpenAI's tools are: flags, then OPENAI_BASE_URL / CERTGATE_ADMIN_KEY or OPENAI_ADMIN_KEY */
  client(): Promise<OpenAI>;
  /** certgate's extensions, which the SDK does not type: its untyped request on the same client, path below /v1 */
  request<T>(method: 'get' | 'post' | 'put' | 'delete', path: string, body?: unknown): Promise<T>;
  /** the table for a person, or the raw value with --json */
  print(value: unknown, forPeople: () => string): void;
}

export function makeCtx(io: Io, options: GlobalOptions): Ctx {
  let client: Promise<OpenAI> | undefined;
  const getClient = () => (client ??= connect(options, io.env));
  return {
    io,
    json: options.json === true,
    client: getClient,
    async request<T>(method: 'get' | 'post' | 'put' | 'delete', path: string, body?: unknown): Promise<T> {
      const sdk = await getClient();
      // The SDK's generic methods default to the project-key scheme; these are admin endpoints.
      return sdk[method]<T>(path, { ...(body === undefined ? {} : { body }), __security: { adminAPIKeyAuth: true } });
    },
    print(value, forPeople) {
      io.out(options.json ? JSON.stringify(value, null, 2) + '\n' : forPeople());
    },
  };
}

async function connect(options: GlobalOptions, env: NodeJS.ProcessEnv): Promise<OpenAI> {
  // CERTGATE_ADMIN_KEY (the server's own variable) first: it names certgate, where OPENAI_ADMIN_KEY may be OpenAI's
  const adminAPIKey = options.apiKey ?? (env['CERTGATE_ADMIN_KEY'] || env['OPENAI_ADMIN_KEY'] || undefined);
  if (!adminAPIKey) throw new CliError('no admin key: pass --api-key KEY or set CERTGATE_ADMIN_KEY (or OPENAI_ADMIN_KEY)');
  const baseURL = options.baseUrl ?? (env['OPENAI_BASE_URL'] || DEFAULT_BASE_URL);
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    throw new CliError(`${options.baseUrl ? '--base-url' : 'OPENAI_BASE_URL'} is not a URL: ${JSON.stringify(baseURL)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`${options.baseUrl ? '--base-url' : 'OPENAI_BASE_URL'} must be an http or https URL, got ${JSON.stringify(baseURL)}`);
  const { default: OpenAIClient } = await import('openai');
  // No retries: a management command says what happened, once, and never repeats a write on its own.
  // apiKey, organization and project are set to null so that OPENAI_API_KEY, OPENAI_ORG_ID and OPENAI_PROJECT_ID
  // in the environment do not add a second bearer or headers certgate does not read.
  return new OpenAIClient({ adminAPIKey, apiKey: null, organization: null, project: null, baseURL, maxRetries: 0, timeout: 60_000 });
}

/** The server's refusal as one line ("certgate: <message> (<code>)"), or the connection failure; never a stack. */
export async function describeFailure(err: unknown): Promise<string | undefined> {
  const { APIError, APIConnectionError, APIConnectionTimeoutError, OpenAIError } = await import('openai');
  if (err instanceof APIConnectionTimeoutError) return 'the server did not answer in time';
  if (err instanceof APIConnectionError) {
    const cause = (err as { cause?: { cause?: { code?: string; message?: string }; message?: string } }).cause;
    const detail = cause?.cause?.code ?? cause?.cause?.message ?? cause?.message ?? err.message;
    return `cannot reach the server (${detail}); check --base-url or OPENAI_BASE_URL`;
  }
  if (err instanceof APIError) {
    const body = err.error as { message?: unknown; code?: unknown } | undefined;
    const message = typeof body?.message === 'string' ? body.message : err.message;
    const code = typeof body?.code === 'string' ? body.code : err.status ? `HTTP ${err.status}` : undefined;
    return code ? `${message} (${code})` : message;
  }
  if (err instanceof OpenAIError) return err.message;
  return undefined;
}

/** Every item of an auto-paginated list, or the first `limit` of them. */
export async function collect<T>(items: AsyncIterable<T>, limit?: number): Promise<T[]> {
  const out: T[] = [];
  if (limit === 0) return out;
  for await (const item of items) {
    out.push(item);
    if (limit !== undefined && out.length >= limit) break;
  }
  return out;
}

/** A file's text, or standard input's for "-". */
export async function readInput(io: Io, file: string, what: string): Promise<string> {
  if (file === '-') return io.readStdin();
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read the ${what} file ${JSON.stringify(file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

// Parsers for option values: each names the flag in its error.

export function positiveInt(flag: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > max) throw new CliError(`${flag} must be a whole number from 1 to ${max}, got ${JSON.stringify(value)}`);
    return n;
  };
}

/** Unix seconds, or an ISO 8601 time. */
export function instant(flag: string) {
  return (value: string): number => {
    if (/^\d+$/.test(value)) return Number(value);
    const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
    if (Number.isNaN(ms)) throw new CliError(`${flag} must be Unix seconds or an ISO time (2025-01-31 or 2025-01-31T12:00:00Z), got ${JSON.stringify(value)}`);
    return Math.floor(ms / 1000);
  };
}

export function repeatable(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
