import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry, type RegistryContentType } from 'prom-client';
import { METRICS_REQUEST, METRICS_RESPONSE } from './roles.js';

// The metrics of a deployment with --workers: each worker's registry joins the cluster's, and the primary
// aggregates them (prom-client's AggregatorRegistry asks each worker over IPC). A worker asked for /metrics
// asks the primary in turn, so any worker answers for all of them.

export { isLead, isWorker, LEAD_ENV, METRICS_REQUEST, METRICS_RESPONSE } from './roles.js';

/** In a worker: its registry joins the cluster's metrics, which the primary aggregates. */
export function shareMetrics(registry: Registry): void {
  if (!cluster.isWorker) return;
  new AggregatorRegistry(); // its constructor is what makes a worker answer the primary's requests
  AggregatorRegistry.setRegistries([registry]);
}

let nextRequest = 0;

/** The metrics of every worker, aggregated by the primary; in a single process, the registry's own. */
export function clusterMetrics(registry: Registry): Promise<string> {
  if (!cluster.isWorker || !process.send) return registry.metrics();
  const id = ++nextRequest;
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type?: string; id?: number; text?: string; error?: string }) => {
      if (message?.type !== METRICS_RESPONSE || message.id !== id) return;
      process.off('message', onMessage);
      clearTimeout(timer);
      if (message.error !== undefined) reject(new Error(message.error));
      else resolve(message.text ?? '');
    };
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('the primary did not answer for the metrics within 5 s'));
    }, 5000);
    process.on('message', onMessage);
    process.send!({ type: METRICS_REQUEST, id });
  });
}

/** In the primary: every worker's metrics, aggregated (for a worker's /metrics, and the gateway's metrics listener). */
export function aggregatedSource(): Registry {
  const aggregator = new AggregatorRegistry();
  return Object.assign(Object.create(aggregator) as Registry, { metrics: () => aggregated(aggregator) });
}

/** The aggregator's text ends without the final newline the exposition format asks for. */
async function aggregated(aggregator: AggregatorRegistry<RegistryContentType>): Promise<string> {
  const text = await aggregator.clusterMetrics();
  return text.endsWith('\n') ? text : `${text}\n`;
}
