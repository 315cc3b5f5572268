#!/usr/bin/env node
import { ConfigError, gatewayConfig, serveConfig, verifyConfig } from './config.js';
import { ApiError } from './domain/errors.js';

// Each command loads only what it runs: the gateway process never loads Fastify or Ajv.

const USAGE = `usage: certgate <command> [flags]

commands:
  serve     run the admin API (/v1/organization/certificates…)
            --host (CERTGATE_HOST, 127.0.0.1)  --port (CERTGATE_PORT, 8080)
            --data-dir (CERTGATE_DATA_DIR, ./data)  --admin-key (CERTGATE_ADMIN_KEY)
            --database-url (CERTGATE_DATABASE_URL)  --log-level (CERTGATE_LOG_LEVEL, info)
            --headers-timeout (CERTGATE_HEADERS_TIMEOUT, 10 s)  --request-timeout (CERTGATE_REQUEST_TIMEOUT, 30 s)
            --idle-timeout (CERTGATE_IDLE_TIMEOUT, 30 s)  --max-connections (CERTGATE_MAX_CONNECTIONS, 3/4 of the open-file limit)
            --expiry-warning-days (CERTGATE_EXPIRY_WARNING_DAYS, 30)  GET /metrics on its port takes any admin key
  gateway   run the mTLS gateway in front of an OpenAI-compatible upstream
            --upstream-url (CERTGATE_UPSTREAM_URL, required)  --upstream-api-key (CERTGATE_UPSTREAM_API_KEY)
            --host (CERTGATE_GATEWAY_HOST, 127.0.0.1)  --port (CERTGATE_GATEWAY_PORT, 8443)
            --tls-cert (CERTGATE_TLS_CERT)  --tls-key (CERTGATE_TLS_KEY)  (self-signed for localhost without them)
            --data-dir / --database-url and the connection limits as for serve
            --handshake-timeout (CERTGATE_HANDSHAKE_TIMEOUT, 10 s)  --expiry-warning-days as for serve
            --metrics-port (CERTGATE_METRICS_PORT, off)  --metrics-host (CERTGATE_METRICS_HOST, 127.0.0.1)
              plain-HTTP GET /metrics without authentication: keep it on a private address
  verify    explain whether a client certificate would be accepted, check by check
            --cert FILE (PEM: leaf, then intermediates)  --project ID  --data-dir / --database-url
            exit status 0 when accepted, 1 when refused
`;

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      stop().then(
        () => process.exit(0),
        (err) => {
          console.error(err);
          process.exit(1);
        },
      );
    });
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const { startServer } = await import('./commands/serve.js');
      const server = await startServer(serveConfig(rest, process.env));
      onSignals(() => server.close());
      return -1;
    }
    case 'gateway': {
      const { startGateway } = await import('./commands/gateway.js');
      const gateway = await startGateway(gatewayConfig(rest, process.env));
      onSignals(() => gateway.close());
      return -1;
    }
    case 'verify': {
      const { runVerify } = await import('./commands/verify.js');
      return runVerify(verifyConfig(rest, process.env), (text) => process.stdout.write(text));
    }
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`certgate: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    if (err instanceof ApiError) {
      process.stderr.write(`certgate: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`certgate: ${err.message}\n`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  },
);
