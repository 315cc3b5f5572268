import type { Runtime } from '../runtime.js';

/** Events deleted per transaction: each batch is short, so writes and reads interleave with a long prune. */
export const PRUNE_BATCH = 500;
const DAY_S = 24 * 60 * 60;

/** The part of a pino logger retention reports to. */
export interface RetentionLog {
  info(entry: object, msg: string): void;
  warn(entry: object, msg: string): void;
}

/**
 * Deletes every audit event older than `days` days, organization by organization, in batches of PRUNE_BATCH that
 * each yield the event loop before the next. Returns how many were deleted. A store that cannot be reached is
 * logged and left for the next run.
 */
export async function pruneAuditLog(rt: Runtime, days: number, log: RetentionLog): Promise<number> {
  const olderThan = rt.nowSeconds() - days * DAY_S;
  let deleted = 0;
  try {
    for (const organizationId of await rt.store.organizationIds()) {
      for (;;) {
        const n = await rt.store.pruneAuditLogs(organizationId, olderThan, PRUNE_BATCH);
        deleted += n;
        if (n < PRUNE_BATCH) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  } catch (err) {
    log.warn({ error: (err as Error).message, deleted }, 'audit retention stopped: the store is unavailable; the next run goes on');
    return deleted;
  }
  if (deleted > 0) log.info({ deleted, older_than: new Date(olderThan * 1000).toISOString(), retention_days: days }, 'audit events past retention deleted');
  return deleted;
}

/** Prunes now, then every `everyMs`; the timer never keeps the process alive. Returns what stops it (after a run in progress). */
export function startAuditRetention(rt: Runtime, days: number, log: RetentionLog, everyMs = 60 * 60 * 1000): () => Promise<void> {
  let running: Promise<number> | undefined;
  const run = () => {
    running ??= pruneAuditLog(rt, days, log).finally(() => (running = undefined));
  };
  run();
  const timer = setInterval(run, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
