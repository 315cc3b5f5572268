// Consistency as users run certgate (issue 18): `serve` with its default worker count on SQLite, and two `serve`
// replicas (default workers each) on one PostgreSQL, driven through the official `openai` SDK by clients whose
// connections land on different workers and, on PostgreSQL, alternate between the replicas; a worker is killed
// now and then. Two things are checked:
// - the figures: create-then-read, activate-then-list and deactivate-then-list, each read made at once by
//   another client than the write: 0 misses;
// - the whole history, with observers reading concurrently: every read reflects every write acknowledged before
//   it began (and nothing not yet written), and no acknowledged write is lost.
// CERTGATE_CONSISTENCY_SEQUENCES sets the sequences per shape (CI: 40; the figure: 1000).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { Agent } from 'undici';
import { engines, POSTGRES_URL } from '../support/engines.js';
import { makeCa } from '../support/pki.js';
import { childrenOf, spawnCertgate, storeArgs, type CertgateProcess } from '../support/processes.js';
import { ADMIN_KEY } from '../support/server.js';

const SEQUENCES = Number(process.env.CERTGATE_CONSISTENCY_SEQUENCES ?? 40);
/** concurrent writers, each with a project of its own to toggle */
const OWNERS = 4;
/** concurrent readers of everything the owners have acknowledged */
const OBSERVERS = 2;
/** clients (each its own connection pool), spread over the replicas */
const CLIENTS = 6;

/** How long a process has run, in seconds (from /proc: its start time in clock ticks since boot). */
function ageSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    const started = Number(fields[19]) / 100; // USER_HZ is 100 on Linux
    return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) - started;
  } catch {
    return 0;
  }
}

/** A value written, from the first attempt to the acknowledgement (retried until acknowledged). */
interface Write {
  readonly active: boolean;
  readonly start: number;
  readonly end: number;
}

interface Read {
  readonly project: string;
  readonly active: boolean;
  readonly start: number;
  readonly end: number;
}

interface Misses {
  createThenRead: number;
  activateThenList: number;
  deactivateThenList: number;
}

const now = () => performance.now();

