import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';

import { DEFAULT_EXPIRY_WARNING_DAYS } from './domain/expiry.js';
import { CLIENT_ID_SOURCES, type ClientIdSource } from './domain/identity.js';
import { DEFAULT_LIMITS, type ConnectionLimits } from './http/connections.js';
import { parseTrustedProxies, TrustedProxiesError } from './gateway/forwarded.js';
import { DEFAULT_HANDSHAKE_BUDGET, type HandshakeBudgetOptions } from './state/handshake-budget.js';

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
  readonly workers: number;
  /** audit events older than this many days are deleted; undefined keeps everything (OpenAI's behaviour) */
  readonly auditRetentionDays: number | undefined;
  /** HTTPS with this certificate and key (PEM files); plain HTTP without them */
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
}

export class ConfigError extends Error {}

/** One option: its flag, the environment variable behind it, its default, and what it is for (shown by --help). */
interface OptionSpec {
  readonly flag: string;
  readonly env: string;
  readonly fallback?: string;
  readonly help?: string;
  /** a switch: given without a value (its variable: 1/true/yes or 0/false/no); read as 'true' or undefined */
  readonly boolean?: true;
}

/** The options read, and for each the name of where its value came from, so that an error names what was typed. */
export type Options<K extends string> = Record<K, string | undefined> & { readonly $name: Record<K, string> };

export function readOptions<K extends string>(
  specs: Record<K, OptionSpec>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Options<K> {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const spec of Object.values<OptionSpec>(specs)) options[spec.flag] = { type: spec.boolean ? 'boolean' : 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message.split(/\.\s/)[0]} (see --help)`);
  }
  const out = {} as Record<K, string | undefined>;
  const names = {} as Record<K, string>;
  for (const [key, spec] of Object.entries<OptionSpec>(specs)) {
    const fromFlag = values[spec.flag];
    const fromEnv = env[spec.env];
    if (spec.boolean) {
      const on = fromFlag === true || (fromFlag === undefined && switchedOn(fromEnv, spec.env));
      out[key as K] = on ? 'true' : undefined;
      names[key as K] = fromFlag === true ? `--${spec.flag}` : fromEnv ? spec.env : `--${spec.flag} (${spec.env})`;
    } else if (typeof fromFlag === 'string') {
      out[key as K] = fromFlag;
      names[key as K] = `--${spec.flag}`;
    } else if (fromEnv !== undefined && fromEnv !== '') {
      out[key as K] = fromEnv;
      names[key as K] = spec.env;
    } else {
      out[key as K] = spec.fallback;
      names[key as K] = `--${spec.flag} (${spec.env})`;
    }
  }
  return Object.assign(out, { $name: names });
}

function switchedOn(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '') return false;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be 1/true/yes or 0/false/no, got ${JSON.stringify(value)}`);
}

/** --help for a command read with readOptions: each flag with its variable, default and purpose. */
export function optionsHelp(usage: string, summary: string, specs: Record<string, OptionSpec>, footer = ''): string {
  const rows = Object.values<OptionSpec>(specs).map((s) => [`--${s.flag}`, s.env, s.help ?? '', s.fallback === undefined ? '' : `(default: ${s.fallback})`]);
  const flagWidth = Math.max(...rows.map((r) => r[0]!.length));
  const envWidth = Math.max(...rows.map((r) => r[1]!.length));
  const lines = rows.map(([flag, envName, help, fallback]) => `  ${flag!.padEnd(flagWidth)}  ${envName!.padEnd(envWidth)}  ${help}${help && fallback ? ' ' : ''}${fallback}`);
  return `usage: ${usage}\n\n${summary}\n\noptions (flag, environment variable; a flag wins over its variable):\n${lines.join('\n')}\n  --help${' '.repeat(Math.max(0, flagWidth - 4))}  ${''.padEnd(envWidth)}  show this help\n${footer}`;
}

export function parsePort(value: string | undefined, name: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value ?? '') || !Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`${name} must be a port number (0-65535), got ${JSON.stringify(value)}`);
  return port;
}

