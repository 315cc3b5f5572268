import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:net';
import { ConfigError } from '../config.js';
import { listenError } from '../http/listen-error.js';
import { LEAD_ENV, METRICS_REQUEST, METRICS_RESPONSE } from '../metrics/roles.js';

// --workers N: one primary process that holds no store and serves nothing, and N workers that each run the
// whole server (own runtime, snapshots and change feed) on the port they share through node:cluster. The
// primary replaces a worker that dies, drains them all on SIGTERM, and answers the workers' requests for the
// metrics of all of them (prom-client's AggregatorRegistry asks each worker over IPC).

/** A gateway worker asks its primary for the certificate and key the primary made; the answer goes to it alone. */
export const TLS_REQUEST = 'certgate:tls-request';
export const TLS_RESPONSE = 'certgate:tls-response';
export interface WorkerTls {
  readonly cert: string;
  readonly key: string;
}

/** A worker that dies within this long of its start is replaced only after it: no tight crash loop. */
const CRASH_BACKOFF_MS = 1000;

export interface Supervisor {
  /** every worker's pid, as of now */
  pids(): number[];
  close(): Promise<void>;
}

/** In the primary: starts `count` workers of this very command and resolves once each listens. */
export function superviseWorkers(count: number, log: (line: string) => void, env: Record<string, string> = {}, tls?: WorkerTls): Promise<Supervisor> {
  // prom-client is loaded when a worker first asks for the metrics, not before: a primary stays small
  let clusterMetrics: Promise<() => Promise<string>> | undefined;
  const metricsOfAll = () =>
    (clusterMetrics ??= import('../metrics/cluster.js').then(({ aggregatedSource }) => {
      const source = aggregatedSource();
      return () => source.metrics();
    }));
  let stopping = false;
  const lead = new Set<Worker>();

  cluster.on('message', (worker, message: { type?: string; id?: number }) => {
    if (message?.type === TLS_REQUEST) {
      if (worker.isConnected()) worker.send(tls ? { type: TLS_RESPONSE, cert: tls.cert, key: tls.key } : { type: TLS_RESPONSE });
      return;
    }
    if (message?.type !== METRICS_REQUEST) return;
    metricsOfAll().then((collect) => collect()).then(
      (text) => worker.isConnected() && worker.send({ type: METRICS_RESPONSE, id: message.id, text }),
      (err: Error) => worker.isConnected() && worker.send({ type: METRICS_RESPONSE, id: message.id, error: err.message }),
    );
  });

  const fork = (asLead: boolean): Worker => {
    const worker = cluster.fork(asLead ? { ...env, [LEAD_ENV]: '1' } : env);
    if (asLead) lead.add(worker);
    const started = Date.now();
    worker.once('exit', (code, signal) => {
      const wasLead = lead.delete(worker);
      if (stopping) return;
      log(`certgate: worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`);
      const wait = Date.now() - started < CRASH_BACKOFF_MS ? CRASH_BACKOFF_MS : 0;
      setTimeout(() => !stopping && fork(wasLead), wait).unref();
    });
    return worker;
  };

  return new Promise((resolve, reject) => {
    let listening = 0;
    const onListening = () => {
      if (++listening < count) return;
      cluster.off('listening', onListening);
      cluster.off('exit', onEarlyExit);
      resolve({
        pids: () => Object.values(cluster.workers ?? {}).flatMap((w) => (w?.process.pid ? [w.process.pid] : [])),
        async close() {
          stopping = true;
          const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
          await Promise.all(
            workers.map(
              (w) =>
                new Promise<void>((done) => {
                  if (w.isDead()) return done();
                  w.once('exit', () => done());
                  w.process.kill('SIGTERM'); // each drains what is in flight, then exits
                }),
            ),
          );
        },
      });
    };
    // before every worker listens, a worker that fails on its own (an exit code, not a signal) means the
    // configuration cannot work (a port in use, say); one killed meanwhile is just replaced
    const onEarlyExit = (_worker: Worker, code: number, signal: string | null) => {
      if (signal !== null || code === 0) return;
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      reject(new WorkerStartFailed(code));
    };
    cluster.on('listening', onListening);
    cluster.on('exit', onEarlyExit);
    for (let i = 0; i < count; i++) fork(i === 0);
  });
}

/** In a gateway worker whose primary made the certificate: asks for it over IPC and waits for the answer. */
export function tlsFromPrimary(timeoutMs = 10_000): Promise<WorkerTls> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('the primary did not hand over the TLS certificate'));
    }, timeoutMs);
    const onMessage = (message: { type?: string; cert?: string; key?: string }) => {
      if (message?.type !== TLS_RESPONSE) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      if (message.cert && message.key) resolve({ cert: message.cert, key: message.key });
      else reject(new Error('the primary has no TLS certificate to hand over'));
    };
    process.on('message', onMessage);
    process.send!({ type: TLS_REQUEST });
  });
}

/** A worker could not start; it has said why on the shared stderr. */
export class WorkerStartFailed extends ConfigError {
  constructor(readonly code: number) {
    super(`a worker exited before it could listen (exit code ${code}); its reason is above`);
  }
}

/** Fails as a single process would when the port cannot be had, before any worker is started (which would each say so). */
export async function probePort(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenError(err, host, port)));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

