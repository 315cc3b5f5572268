import { parseArgs } from 'node:util';

import { DEFAULT_EXPIRY_WARNING_DAYS } from './domain/expiry.js';
import { CLIENT_ID_SOURCES, type ClientIdSource } from './domain/identity.js';
import { DEFAULT_LIMITS, type ConnectionLimits } from './http/connections.js';

export interface ServeConfig {
  readonly limits: ConnectionLimits;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly adminKey: string | undefined;
  readonly logLevel: string;
  /** active anchors expiring within this many days are logged as a warning */
  readonly expiryWarningDays: number;
}

export class ConfigError extends Error {}

/** One option: its flag, the environment variable behind it, and its default. */
interface OptionSpec {
  readonly flag: string;
  readonly env: string;
  readonly fallback?: string;
}

export function readOptions<K extends string>(
  specs: Record<K, OptionSpec>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Record<K, string | undefined> {
  const options: Record<string, { type: 'string' }> = {};
  for (const spec of Object.values<OptionSpec>(specs)) options[spec.flag] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const out = {} as Record<K, string | undefined>;
  for (const [key, spec] of Object.entries<OptionSpec>(specs)) {
    const fromFlag = values[spec.flag];
    const fromEnv = env[spec.env];
    out[key as K] = typeof fromFlag === 'string' ? fromFlag : fromEnv !== undefined && fromEnv !== '' ? fromEnv : spec.fallback;
  }
  return out;
}

export function parsePort(value: string | undefined, name: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`${name} must be a port number (0-65535), got ${JSON.stringify(value)}`);
  return port;
}

/** Connection hygiene, in seconds (and a count), for both servers. */
export const connectionOptions = {
  headersTimeout: { flag: 'headers-timeout', env: 'CERTGATE_HEADERS_TIMEOUT', fallback: String(DEFAULT_LIMITS.headersTimeoutMs / 1000) },
  requestTimeout: { flag: 'request-timeout', env: 'CERTGATE_REQUEST_TIMEOUT', fallback: String(DEFAULT_LIMITS.requestTimeoutMs / 1000) },
  idleTimeout: { flag: 'idle-timeout', env: 'CERTGATE_IDLE_TIMEOUT', fallback: String(DEFAULT_LIMITS.idleTimeoutMs / 1000) },
  handshakeTimeout: { flag: 'handshake-timeout', env: 'CERTGATE_HANDSHAKE_TIMEOUT', fallback: String(DEFAULT_LIMITS.handshakeTimeoutMs / 1000) },
  maxConnections: { flag: 'max-connections', env: 'CERTGATE_MAX_CONNECTIONS', fallback: String(DEFAULT_LIMITS.maxConnections) },
} as const;

function seconds(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new ConfigError(`${name} must be a number of seconds between 0 and 3600, got ${JSON.stringify(value)}`);
  return Math.round(n * 1000);
}

function connectionLimits(o: Record<keyof typeof connectionOptions, string | undefined>): ConnectionLimits {
  const max = Number(o.maxConnections);
  if (!Number.isInteger(max) || max < 1) throw new ConfigError(`CERTGATE_MAX_CONNECTIONS must be a positive integer, got ${JSON.stringify(o.maxConnections)}`);
  return {
    headersTimeoutMs: seconds(o.headersTimeout, 'CERTGATE_HEADERS_TIMEOUT'),
    requestTimeoutMs: seconds(o.requestTimeout, 'CERTGATE_REQUEST_TIMEOUT'),
    idleTimeoutMs: seconds(o.idleTimeout, 'CERTGATE_IDLE_TIMEOUT'),
    handshakeTimeoutMs: seconds(o.handshakeTimeout, 'CERTGATE_HANDSHAKE_TIMEOUT'),
    maxConnections: max,
  };
}

/** The expiry warning's window, for both servers. */
export const expiryOptions = {
  expiryWarningDays: { flag: 'expiry-warning-days', env: 'CERTGATE_EXPIRY_WARNING_DAYS', fallback: String(DEFAULT_EXPIRY_WARNING_DAYS) },
} as const;

function warningDays(value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 3650) throw new ConfigError(`--expiry-warning-days (CERTGATE_EXPIRY_WARNING_DAYS) must be a whole number of days between 0 and 3650, got ${JSON.stringify(value)}`);
  return n;
}

export const storeOptions = {
  dataDir: { flag: 'data-dir', env: 'CERTGATE_DATA_DIR', fallback: './data' },
  databaseUrl: { flag: 'database-url', env: 'CERTGATE_DATABASE_URL' },
  logLevel: { flag: 'log-level', env: 'CERTGATE_LOG_LEVEL', fallback: 'info' },
} as const;

export function serveConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ServeConfig {
  const o = readOptions(
    {
      host: { flag: 'host', env: 'CERTGATE_HOST', fallback: '127.0.0.1' },
      port: { flag: 'port', env: 'CERTGATE_PORT', fallback: '8080' },
      adminKey: { flag: 'admin-key', env: 'CERTGATE_ADMIN_KEY' },
      ...storeOptions,
      ...connectionOptions,
      ...expiryOptions,
    },
    argv,
    env,
  );
  if (o.adminKey !== undefined && o.adminKey.length < 16) throw new ConfigError('CERTGATE_ADMIN_KEY must be at least 16 characters long');
  return {
    limits: connectionLimits(o),
    host: o.host!,
    port: parsePort(o.port, 'CERTGATE_PORT'),
    dataDir: o.dataDir!,
    databaseUrl: o.databaseUrl,
    adminKey: o.adminKey,
    logLevel: o.logLevel!,
    expiryWarningDays: warningDays(o.expiryWarningDays),
  };
}