/** Connection hygiene, in seconds (and a count), for both servers. */
export const connectionOptions = {
  headersTimeout: { flag: 'headers-timeout', env: 'CERTGATE_HEADERS_TIMEOUT', fallback: String(DEFAULT_LIMITS.headersTimeoutMs / 1000), help: 'seconds to receive a request\'s headers' },
  requestTimeout: { flag: 'request-timeout', env: 'CERTGATE_REQUEST_TIMEOUT', fallback: String(DEFAULT_LIMITS.requestTimeoutMs / 1000), help: 'seconds to receive a whole request' },
  idleTimeout: { flag: 'idle-timeout', env: 'CERTGATE_IDLE_TIMEOUT', fallback: String(DEFAULT_LIMITS.idleTimeoutMs / 1000), help: 'seconds an idle keep-alive connection stays open' },
  handshakeTimeout: { flag: 'handshake-timeout', env: 'CERTGATE_HANDSHAKE_TIMEOUT', fallback: String(DEFAULT_LIMITS.handshakeTimeoutMs / 1000), help: 'seconds to finish a TLS handshake' },
  maxConnections: { flag: 'max-connections', env: 'CERTGATE_MAX_CONNECTIONS', fallback: String(DEFAULT_LIMITS.maxConnections), help: 'open connections at most (3/4 of the open-file limit)' },
} as const;

function seconds(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new ConfigError(`${name} must be a number of seconds between 0 and 3600, got ${JSON.stringify(value)}`);
  return Math.round(n * 1000);
}

function connectionLimits(o: Options<keyof typeof connectionOptions>): ConnectionLimits {
  const max = Number(o.maxConnections);
  if (!Number.isInteger(max) || max < 1) throw new ConfigError(`${o.$name.maxConnections} must be a positive integer, got ${JSON.stringify(o.maxConnections)}`);
  return {
    headersTimeoutMs: seconds(o.headersTimeout, o.$name.headersTimeout),
    requestTimeoutMs: seconds(o.requestTimeout, o.$name.requestTimeout),
    idleTimeoutMs: seconds(o.idleTimeout, o.$name.idleTimeout),
    handshakeTimeoutMs: seconds(o.handshakeTimeout, o.$name.handshakeTimeout),
    maxConnections: max,
  };
}

/** The expiry warning's window, for both servers. */
export const expiryOptions = {
  expiryWarningDays: { flag: 'expiry-warning-days', env: 'CERTGATE_EXPIRY_WARNING_DAYS', fallback: String(DEFAULT_EXPIRY_WARNING_DAYS), help: 'warn (at start, then daily) of active anchors that expire within this many days' },
} as const;

/**
 * Set in a gateway worker's environment when its primary made the certificate: the worker asks the primary for it
 * over the cluster's IPC channel (never the environment, which /proc/PID/environ shows, nor a file).
 */
export const WORKER_TLS_FROM_PRIMARY = 'CERTGATE_WORKER_TLS_FROM_PRIMARY';

/** --workers: processes serving the one port (node:cluster), one per core unless told; 1 runs no primary at all. */
export const workerOptions = {
  workers: { flag: 'workers', env: 'CERTGATE_WORKERS', fallback: String(availableParallelism()), help: 'worker processes sharing the port, each with its own snapshot and change feed (1: a single process)' },
} as const;

function workerCount(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new ConfigError(`${name} must be a whole number of worker processes from 1 to 256, got ${JSON.stringify(value)}`);
  return n;
}

function warningDays(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 3650) throw new ConfigError(`${name} must be a whole number of days between 0 and 3650, got ${JSON.stringify(value)}`);
  return n;
}

export const storeOptions = {
  dataDir: { flag: 'data-dir', env: 'CERTGATE_DATA_DIR', fallback: './data', help: 'directory of the SQLite store' },
  databaseUrl: { flag: 'database-url', env: 'CERTGATE_DATABASE_URL', help: 'PostgreSQL URL (postgres://…); replaces --data-dir' },
  logLevel: { flag: 'log-level', env: 'CERTGATE_LOG_LEVEL', fallback: 'info', help: 'fatal, error, warn, info, debug or trace' },
} as const;

