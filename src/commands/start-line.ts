import cluster from 'node:cluster';
import { packageVersion } from '../package.js';
import { describeStore } from '../store/open.js';

/** What one started process says of itself, once: its version, store, address and place among the workers (never a secret). */
export function startLine(config: { dataDir: string; databaseUrl: string | undefined; workers: number }, url: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: packageVersion(),
    node: process.version,
    store: describeStore(config),
    url,
    ...more,
    workers: config.workers,
    worker: cluster.isWorker ? cluster.worker!.id : null,
    pid: process.pid,
  };
}
