import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import OpenAI from 'openai';
import { buildApp } from '../../src/api/app.js';
import { seedAdminKey } from '../../src/commands/serve.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import type { Store } from '../../src/store/store.js';

export const ADMIN_KEY = 'sk-admin-test-0123456789abcdefghijklmnop';

export function tempDir(prefix = 'certgate-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface TestServer {
  readonly url: string;
  readonly baseURL: string;
  /** the SQLite data directory ('' on PostgreSQL) */
  readonly dataDir: string;
  readonly store: Store;
  readonly rt: Runtime;
  readonly sdk: OpenAI;
  /** the clock the server reads; tests may move it */
  readonly clock: { offsetMs: number };
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: any; text: string }>;
  close(): Promise<void>;
}

/**
 * A real admin API server on a loopback port, over a real store: SQLite in a
 * data directory (new unless given), or PostgreSQL when databaseUrl is set.
 */
export async function startTestServer(options: { dataDir?: string; databaseUrl?: string; adminKey?: string } = {}): Promise<TestServer> {
  const own = options.dataDir || options.databaseUrl ? undefined : tempDir();
  const dataDir = options.dataDir ?? own?.path ?? '';
  const clock = { offsetMs: 0 };
  const rt = await openRuntime({ dataDir, databaseUrl: options.databaseUrl }, { clock: () => new Date(Date.now() + clock.offsetMs) });
  const adminKey = options.adminKey ?? ADMIN_KEY;
  await seedAdminKey(rt, adminKey, () => undefined);
  const app = await buildApp({ rt, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const baseURL = `${url}/v1`;
  const sdk = new OpenAI({ adminAPIKey: adminKey, baseURL, maxRetries: 0 });
  return {
    url,
    baseURL,
    dataDir,
    store: rt.store,
    rt,
    sdk,
    clock,
    async request(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { authorization: `Bearer ${adminKey}`, ...headers } };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
      }
      const res = await fetch(url + path, init);
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    async close() {
      await app.close();
      await rt.close();
      own?.remove();
    },
  };
}

/**
 * A test server on a fresh store of one engine for a whole describe block: started in `before`, closed and its
 * store dropped in `after`. Read `.server` inside the tests.
 */
export function serverOnEngine(engine: { fresh(): Promise<{ dataDir: string; databaseUrl?: string; drop(): Promise<void> }> }): { server: TestServer } {
  const holder = {} as { server: TestServer };
  let drop: () => Promise<void> = async () => undefined;
  before(async () => {
    const place = await engine.fresh();
    drop = place.drop;
    holder.server = await startTestServer(place);
  });
  after(async () => {
    await holder.server?.close();
    await drop();
  });
  return holder;
}