/** A server certificate and its key, for either server. */
export const tlsOptions = {
  tlsCert: { flag: 'tls-cert', env: 'CERTGATE_TLS_CERT', help: 'server certificate (PEM); a self-signed one for localhost without it' },
  tlsKey: { flag: 'tls-key', env: 'CERTGATE_TLS_KEY', help: 'its private key (PEM)' },
} as const;

function tlsFiles(o: Options<keyof typeof tlsOptions>): { tlsCert: string | undefined; tlsKey: string | undefined } {
  if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw new ConfigError(`${o.$name.tlsCert} and ${o.$name.tlsKey} go together: set both or neither`);
  return { tlsCert: o.tlsCert, tlsKey: o.tlsKey };
}

export const serveOptions = {
  host: { flag: 'host', env: 'CERTGATE_HOST', fallback: '127.0.0.1', help: 'address to listen on' },
  port: { flag: 'port', env: 'CERTGATE_PORT', fallback: '8080', help: 'port to listen on (0: any free port)' },
  adminKey: { flag: 'admin-key', env: 'CERTGATE_ADMIN_KEY', help: 'an owner admin key to accept (16+ characters); without it one is made at first start, printed to a terminal or else written to DATA_DIR/initial-admin-key' },
  ...storeOptions,
  ...connectionOptions,
  ...expiryOptions,
  ...workerOptions,
  tlsCert: { ...tlsOptions.tlsCert, env: 'CERTGATE_SERVE_TLS_CERT', help: 'serve the admin API and console over HTTPS with this certificate (PEM)' },
  tlsKey: { ...tlsOptions.tlsKey, env: 'CERTGATE_SERVE_TLS_KEY' },
  auditRetentionDays: { flag: 'audit-retention-days', env: 'CERTGATE_AUDIT_RETENTION_DAYS', help: 'delete audit events older than this many days, in small batches, hourly (default: keep every event)' },
} as const;

function retentionDays(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 36500) throw new ConfigError(`${name} must be a whole number of days from 1 to 36500, got ${JSON.stringify(value)}`);
  return n;
}

export const SERVE_HELP = optionsHelp('certgate serve [options]', 'Runs the admin API (/v1/organization/…), OpenAI\'s Certificates admin API and certgate\'s extensions.', serveOptions);