export interface GatewayConfig {
  readonly limits: ConnectionLimits;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly upstreamUrl: string;
  readonly upstreamApiKey: string | undefined;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly logLevel: string;
  readonly clientIdHeader: { readonly name: string; readonly from: ClientIdSource } | undefined;
  /** the plain-HTTP metrics listener, off unless a port is given */
  readonly metrics: { readonly host: string; readonly port: number } | undefined;
  readonly expiryWarningDays: number;
}

/** Headers a client-id header may not be: the ones the gateway or HTTP itself owns. */
const RESERVED_HEADERS = new Set(['authorization', 'host', 'connection', 'content-length', 'transfer-encoding', 'x-request-id', 'x-forwarded-client-cert', 'x-certgate-project-id', 'x-certgate-certificate-id']);

export function gatewayConfig(argv: readonly string[], env: NodeJS.ProcessEnv): GatewayConfig {
  const o = readOptions(
    {
      host: { flag: 'host', env: 'CERTGATE_GATEWAY_HOST', fallback: '127.0.0.1' },
      port: { flag: 'port', env: 'CERTGATE_GATEWAY_PORT', fallback: '8443' },
      upstreamUrl: { flag: 'upstream-url', env: 'CERTGATE_UPSTREAM_URL' },
      upstreamApiKey: { flag: 'upstream-api-key', env: 'CERTGATE_UPSTREAM_API_KEY' },
      tlsCert: { flag: 'tls-cert', env: 'CERTGATE_TLS_CERT' },
      tlsKey: { flag: 'tls-key', env: 'CERTGATE_TLS_KEY' },
      clientIdHeader: { flag: 'client-id-header', env: 'CERTGATE_CLIENT_ID_HEADER' },
      clientIdFrom: { flag: 'client-id-from', env: 'CERTGATE_CLIENT_ID_FROM', fallback: 'fingerprint' },
      metricsPort: { flag: 'metrics-port', env: 'CERTGATE_METRICS_PORT' },
      metricsHost: { flag: 'metrics-host', env: 'CERTGATE_METRICS_HOST', fallback: '127.0.0.1' },
      ...storeOptions,
      ...connectionOptions,
      ...expiryOptions,
    },
    argv,
    env,
  );
  if (!o.upstreamUrl) throw new ConfigError('CERTGATE_UPSTREAM_URL (--upstream-url) is required: the OpenAI-compatible API to forward accepted requests to');
  let upstream: URL;
  try {
    upstream = new URL(o.upstreamUrl);
  } catch {
    throw new ConfigError(`CERTGATE_UPSTREAM_URL is not a URL: ${JSON.stringify(o.upstreamUrl)}`);
  }
  if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:') throw new ConfigError('CERTGATE_UPSTREAM_URL must be an http or https URL');
  if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw new ConfigError('CERTGATE_TLS_CERT and CERTGATE_TLS_KEY go together: set both or neither');
  let clientIdHeader: GatewayConfig['clientIdHeader'];
  if (o.clientIdHeader) {
    const name = o.clientIdHeader.toLowerCase();
    if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name) || RESERVED_HEADERS.has(name)) {
      throw new ConfigError(`--client-id-header must be a header name that is not already certgate's or HTTP's, got ${JSON.stringify(o.clientIdHeader)}`);
    }
    if (!CLIENT_ID_SOURCES.includes(o.clientIdFrom as ClientIdSource)) {
      throw new ConfigError(`--client-id-from must be one of ${CLIENT_ID_SOURCES.join(', ')}, got ${JSON.stringify(o.clientIdFrom)}`);
    }
    clientIdHeader = { name, from: o.clientIdFrom as ClientIdSource };
  }
  return {
    limits: connectionLimits(o),
    host: o.host!,
    port: parsePort(o.port, 'CERTGATE_GATEWAY_PORT'),
    dataDir: o.dataDir!,
    databaseUrl: o.databaseUrl,
    upstreamUrl: o.upstreamUrl,
    upstreamApiKey: o.upstreamApiKey,
    tlsCert: o.tlsCert,
    tlsKey: o.tlsKey,
    logLevel: o.logLevel!,
    clientIdHeader,
    metrics: o.metricsPort === undefined ? undefined : { host: o.metricsHost!, port: parsePort(o.metricsPort, '--metrics-port (CERTGATE_METRICS_PORT)') },
    expiryWarningDays: warningDays(o.expiryWarningDays),
  };
}

export interface VerifyConfig {
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly certFile: string;
  readonly projectId: string | undefined;
}

export function verifyConfig(argv: readonly string[], env: NodeJS.ProcessEnv): VerifyConfig {
  const o = readOptions(
    {
      certFile: { flag: 'cert', env: 'CERTGATE_VERIFY_CERT' },
      projectId: { flag: 'project', env: 'CERTGATE_VERIFY_PROJECT' },
      dataDir: storeOptions.dataDir,
      databaseUrl: storeOptions.databaseUrl,
    },
    argv,
    env,
  );
  if (!o.certFile) throw new ConfigError('--cert FILE is required: the client certificate (PEM, leaf first, intermediates after)');
  return { dataDir: o.dataDir!, databaseUrl: o.databaseUrl, certFile: o.certFile, projectId: o.projectId };
}