/** Retries what failed because a worker was killed under it (no response); anything with a status is an answer. */
async function untilAnswered<T>(attempt: () => Promise<T>): Promise<T> {
  const start = now();
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (err instanceof OpenAI.APIError && err.status !== undefined) throw err;
      if (now() - start > 15_000) throw err; // a killed worker is replaced within a second or two
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function isActive(client: OpenAI, project: string, certificate: string): Promise<boolean> {
  const page = await client.admin.organization.projects.certificates.list(project, { limit: 100 });
  const found = page.data.find((c) => c.id === certificate);
  assert.ok(found, `certificate ${certificate} missing from project ${project}'s list`);
  return found.active === true;
}

/** Runs the workload; a failure carries the end of each process's log (a killed worker's replacement, say). */
async function exercise(urls: string[], primaries: CertgateProcess[]): Promise<void> {
  try {
    await workload(urls, primaries);
  } catch (err) {
    const logs = primaries.map((p, i) => `--- replica ${i + 1} (${p.url}) ---\n${p.output().slice(-3000)}`).join('\n');
    throw new Error(`${(err as Error).message}\n${logs}`, { cause: err });
  }
}

async function workload(urls: string[], primaries: CertgateProcess[]): Promise<void> {
  const agents = Array.from({ length: CLIENTS }, () => new Agent({ keepAliveTimeout: 10_000 }));
  const clients = agents.map(
    (dispatcher, i) => // a request caught by a worker's death may get no answer at all: after 5 s it is asked again, as a client with a timeout would
    new OpenAI({ adminAPIKey: ADMIN_KEY, baseURL: `${urls[i % urls.length]}/v1`, maxRetries: 0, timeout: 5_000, fetchOptions: { dispatcher } as never }),
  );
  let turn = 0;
  /** the next client in turn: a read right after a write goes to another client (another connection; on PostgreSQL, the other replica) */
  const next = () => clients[turn++ % clients.length]!;
  const misses: Misses = { createThenRead: 0, activateThenList: 0, deactivateThenList: 0 };
  const ca = await makeCa({ name: 'consistency' });
  const certificate = (await clients[0]!.admin.organization.certificates.create({ certificate: ca.pem })).id;

  const created = new Map<string, number>(); // project id → when its creation was acknowledged
  const owned = await Promise.all(Array.from({ length: OWNERS }, async (_, i) => (await clients[i % clients.length]!.admin.organization.projects.create({ name: `owner ${i}` })).id));
  const writes = new Map<string, Write[]>(owned.map((p) => [p, []]));
  const reads: Read[] = [];
  const failures: string[] = [];

  let kills = 0;
  let running = true;
  const killer = (async () => {
    while (running) {
      // now and then: long enough apart that the replacement of the last one listens again first
      await new Promise((r) => setTimeout(r, (kills === 0 ? 200 : 1000) + Math.random() * 1500));
      if (!running) break;
      const primary = primaries[Math.floor(Math.random() * primaries.length)]!;
      const workers = childrenOf(primary.child.pid!);
      // one worker at a time, and only once every worker has had time to start: the others go on serving while it is
      // replaced (killing replacements before they listen would test node:cluster's back-off, not certgate)
      if (workers.length < 2 || workers.some((pid) => ageSeconds(pid) < 3)) continue;
      const victim = workers[Math.floor(Math.random() * workers.length)]!;
      try {
        process.kill(victim, 'SIGKILL');
        kills++;
      } catch {
        /* already gone */
      }
    }
  })();

  const write = async (project: string, active: boolean) => {
    const start = now();
    await untilAnswered(() => (active ? next().admin.organization.projects.certificates.activate(project, { certificate_ids: [certificate] }) : next().admin.organization.projects.certificates.deactivate(project, { certificate_ids: [certificate] })));
    writes.get(project)!.push({ active, start, end: now() });
  };
  const read = async (project: string): Promise<boolean> => {
    for (;;) {
      const start = now();
      try {
        const active = await isActive(next(), project, certificate);
        reads.push({ project, active, start, end: now() });
        return active;
      } catch (err) {
        if (err instanceof OpenAI.APIError && err.status !== undefined) throw err;
        await new Promise((r) => setTimeout(r, 20)); // killed under it: read again (a new read, begun later)
      }
    }
  };

  let done = 0;
  const owners = owned.map(async (project) => {
    while (done < SEQUENCES || kills === 0) {
      done++;
      // create, then read at once elsewhere
      const made = await untilAnswered(() => next().admin.organization.projects.create({ name: `sequence ${done}` }));
      created.set(made.id, now());
      const found = await untilAnswered(() => next().admin.organization.projects.retrieve(made.id)).then(
        (p) => p.id === made.id,
        (err) => (err instanceof OpenAI.NotFoundError ? false : Promise.reject(err)),
      );
      if (!found) misses.createThenRead++;
      // activate, then list at once elsewhere; deactivate, then list
      await write(project, true);
      if (!(await read(project))) misses.activateThenList++;
      await write(project, false);
      if (await read(project)) misses.deactivateThenList++;
    }
  });
  const observers = Array.from({ length: OBSERVERS }, async () => {
    while (done < SEQUENCES || kills === 0) {
      const project = owned[Math.floor(Math.random() * owned.length)]!;
      await read(project);
      const ids = [...created.keys()];
      const id = ids[Math.floor(Math.random() * ids.length)];
      if (id === undefined) continue;
      const start = now();
      await untilAnswered(() => next().admin.organization.projects.retrieve(id)).catch((err) => {
        failures.push(`project ${id}, acknowledged ${(start - created.get(id)!).toFixed(1)} ms before a read began, was answered ${err.status ?? err.message}`);
      });
    }
  });
  try {
    await Promise.all([...owners, ...observers]);
  } finally {
    running = false;
    await killer;
  }

  // the whole history: each read saw the last write acknowledged before it began, or one that overlapped it
  for (const r of reads) {
    const history = writes.get(r.project)!;
    const before = history.filter((w) => w.end < r.start).at(-1);
    const allowed = new Set([before ? before.active : false, ...history.filter((w) => w.start < r.end && w.end >= r.start).map((w) => w.active)]);
    if (!allowed.has(r.active)) failures.push(`a read of project ${r.project} saw active=${r.active}; writes acknowledged before it began say ${before?.active}`);
  }
  // nothing acknowledged is lost: every project and each owner's last write, asked of every client once the kills stop
  for (const client of clients) {
    for (const project of owned) {
      const last = writes.get(project)!.at(-1)!;
      assert.equal(await untilAnswered(() => isActive(client, project, certificate)), last.active, 'the last acknowledged activation');
    }
  }
  for (const id of created.keys()) await untilAnswered(() => next().admin.organization.projects.retrieve(id));

  const total = misses.createThenRead + misses.activateThenList + misses.deactivateThenList;
  console.log(`# ${done} sequences over ${urls.length} replica(s), ${reads.length} list reads, ${kills} workers killed; misses: ${JSON.stringify(misses)}`);
  assert.deepEqual(failures, [], 'reads that missed an acknowledged write');
  assert.equal(total, 0, `misses: ${JSON.stringify(misses)}`);
  await Promise.all(agents.map((a) => a.close()));
}

const env = { CERTGATE_WORKERS: undefined };

/**
 * A port of its own, as an operator gives one: with --port 0, node:cluster picks a new random port when every
 * worker that listened on the old one has died, and the clients would lose the replica.
 */
async function freePort(): Promise<string[]> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return ['--port', String(port)];
}

describe('read-after-write as users run it', () => {
  describe('npm start defaults: one serve, one worker per core, on SQLite', () => {
    const sqlite = engines.find((e) => e.name === 'sqlite')!;
    let place: Awaited<ReturnType<typeof sqlite.fresh>>;
    let serve: CertgateProcess;
    before(async () => {
      place = await sqlite.fresh();
      serve = await spawnCertgate('serve', [...storeArgs(place), ...(await freePort())], env);
    });
    after(async () => {
      await serve?.stop();
      await place?.drop();
    });
    it(`${SEQUENCES} create/activate/deactivate-then-read sequences and concurrent readers miss nothing while workers are killed`, async () => {
      assert.ok(childrenOf(serve.child.pid!).length >= 2, 'the default runs a worker per core (2 or more here)');
      await exercise([serve.url], [serve]);
    });
  });

  describe('two serve replicas on one PostgreSQL', { skip: POSTGRES_URL ? false : 'CERTGATE_TEST_DATABASE_URL is not set' }, () => {
    const postgres = engines.find((e) => e.name === 'postgres');
    let place: Awaited<ReturnType<NonNullable<typeof postgres>['fresh']>>;
    const replicas: CertgateProcess[] = [];
    before(async () => {
      place = await postgres!.fresh();
      replicas.push(await spawnCertgate('serve', [...storeArgs(place), ...(await freePort())], env));
      replicas.push(await spawnCertgate('serve', [...storeArgs(place), ...(await freePort())], env));
    });
    after(async () => {
      for (const r of replicas) await r.stop();
      await place?.drop();
    });
    it(`${SEQUENCES} sequences alternating between the replicas, with concurrent readers, miss nothing while workers are killed`, async () => {
      await exercise(
        replicas.map((r) => r.url),
        replicas,
      );
    });
  });
});