export function serveConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ServeConfig {
  const o = readOptions(serveOptions, argv, env);
  if (o.adminKey !== undefined && o.adminKey.length < 16) throw new ConfigError(`${o.$name.adminKey} must be at least 16 characters long`);
  return {
    limits: connectionLimits(o),
    host: o.host!,
    port: parsePort(o.port, o.$name.port),
    dataDir: o.dataDir!,
    databaseUrl: o.databaseUrl,
    adminKey: o.adminKey,
    logLevel: o.logLevel!,
    expiryWarningDays: warningDays(o.expiryWarningDays, o.$name.expiryWarningDays),
    workers: workerCount(o.workers, o.$name.workers),
    auditRetentionDays: retentionDays(o.auditRetentionDays, o.$name.auditRetentionDays),
    ...tlsFiles(o),
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
  /** peers whose X-Forwarded-For and Forwarded are appended to (addresses and CIDR ranges, as given); nobody's when undefined */
  readonly trustedProxies: string | undefined;
  /** the plain-HTTP metrics listener, off unless a port is given */
  readonly metrics: { readonly host: string; readonly port: number } | undefined;
  readonly expiryWarningDays: number;
  readonly workers: number;
  /** hostile TLS handshakes (failed after sending something, or a chain longer than read) one source may cost */
  readonly handshakeBudget: HandshakeBudgetOptions;
  /** terminated mode (--behind-ingress): plain HTTP, the client's certificate read from the ingress's headers */
  readonly ingress: IngressConfig | undefined;
}

/** Behind an ingress (certgate decide, gateway --behind-ingress): where the certificates are and how the ingress is known. */
export interface IngressConfig {
  /** lowercase header names */
  readonly certHeader: string;
  readonly chainHeader: string;
  /** the shared secret the ingress sends in x-certgate-ingress-secret */
  readonly secret: string | undefined;
  /** the Unix socket listened on instead of host and port */
  readonly socket: string | undefined;
  readonly trustLoopback: boolean;
}

/** Headers a client-id header may not be: the ones the gateway or HTTP itself owns. */
const RESERVED_HEADERS = new Set([
  'authorization', 'host', 'connection', 'content-length', 'transfer-encoding', 'expect', 'x-request-id', 'x-forwarded-client-cert', 'x-certgate-project-id', 'x-certgate-certificate-id',
  'forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip',
]);

/** Behind an ingress: the certificate headers, and how a request shows it came from the ingress. */
export const ingressOptions = {
  clientCertHeader: {
    flag: 'client-cert-header',
    env: 'CERTGATE_CLIENT_CERT_HEADER',
    fallback: 'client-cert',
    help: 'the header the ingress puts the client certificate in (may hold its chain too; RFC 9440, XFCC, URL-encoded or plain PEM, base64 DER: recognised from the value)',
  },
  clientChainHeader: { flag: 'client-chain-header', env: 'CERTGATE_CLIENT_CHAIN_HEADER', fallback: 'client-cert-chain', help: 'the header with further certificates (intermediates), if the ingress sends them' },
  ingressSecretFile: {
    flag: 'ingress-secret-file',
    env: 'CERTGATE_INGRESS_SECRET_FILE',
    help: 'a file holding the secret the ingress sends in x-certgate-ingress-secret on every request (or the secret itself in CERTGATE_INGRESS_SECRET)',
  },
  socket: { flag: 'socket', env: 'CERTGATE_SOCKET', help: 'listen on this Unix socket (mode 0660) instead of host and port: a request on it is from the ingress' },
  trustLoopback: { flag: 'trust-loopback', env: 'CERTGATE_TRUST_LOOPBACK', boolean: true, help: 'a TCP peer on a loopback address is the ingress' },
} as const;

/** The secret itself, for deployments that hand secrets over in the environment (never a flag: ps shows those). */
export const INGRESS_SECRET_ENV = 'CERTGATE_INGRESS_SECRET';

function headerName(value: string, name: string, taken: ReadonlySet<string>): string {
  const lower = value.toLowerCase();
  if (!/^[a-z0-9!#$%&'*+.^`|~-]+$/.test(lower) || taken.has(lower)) {
    throw new ConfigError(`${name} must be a header name without an underscore that is not already certgate's or HTTP's, got ${JSON.stringify(value)}`);
  }
  return lower;
}

function ingressSecret(o: Options<keyof typeof ingressOptions>, env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env[INGRESS_SECRET_ENV] || undefined;
  if (o.ingressSecretFile && fromEnv) throw new ConfigError(`${o.$name.ingressSecretFile} and ${INGRESS_SECRET_ENV} both give the ingress secret: set one`);
  let secret = fromEnv;
  if (o.ingressSecretFile) {
    try {
      secret = readFileSync(o.ingressSecretFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(`cannot read the ingress secret file (${o.$name.ingressSecretFile}) ${JSON.stringify(o.ingressSecretFile)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (secret === undefined) return undefined;
  const from = o.ingressSecretFile ? `the ingress secret in ${o.$name.ingressSecretFile}` : INGRESS_SECRET_ENV;
  // it travels in a header: visible ASCII only, and long enough not to be guessed
  if (!/^[\x21-\x7e]{16,1024}$/.test(secret)) throw new ConfigError(`${from} must be 16 to 1024 visible ASCII characters (no spaces)`);
  return secret;
}

/** Behind an ingress, at least one way to know the ingress, and header names that are not someone else's. */
function ingressConfig(o: Options<keyof typeof ingressOptions>, env: NodeJS.ProcessEnv, clientIdHeader: string | undefined): IngressConfig {
  // an ingress such as Envoy may well pass the certificate in x-forwarded-client-cert: certgate reads it, then sets its own
  const taken = new Set([...RESERVED_HEADERS, 'x-certgate-ingress-secret', ...(clientIdHeader ? [clientIdHeader] : [])]);
  taken.delete('x-forwarded-client-cert');
  const certHeader = headerName(o.clientCertHeader!, o.$name.clientCertHeader, taken);
  const chainHeader = headerName(o.clientChainHeader!, o.$name.clientChainHeader, taken);
  if (certHeader === chainHeader) throw new ConfigError(`${o.$name.clientCertHeader} and ${o.$name.clientChainHeader} must be two different headers`);
  const secret = ingressSecret(o, env);
  const trustLoopback = o.trustLoopback === 'true';
  if (o.socket && trustLoopback) throw new ConfigError(`${o.$name.trustLoopback} is for a TCP listener; with ${o.$name.socket} there is no TCP peer`);
  if (!secret && !o.socket && !trustLoopback) {
    throw new ConfigError(
      `behind an ingress, certgate must know requests come from it: set --ingress-secret-file (or ${INGRESS_SECRET_ENV}), --socket, or --trust-loopback`,
    );
  }
  return { certHeader, chainHeader, secret, socket: o.socket || undefined, trustLoopback };
}

function clientIdHeaderOf(o: Options<'clientIdHeader' | 'clientIdFrom'>): { readonly name: string; readonly from: ClientIdSource } | undefined {
  if (!o.clientIdHeader) return undefined;
  const name = o.clientIdHeader.toLowerCase();
  // no underscore: CGI-style upstreams would read it as its dashed twin, which any client can send
  if (!/^[a-z0-9!#$%&'*+.^`|~-]+$/.test(name) || RESERVED_HEADERS.has(name)) {
    throw new ConfigError(`${o.$name.clientIdHeader} must be a header name without an underscore that is not already certgate's or HTTP's, got ${JSON.stringify(o.clientIdHeader)}`);
  }
  if (!CLIENT_ID_SOURCES.includes(o.clientIdFrom as ClientIdSource)) {
    throw new ConfigError(`${o.$name.clientIdFrom} must be one of ${CLIENT_ID_SOURCES.join(', ')}, got ${JSON.stringify(o.clientIdFrom)}`);
  }
  return { name, from: o.clientIdFrom as ClientIdSource };
}

const clientIdOptions = {
  clientIdHeader: { flag: 'client-id-header', env: 'CERTGATE_CLIENT_ID_HEADER', help: 'one more header carrying the verified client\'s id upstream (e.g. x-mtls-client-id)' },
  clientIdFrom: { flag: 'client-id-from', env: 'CERTGATE_CLIENT_ID_FROM', fallback: 'fingerprint', help: `what that header carries: ${CLIENT_ID_SOURCES.join(', ')}` },
} as const;

const metricsOptions = {
  metricsPort: { flag: 'metrics-port', env: 'CERTGATE_METRICS_PORT', help: 'serve GET /metrics over plain HTTP on this port, without authentication (off when unset)' },
  metricsHost: { flag: 'metrics-host', env: 'CERTGATE_METRICS_HOST', fallback: '127.0.0.1', help: 'address of the metrics listener: keep it private' },
} as const;

export const gatewayOptions = {
  host: { flag: 'host', env: 'CERTGATE_GATEWAY_HOST', fallback: '127.0.0.1', help: 'address to listen on' },
  port: { flag: 'port', env: 'CERTGATE_GATEWAY_PORT', fallback: '8443', help: 'port to listen on (0: any free port)' },
  upstreamUrl: { flag: 'upstream-url', env: 'CERTGATE_UPSTREAM_URL', help: 'required: the OpenAI-compatible API to forward admitted requests to' },
  upstreamApiKey: { flag: 'upstream-api-key', env: 'CERTGATE_UPSTREAM_API_KEY', help: 'bearer key sent upstream in place of the client\'s' },
  ...tlsOptions,
  ...clientIdOptions,
  trustedProxies: { flag: 'trusted-proxies', env: 'CERTGATE_TRUSTED_PROXIES', help: 'comma-separated addresses and CIDR ranges of peers whose X-Forwarded-For/Forwarded are kept and appended to (others\' are replaced)' },
  ...metricsOptions,
  tlsRatePerSource: {
    flag: 'tls-rate-per-source',
    env: 'CERTGATE_TLS_RATE_PER_SOURCE',
    fallback: String(DEFAULT_HANDSHAKE_BUDGET.ratePerSecond),
    help: 'failed or over-long TLS handshakes per second one address (IPv6: one /64) may cost before its new connections are closed (0: no limit)',
  },
  tlsBurstPerSource: { flag: 'tls-burst-per-source', env: 'CERTGATE_TLS_BURST_PER_SOURCE', fallback: String(DEFAULT_HANDSHAKE_BUDGET.burst), help: 'how many of those one address may cost at once' },
  behindIngress: {
    flag: 'behind-ingress',
    env: 'CERTGATE_BEHIND_INGRESS',
    boolean: true,
    help: 'terminated mode: plain HTTP behind an ingress that terminates TLS, the client certificate read from its headers (options below)',
  },
  ...ingressOptions,
  ...storeOptions,
  ...connectionOptions,
  ...expiryOptions,
  ...workerOptions,
} as const;

export const GATEWAY_HELP = optionsHelp(
  'certgate gateway --upstream-url URL [options]',
  'Runs the mTLS gateway in front of an OpenAI-compatible upstream: a request in a scope with an active trust anchor\nmust present a client certificate issued by it.',
  gatewayOptions,
);

export function gatewayConfig(argv: readonly string[], env: NodeJS.ProcessEnv): GatewayConfig {
  const o = readOptions(gatewayOptions, argv, env);
  if (!o.upstreamUrl) throw new ConfigError('--upstream-url (CERTGATE_UPSTREAM_URL) is required: the OpenAI-compatible API to forward accepted requests to');
  let upstream: URL;
  try {
    upstream = new URL(o.upstreamUrl);
  } catch {
    throw new ConfigError(`${o.$name.upstreamUrl} is not a URL: ${JSON.stringify(o.upstreamUrl)}`);
  }
  if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:') throw new ConfigError(`${o.$name.upstreamUrl} must be an http or https URL`);
  const tls = tlsFiles(o);
  const clientIdHeader = clientIdHeaderOf(o);
  const behindIngress = o.behindIngress === 'true';
  if (behindIngress && tls.tlsCert) throw new ConfigError(`${o.$name.tlsCert} and ${o.$name.tlsKey} are not used with ${o.$name.behindIngress}: the ingress terminates TLS`);
  if (!behindIngress && (o.socket || o.trustLoopback || o.ingressSecretFile || env[INGRESS_SECRET_ENV])) {
    throw new ConfigError(`--socket, --trust-loopback and the ingress secret are for a gateway behind an ingress: add --behind-ingress`);
  }
  const ingress = behindIngress ? ingressConfig(o, env, clientIdHeader?.name) : undefined;
  if (o.trustedProxies) {
    try {
      parseTrustedProxies(o.trustedProxies);
    } catch (err) {
      if (!(err instanceof TrustedProxiesError)) throw err;
      throw new ConfigError(`${o.$name.trustedProxies} must be a comma-separated list of IP addresses and CIDR ranges: ${err.message}`);
    }
  }
  return {
    limits: connectionLimits(o),
    host: o.host!,
    port: parsePort(o.port, o.$name.port),
    dataDir: o.dataDir!,
    databaseUrl: o.databaseUrl,
    upstreamUrl: o.upstreamUrl,
    upstreamApiKey: o.upstreamApiKey,
    ...tls,
    logLevel: o.logLevel!,
    clientIdHeader,
    trustedProxies: o.trustedProxies || undefined,
    metrics: o.metricsPort === undefined ? undefined : { host: o.metricsHost!, port: parsePort(o.metricsPort, o.$name.metricsPort) },
    expiryWarningDays: warningDays(o.expiryWarningDays, o.$name.expiryWarningDays),
    workers: workerCount(o.workers, o.$name.workers),
    handshakeBudget: { ratePerSecond: perSecond(o.tlsRatePerSource, o.$name.tlsRatePerSource), burst: burst(o.tlsBurstPerSource, o.$name.tlsBurstPerSource) },
    ingress,
  };
}

export interface DecideConfig {
  readonly limits: ConnectionLimits;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly logLevel: string;
  readonly clientIdHeader: { readonly name: string; readonly from: ClientIdSource } | undefined;
  readonly metrics: { readonly host: string; readonly port: number } | undefined;
  readonly expiryWarningDays: number;
  readonly workers: number;
  readonly ingress: IngressConfig;
}

export const decideOptions = {
  host: { flag: 'host', env: 'CERTGATE_DECIDE_HOST', fallback: '127.0.0.1', help: 'address to listen on' },
  port: { flag: 'port', env: 'CERTGATE_DECIDE_PORT', fallback: '8090', help: 'port to listen on (0: any free port)' },
  ...ingressOptions,
  ...clientIdOptions,
  ...metricsOptions,
  ...storeOptions,
  headersTimeout: connectionOptions.headersTimeout,
  requestTimeout: connectionOptions.requestTimeout,
  idleTimeout: connectionOptions.idleTimeout,
  maxConnections: connectionOptions.maxConnections,
  ...expiryOptions,
  ...workerOptions,
} as const;

export const DECIDE_HELP = optionsHelp(
  'certgate decide [options]',
  "Runs the decision service for an ingress's forward-auth (nginx auth_request, Caddy forward_auth, Envoy ext_authz,\nTraefik ForwardAuth): each request is judged on its Authorization and the certificate headers the ingress adds;\n200 with the identity headers to copy upstream, or OpenAI's refusal (also in x-certgate-status and x-certgate-error).",
  decideOptions,
);

export function decideConfig(argv: readonly string[], env: NodeJS.ProcessEnv): DecideConfig {
  const o = readOptions(decideOptions, argv, env);
  const clientIdHeader = clientIdHeaderOf(o);
  return {
    limits: connectionLimits({ ...o, handshakeTimeout: connectionOptions.handshakeTimeout.fallback, $name: { ...o.$name, handshakeTimeout: '' } }),
    host: o.host!,
    port: parsePort(o.port, o.$name.port),
    dataDir: o.dataDir!,
    databaseUrl: o.databaseUrl,
    logLevel: o.logLevel!,
    clientIdHeader,
    metrics: o.metricsPort === undefined ? undefined : { host: o.metricsHost!, port: parsePort(o.metricsPort, o.$name.metricsPort) },
    expiryWarningDays: warningDays(o.expiryWarningDays, o.$name.expiryWarningDays),
    workers: workerCount(o.workers, o.$name.workers),
    ingress: ingressConfig(o, env, clientIdHeader?.name),
  };
}

function perSecond(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value ?? '') || !Number.isFinite(n) || n > 1_000_000) throw new ConfigError(`${name} must be a number per second (0 turns it off), got ${JSON.stringify(value)}`);
  return n;
}

function burst(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new ConfigError(`${name} must be a whole number from 1, got ${JSON.stringify(value)}`);
  return n;
}

export interface VerifyConfig {
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly certFile: string;
  readonly projectId: string | undefined;
}

export const verifyOptions = {
  certFile: { flag: 'cert', env: 'CERTGATE_VERIFY_CERT', help: 'required: the client certificate (PEM: leaf first, intermediates after)' },
  projectId: { flag: 'project', env: 'CERTGATE_VERIFY_PROJECT', help: 'the project the client calls (its anchors, then the organization\'s)' },
  dataDir: storeOptions.dataDir,
  databaseUrl: storeOptions.databaseUrl,
} as const;

export const VERIFY_HELP = optionsHelp(
  'certgate verify --cert FILE [options]',
  'Explains, check by check, whether the gateway would accept a client certificate, reading the store directly.',
  verifyOptions,
  '\nexit status: 0 accepted, 1 refused, 2 usage error\n',
);

export function verifyConfig(argv: readonly string[], env: NodeJS.ProcessEnv): VerifyConfig {
  const o = readOptions(verifyOptions, argv, env);
  if (!o.certFile) throw new ConfigError('--cert FILE is required: the client certificate (PEM, leaf first, intermediates after)');
  return { dataDir: o.dataDir!, databaseUrl: o.databaseUrl, certFile: o.certFile, projectId: o.projectId };
}
