#!/usr/bin/env node
import { ConfigError, serveConfig } from './config.js';
import { startServer } from './serve.js';

const USAGE = `usage: certgate <command> [flags]

commands:
  serve     run the admin API (/v1/organization/certificates…)
            --host (CERTGATE_HOST, 127.0.0.1)  --port (CERTGATE_PORT, 8080)
            --data-dir (CERTGATE_DATA_DIR, ./data)  --admin-key (CERTGATE_ADMIN_KEY)
            --database-url (CERTGATE_DATABASE_URL)  --log-level (CERTGATE_LOG_LEVEL, info)
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
      const server = await startServer(serveConfig(rest, process.env));
      onSignals(() => server.close());
      return -1;
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
    if (err instanceof ConfigError) {
      process.stderr.write(`certgate: ${err.message}\n`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  },
);
