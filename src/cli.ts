#!/usr/bin/env node
import { ConfigError, WORKER_TLS_FROM_PRIMARY, DECIDE_HELP, GATEWAY_HELP, SERVE_HELP, VERIFY_HELP, decideConfig, gatewayConfig, serveConfig, verifyConfig } from './config.js';
import cluster from 'node:cluster';
import { ApiError } from './domain/errors.js';
import { StoreMissing, StoreTooNew } from './store/store.js';

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

/** The primary of --workers N: it serves nothing itself; it keeps N workers running until a signal drains them. */
async function supervise(
  at: { host: string; port: number },
  count: number,
  env: Record<string, string> = {},
  closeShared: () => Promise<void> = async () => undefined,
  tls?: { cert: string; key: string },
): Promise<number> {
  const { probePort, superviseWorkers } = await import('./commands/workers.js');
  await probePort(at.host, at.port).catch(async (err: unknown) => {
    await closeShared();
    throw err;
  });
  const workers = await superviseWorkers(count, (line) => io.err(`${line}\n`), env, tls);
  onSignals(async () => {
    await workers.close();
    await closeShared();
  });
  return -1;
}

/** In a gateway worker: the certificate its primary made for all of them, if it made one (asked for over IPC). */
async function workerTls(): Promise<{ cert: string; key: string } | undefined> {
  if (!cluster.isWorker || process.env[WORKER_TLS_FROM_PRIMARY] !== '1') return undefined;
  const { tlsFromPrimary } = await import('./commands/workers.js');
  return tlsFromPrimary();
}

/** Where workers listen, for the primary's check of the port: none to check on a Unix socket (port 0 skips it). */
const listener = (host: string, port: number, socket: string | undefined) => (socket ? { host, port: 0 } : { host, port });

const wantsHelp = (args: readonly string[]) => args.includes('--help') || args.includes('-h');

/** The exit status, or -1 for a server that keeps running until a signal. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      if (wantsHelp(rest)) return io.out(SERVE_HELP), 0;
      const config = serveConfig(rest, process.env);
      if (config.workers > 1 && cluster.isPrimary) {
        // a port in use or an unreadable certificate is found before anything is created or printed
        const { probePort } = await import('./commands/workers.js');
        await probePort(config.host, config.port);
        if (config.tlsCert && config.tlsKey) (await import('./commands/tls-files.js')).readServerTls(config.tlsCert, config.tlsKey);
        const { prepareStore } = await import('./commands/seed.js');
        await prepareStore(config);
        return supervise(config, config.workers);
      }
      const { startServer } = await import('./commands/serve.js');
      const server = await startServer(config, { prepared: cluster.isWorker });
      onSignals(() => server.close());
      return -1;
    }
    case 'gateway': {
      if (wantsHelp(rest)) return io.out(GATEWAY_HELP), 0;
      const config = gatewayConfig(rest, process.env);
      if (config.workers > 1 && cluster.isPrimary) {
        // one certificate for every worker, and the primary listens for the metrics of all of them; a port in use
        // is found before the data directory gains a certificate
        const at = listener(config.host, config.port, config.ingress?.socket);
        await (await import('./commands/workers.js')).probePort(at.host, at.port);
        const { prepareGateway } = await import('./commands/gateway-primary.js');
        const shared = await prepareGateway(config);
        return supervise(at, config.workers, shared.env, shared.close, shared.tls);
      }
      const { startGateway } = await import('./commands/gateway.js');
      const gateway = await startGateway(config, { tls: await workerTls() });
      onSignals(() => gateway.close());
      return -1;
    }
    case 'decide': {
      if (wantsHelp(rest)) return io.out(DECIDE_HELP), 0;
      const config = decideConfig(rest, process.env);
      if (config.workers > 1 && cluster.isPrimary) {
        // the primary listens for the metrics of all workers, and clears a stale socket
        const { prepareGateway } = await import('./commands/gateway-primary.js');
        const shared = await prepareGateway(config);
        return supervise(listener(config.host, config.port, config.ingress.socket), config.workers, shared.env, shared.close);
      }
      const { startDecisionService } = await import('./commands/decide.js');
      const service = await startDecisionService(config);
      onSignals(() => service.close());
      return -1;
    }
    case 'verify': {
      if (wantsHelp(rest)) return io.out(VERIFY_HELP), 0;
      const config = verifyConfig(rest, process.env);
      const { runVerify } = await import('./commands/verify.js');
      return runVerify(config, io.out);
    }
    case 'backup':
    case 'restore': {
      const backup = await import('./commands/backup.js');
      if (wantsHelp(rest)) return io.out(command === 'backup' ? backup.BACKUP_HELP : backup.RESTORE_HELP), 0;
      return command === 'backup' ? backup.runBackup(rest, io) : backup.runRestore(rest, io);
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
  if (err instanceof ApiError || err instanceof ConfigError || err instanceof StoreMissing || err instanceof StoreTooNew) return { message: err.message, code: 2 };
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
