import { parseArgs } from 'node:util';

export interface ServeConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly adminKey: string | undefined;
  readonly logLevel: string;
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
    },
    argv,
    env,
  );
  if (o.adminKey !== undefined && o.adminKey.length < 16) throw new ConfigError('CERTGATE_ADMIN_KEY must be at least 16 characters long');
  return {
    host: o.host!,
    port: parsePort(o.port, 'CERTGATE_PORT'),
    dataDir: o.dataDir!,
    databaseUrl: o.databaseUrl,
    adminKey: o.adminKey,
    logLevel: o.logLevel!,
  };
}
