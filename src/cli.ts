#!/usr/bin/env node
import { ConfigError, GATEWAY_HELP, SERVE_HELP, VERIFY_HELP, gatewayConfig, serveConfig, verifyConfig } from './config.js';
import { ApiError } from './domain/errors.js';

// The one entry point, and the only place that exits. Each command loads only what it runs: the gateway never
// loads Fastify, Ajv, commander or the openai SDK; the management commands load commander and the SDK.

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

const io = {
  out: (text: string) => void process.stdout.write(text),
  err: (text: string) => void process.stderr.write(text),
  env: process.env,
  async readStdin(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

const wantsHelp = (args: readonly string[]) => args.includes('--help') || args.includes('-h');

/** The exit status, or -1 for a server that keeps running until a signal. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      if (wantsHelp(rest)) return io.out(SERVE_HELP), 0;
      const config = serveConfig(rest, process.env);
      const { startServer } = await import('./commands/serve.js');
      const server = await startServer(config);
      onSignals(() => server.close());
      return -1;
    }
    case 'gateway': {
      if (wantsHelp(rest)) return io.out(GATEWAY_HELP), 0;
      const config = gatewayConfig(rest, process.env);
      const { startGateway } = await import('./commands/gateway.js');
      const gateway = await startGateway(config);
      onSignals(() => gateway.close());
      return -1;
    }
    case 'verify': {
      if (wantsHelp(rest)) return io.out(VERIFY_HELP), 0;
      const config = verifyConfig(rest, process.env);
      const { runVerify } = await import('./commands/verify.js');
      return runVerify(config, io.out);
    }
    case undefined:
    case 'help': {
      const { runManage } = await import('./commands/manage/program.js');
      await runManage(['--help'], command === undefined ? { ...io, out: io.err } : io);
      return command === undefined ? 2 : 0;
    }
    default: {
      const { runManage } = await import('./commands/manage/program.js');
      return runManage(argv, io);
    }
  }
}

/** One line for what an operator can fix (a bad flag; a port in use, which the commands raise as a ConfigError); a stack only for a bug. */
function failure(err: unknown): { message: string; code: number } | undefined {
  if (err instanceof ApiError || err instanceof ConfigError) return { message: err.message, code: 2 };
  return undefined;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    const known = failure(err);
    if (known) {
      process.stderr.write(`certgate: ${known.message}\n`);
      process.exit(known.code);
    }
    console.error(err);
    process.exit(1);
  },
);
