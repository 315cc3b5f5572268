// bench/growth: does a store with a long history cost more? One store, grown in steps by direct SQL inserts to 10k,
// 100k and 1M audit events (ids and times growing with time, as real ones: spread over the past year, each step newer
// than the last) and up to 10,000 client sightings (seen within the last week, as the gateway keeps them). At each size
// (and on the empty store first), a fresh `certgate serve` and `certgate gateway` on it:
//   1. an idle window: one /healthz per server every BENCH_PROBE_MS on a kept-alive connection, and the event-loop
//      delay each process saw over the window (prom-client's nodejs_eventloop_lag_* from /metrics, read at the start of
//      the window, which resets them, and at its end);
//   2. admin list under load: GET /v1/organization/certificates and GET /v1/organization/audit_logs?limit=20;
//   3. the gateway under load: kept-alive mTLS GET /v1/models, as bench/gateway.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Client } from 'undici';
import { DEFAULT_ORGANIZATION_ID } from '../../src/domain/model.js';
import { SQLITE_FILE } from '../../src/store/sqlite.js';
import { makeCa, makeClient } from '../../test/support/pki.js';
import { type Bar, type Panel } from '../lib/chart.js';
import {
  cpuWindow,
  envNumber,
  freePort,
  int,
  log,
  machine,
  measureSteady,
  percentiles,
  pinSelf,
  placement,
  privateTempDir,
  Processes,
  ratio,
  sleep,
  waitForQuiet,
  WORKERS,
  type SteadyMeasured,
} from '../lib/harness.js';
import type { LoadSpec } from '../lib/loadgen.js';
import { machineTable, measuredCommit, remeasured, resultsDir, sharedMachineNote, writeResults } from '../lib/report.js';
import { serverTls, startGateway, startServe, startUpstream } from '../lib/servers.js';
import { freshPlace, openSeeder, type Engine, type Place } from '../lib/stores.js';

const settings = {
  sizes: (process.env.BENCH_SIZES ?? '0,10000,100000,1000000').split(',').map(Number),
  sightings: envNumber('BENCH_SIGHTINGS', 10_000),
  windowMs: envNumber('BENCH_WINDOW_S', 20) * 1000,
  probeMs: envNumber('BENCH_PROBE_MS', 25),
  warmupMs: envNumber('BENCH_WARMUP_S', 1) * 1000,
  durationMs: envNumber('BENCH_DURATION_S', 4) * 1000,
  connections: envNumber('BENCH_CONNECTIONS', 32),
  engines: (process.env.BENCH_ENGINES ?? 'sqlite').split(',').filter(Boolean) as Engine[],
  workers: WORKERS,
};
for (const e of settings.engines) if (e !== 'sqlite' && e !== 'postgres') throw new Error(`BENCH_ENGINES: unknown engine ${e}`);
const OFFICIAL = !process.env.BENCH_SIZES && !process.env.BENCH_ENGINES && !process.env.BENCH_WINDOW_S;
const RESULTS = resultsDir(OFFICIAL);
/** prom-client samples the loop with a 10 ms timer: an idle loop reads 10 ms; the delay is what exceeds it */
const ELD_RESOLUTION_MS = 10;
const YEAR_MS = 365 * 24 * 3600 * 1000;
const LISTS = { certificates: '/v1/organization/certificates', audit_logs: '/v1/organization/audit_logs?limit=20' } as const;

interface Probe {
  readonly latencyMs: ReturnType<typeof percentiles>;
  readonly failures: number;
  /** event-loop delay over the window beyond the 10 ms sampling timer, ms */
  readonly loopDelayMs: { readonly p99: number; readonly max: number; readonly mean: number };
}

interface SizeResult {
  readonly engine: Engine;
  readonly auditEvents: number;
  readonly sightings: number;
  readonly growSeconds: number;
  readonly storeBytes: number | null;
  readonly healthz: { readonly serve: Probe; readonly gateway: Probe; readonly referenceLoopDelayMs: Probe['loopDelayMs'] };
  readonly foreignCpuPercentIdle: number;
  readonly load: { readonly certificates: SteadyMeasured; readonly audit_logs: SteadyMeasured; readonly gateway: SteadyMeasured };
}

// ---- ids as certgate makes them (src/domain/ids.ts): 48-bit ms time, 80 random bits, Crockford base32 ----
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
function idAt(prefix: string, ms: number): string {
  let value = (BigInt(ms) << 80n) | BigInt('0x' + randomBytes(10).toString('hex'));
  let out = '';
  for (let i = 0; i < 26; i++) {
    out = ALPHABET[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return `${prefix}_${out}`;
}

interface Template {
  readonly entry: Record<string, unknown>;
  readonly actorId: string | null;
  readonly projectId: string | null;
  readonly resources: readonly string[];
}

/** the events seeding wrote through the API, as templates: real bodies, their resources the ids they name */
function templates(entries: Record<string, any>[]): Template[] {
  return entries.map((entry) => {
    const resources = new Set<string>();
    const walk = (v: unknown) => {
      if (typeof v === 'string' && /^(cert|proj|svc_acct|key)_[0-9a-z]{26}$/.test(v)) resources.add(v);
      else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
    };
    for (const [k, v] of Object.entries(entry)) if (k !== 'id' && k !== 'actor') walk(v);
    return { entry, actorId: entry.actor?.api_key?.id ?? null, projectId: entry.project?.id ?? null, resources: [...resources] };
  });
}

interface Row {
  readonly id: string;
  readonly type: string;
  readonly effectiveAt: number;
  readonly actorId: string | null;
  readonly projectId: string | null;
  readonly body: string;
  readonly resources: readonly string[];
}

function* events(from: number, to: number, total: number, base: number, tpl: readonly Template[]): Generator<Row> {
  const step = YEAR_MS / total;
  for (let i = from; i < to; i++) {
    const t = tpl[i % tpl.length]!;
    const ms = Math.floor(base + i * step);
    const id = idAt('audit_log', ms);
    const effectiveAt = Math.floor(ms / 1000);
    yield { id, type: t.entry.type as string, effectiveAt, actorId: t.actorId, projectId: t.projectId, body: JSON.stringify({ ...t.entry, id, effective_at: effectiveAt }), resources: t.resources };
  }
}

interface Sighting {
  readonly project: string;
  readonly account: string;
  readonly fingerprint: string;
  readonly subject: string;
  readonly chain: string;
  readonly certificateId: string;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly requests: number;
}

function* sightings(from: number, to: number, o: { project: string; account: string; chain: string; certificateId: string }): Generator<Sighting> {
  const now = Math.floor(Date.now() / 1000);
  for (let i = from; i < to; i++) {
    const fingerprint = createHash('sha256').update(`bench client ${i}`).digest('hex').toUpperCase().match(/../g)!.join(':');
    const lastSeen = now - Math.floor(Math.random() * 6 * 24 * 3600);
    yield { ...o, fingerprint, subject: `CN=bench client ${i}, O=Example`, firstSeen: lastSeen - 3600, lastSeen, requests: 1 + (i % 1000) };
  }
}

/** Appends rows to the stopped store, straight into its tables. */
async function grow(place: Place, rows: Iterable<Row>, seen: Iterable<Sighting>): Promise<void> {
  const org = DEFAULT_ORGANIZATION_ID;
  if (place.engine === 'sqlite') {
    const db = new BetterSqlite3(join(place.dataDir, SQLITE_FILE));
    try {
      const event = db.prepare('INSERT INTO audit_logs (id, organization_id, type, effective_at, actor_id, project_id, body) VALUES (?, ?, ?, ?, ?, ?, ?)');
      const resource = db.prepare('INSERT INTO audit_log_resources (audit_log_id, resource_id) VALUES (?, ?)');
      const client = db.prepare(
        'INSERT INTO observed_clients (organization_id, project_id, service_account_id, fingerprint, subject, chain, certificate_id, first_seen, last_seen, requests) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      let batch: Row[] = [];
      const flush = db.transaction((list: Row[]) => {
        for (const r of list) {
          event.run(r.id, org, r.type, r.effectiveAt, r.actorId, r.projectId, r.body);
          for (const res of r.resources) resource.run(r.id, res);
        }
      });
      for (const r of rows) {
        batch.push(r);
        if (batch.length === 20_000) (flush(batch), (batch = []));
      }
      flush(batch);
      db.transaction(() => {
        for (const s of seen) client.run(org, s.project, s.account, s.fingerprint, s.subject, s.chain, s.certificateId, s.firstSeen, s.lastSeen, s.requests);
      })();
    } finally {
      db.close();
    }
    return;
  }
  const db = new pg.Client({ connectionString: place.databaseUrl });
  await db.connect();
  try {
    let batch: Row[] = [];
    const flush = async (list: Row[]) => {
      if (!list.length) return;
      await db.query(
        `INSERT INTO audit_logs (id, organization_id, type, effective_at, actor_id, project_id, body)
         SELECT id, $1, type, effective_at, actor_id, project_id, body FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[]) AS t(id, type, effective_at, actor_id, project_id, body)`,
        [org, list.map((r) => r.id), list.map((r) => r.type), list.map((r) => r.effectiveAt), list.map((r) => r.actorId), list.map((r) => r.projectId), list.map((r) => r.body)],
      );
      const pairs = list.flatMap((r) => r.resources.map((res) => [r.id, res] as const));
      await db.query('INSERT INTO audit_log_resources (audit_log_id, resource_id) SELECT * FROM unnest($1::text[], $2::text[])', [pairs.map((p) => p[0]), pairs.map((p) => p[1])]);
    };
    for (const r of rows) {
      batch.push(r);
      if (batch.length === 5_000) (await flush(batch), (batch = []));
    }
    await flush(batch);
    const list = [...seen];
    if (list.length) {
      await db.query(
        `INSERT INTO observed_clients (organization_id, project_id, service_account_id, fingerprint, subject, chain, certificate_id, first_seen, last_seen, requests)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[])`,
        [org, ...(['project', 'account', 'fingerprint', 'subject', 'chain', 'certificateId', 'firstSeen', 'lastSeen', 'requests'] as const).map((k) => list.map((s) => s[k]))],
      );
    }
    await db.query('ANALYZE');
  } finally {
    await db.end();
  }
}

// ---- measuring ----

/**
 * A bare Node process on the servers' core doing nothing but watch its own event loop (the same 10 ms timer): a stall
 * it sees too is the machine's (another process holding the core, the hypervisor), not certgate's.
 */
class ReferenceLoop {
  private readonly child;
  private readonly lines;
  constructor(procs: Processes, cpus: string | undefined) {
    const code =
      "const h=require('node:perf_hooks').monitorEventLoopDelay({resolution:10});h.enable();" +
      "require('node:readline').createInterface({input:process.stdin}).on('line',()=>{process.stdout.write(JSON.stringify({p99:h.percentile(99)/1e6,max:h.max/1e6,mean:h.mean/1e6})+'\\n');h.reset()})";
    const [cmd, argv] = cpus ? ['taskset', ['-c', cpus, process.execPath, '-e', code]] : [process.execPath, ['-e', code]];
    this.child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
    procs.track('reference loop', this.child);
    this.lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }
  /** the delay since the last read, beyond the 10 ms timer (ms); resets it */
  async read(): Promise<{ p99: number; max: number; mean: number }> {
    this.child.stdin!.write('read\n');
    const { value } = await this.lines.next();
    const v = JSON.parse(String(value)) as { p99: number; max: number; mean: number };
    const r = (x: number) => Math.round(Math.max(0, x - ELD_RESOLUTION_MS) * 100) / 100;
    return { p99: r(v.p99), max: r(v.max), mean: r(v.mean) };
  }
}

/** the nodejs_eventloop_lag_* gauges of a /metrics text, in ms */
function loopLag(text: string): { p99: number; max: number; mean: number } {
  const read = (name: string) => {
    const m = new RegExp(`^nodejs_eventloop_lag_${name}_seconds(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
    return m ? Math.max(0, Number(m[1]) * 1000 - ELD_RESOLUTION_MS) : NaN;
  };
  const r = (x: number) => Math.round(x * 100) / 100;
  return { p99: r(read('p99')), max: r(read('max')), mean: r(read('mean')) };
}

async function idleWindow(o: {
  servePort: number;
  gatewayPort: number;
  metricsPort: number;
  adminKey: string;
  ca: string;
  reference: ReferenceLoop;
}): Promise<{ serve: Probe; gateway: Probe; referenceLoopDelayMs: Probe['loopDelayMs'] }> {
  const serve = new Client(`http://127.0.0.1:${o.servePort}`, { pipelining: 1 });
  const gateway = new Client(`https://127.0.0.1:${o.gatewayPort}`, { connect: { ca: o.ca, servername: 'localhost' }, pipelining: 1 });
  const metrics = new Client(`http://127.0.0.1:${o.metricsPort}`);
  const scrape = async () => {
    const [a, b] = await Promise.all([
      serve.request({ method: 'GET', path: '/metrics', headers: { authorization: `Bearer ${o.adminKey}` } }).then((r) => r.body.text()),
      metrics.request({ method: 'GET', path: '/metrics' }).then((r) => r.body.text()),
    ]);
    return { serve: a, gateway: b };
  };
  try {
    await Promise.all([scrape(), o.reference.read()]); // resets the histograms: what follows is the window's
    const probe = async (client: Client): Promise<{ ms: number[]; failures: number }> => {
      const out: number[] = [];
      let failures = 0;
      const end = performance.now() + settings.windowMs;
      while (performance.now() < end) {
        const start = performance.now();
        try {
          const res = await client.request({ method: 'GET', path: '/healthz' });
          await res.body.text();
          if (res.statusCode === 200) out.push(performance.now() - start);
          else failures++;
        } catch {
          failures++;
        }
        await sleep(Math.max(0, settings.probeMs - (performance.now() - start)) * (0.5 + Math.random()));
      }
      return { ms: out, failures };
    };
    const [s, g] = await Promise.all([probe(serve), probe(gateway)]);
    const [lag, referenceLoopDelayMs] = await Promise.all([scrape(), o.reference.read()]);
    return {
      referenceLoopDelayMs,
      serve: { latencyMs: percentiles(s.ms), failures: s.failures, loopDelayMs: loopLag(lag.serve) },
      gateway: { latencyMs: percentiles(g.ms), failures: g.failures, loopDelayMs: loopLag(lag.gateway) },
    };
  } finally {
    await Promise.all([serve.close(), gateway.close(), metrics.close()]);
  }
}

async function main(): Promise<void> {
  const place = placement();
  const described = machine();
  pinSelf(place);
  const procs = new Processes();
  const tmp = privateTempDir('certgate-bench-growth-');
  const cpus = place.pinned ? place.serverCpus : undefined;
  const results: SizeResult[] = [];
  try {
    const tls = await serverTls(tmp);
    const ca = await makeCa({ name: 'bench growth CA' });
    const client = await makeClient(ca, { subject: 'CN=bench client, O=Example' });
    writeFileSync(join(tmp, 'server.pem'), tls.cert);
    writeFileSync(join(tmp, 'client.pem'), client.pem);
    writeFileSync(join(tmp, 'client.key'), client.keyPem, { mode: 0o600 });
    const others = await Promise.all(Array.from({ length: 19 }, (_, i) => makeCa({ name: `bench growth CA ${i + 2}` })));
    const upstream = await startUpstream(procs, tmp, place.pinned ? place.clientCpus : undefined);
    const reference = new ReferenceLoop(procs, cpus);
    for (const engine of settings.engines) {
      const store = await freshPlace(engine, tmp, 'growth');
      try {
        // ---- the organization an operator has: a project and its key, 20 CAs, one active organization-wide ----
        const seeder = await openSeeder(store);
        const { projectIds, keys } = await seeder.addProjects(1);
        const projectId = projectIds[0]!;
        const accounts = await seeder.call('GET', `/v1/organization/projects/${projectId}/service_accounts`);
        const accountId = accounts.data[0].id as string;
        const caId = (await seeder.call('POST', '/v1/organization/certificates', { certificate: ca.pem, name: 'bench growth CA' })).id as string;
        for (const [i, other] of others.entries()) await seeder.call('POST', '/v1/organization/certificates', { certificate: other.pem, name: `bench growth CA ${i + 2}` });
        await seeder.call('POST', '/v1/organization/certificates/activate', { certificate_ids: [caId] });
        const seededEvents = (await seeder.call('GET', '/v1/organization/audit_logs?limit=100')).data as Record<string, any>[];
        const adminKey = seeder.adminKey;
        await seeder.close();
        const tpl = templates(seededEvents);
        log(`${engine}: seeded ${seededEvents.length} real audit events as templates`);
        const largest = Math.max(...settings.sizes);
        const base = Date.now() - YEAR_MS - 24 * 3600 * 1000; // the grown history: the year before the seeding
        const chain = Buffer.from(client.cert.rawData).toString('base64') + ',' + Buffer.from(ca.cert.rawData).toString('base64');
        let have = 0;
        let haveSightings = 0;
        for (const size of settings.sizes) {
          const wantSightings = Math.min(settings.sightings, Math.floor(size / 10));
          const t0 = performance.now();
          if (size > have || wantSightings > haveSightings) {
            await grow(store, events(have, Math.max(have, size), Math.max(largest, 1), base, tpl), sightings(haveSightings, Math.max(haveSightings, wantSightings), { project: projectId, account: accountId, chain, certificateId: caId }));
          }
          have = Math.max(have, size);
          haveSightings = Math.max(haveSightings, wantSightings);
          const growSeconds = Math.round((performance.now() - t0) / 100) / 10;
          const storeBytes = engine === 'sqlite' ? fileBytes(join(store.dataDir, SQLITE_FILE)) : await pgBytes(store);
          log(`${engine} @ ${int(size)} events, ${int(wantSightings)} sightings (grown in ${growSeconds} s, ${storeBytes === null ? '?' : (storeBytes / 2 ** 20).toFixed(0)} MiB)`);
          results.push(await measureSize(engine, size, wantSightings, growSeconds, storeBytes, { procs, reference, store, adminKey, projectKey: keys[0]!, tls, upstreamPort: upstream.port, tmp, cpus, clientCpus: place.pinned ? place.clientCpus : undefined }));
        }
      } finally {
        await store.drop();
      }
    }
  } finally {
    await procs.stopAll();
  }
  report(results, described, place.pinned);
}

function fileBytes(path: string): number | null {
  try {
    return statSync(path).size + (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0);
  } catch {
    return null;
  }
}

async function pgBytes(store: Place): Promise<number | null> {
  const db = new pg.Client({ connectionString: store.databaseUrl });
  await db.connect();
  try {
    return Number((await db.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n')).rows[0]!.n);
  } finally {
    await db.end();
  }
}

async function measureSize(
  engine: Engine,
  size: number,
  sightingCount: number,
  growSeconds: number,
  storeBytes: number | null,
  o: { procs: Processes; reference: ReferenceLoop; store: Place; adminKey: string; projectKey: string; tls: { certFile: string; keyFile: string; cert: string }; upstreamPort: number; tmp: string; cpus: string | undefined; clientCpus: string | undefined },
): Promise<SizeResult> {
  const metricsPort = await freePort();
  const serve = await startServe(o.procs, { tmp: o.tmp, name: `certgate serve (${engine}, ${size})`, storeArgs: o.store.args, adminKey: o.adminKey, cpus: o.cpus });
  const gateway = await startGateway(o.procs, {
    tmp: o.tmp,
    name: `certgate gateway (${engine}, ${size})`,
    storeArgs: o.store.args,
    upstreamPort: o.upstreamPort,
    tls: o.tls,
    cpus: o.cpus,
    extraArgs: ['--metrics-port', String(metricsPort)],
  });
  const alive = () => [serve.child, gateway.child].every((c) => c.exitCode === null && c.signalCode === null);
  try {
    await waitForQuiet(envNumber('BENCH_QUIET_WAIT_S', 30) * 1000);
    const end = cpuWindow({ serve: serve.pids, gateway: gateway.pids }, o.procs);
    const healthz = await idleWindow({ servePort: serve.port, gatewayPort: gateway.port, metricsPort, adminKey: o.adminKey, ca: o.tls.cert, reference: o.reference });
    const idle = end();
    const line = (name: string, p: Probe) =>
      `${name} /healthz p50 ${p.latencyMs.p50} p99 ${p.latencyMs.p99} max ${p.latencyMs.max} ms (n ${p.latencyMs.n}, failed ${p.failures}); loop delay p99 ${p.loopDelayMs.p99} max ${p.loopDelayMs.max} ms`;
    log(`  ${line('serve', healthz.serve)}`);
    log(`  ${line('gateway', healthz.gateway)}; others used ${idle.foreignCpuPercent}% of a core`);
    log(`  reference process on the servers' core: loop delay p99 ${healthz.referenceLoopDelayMs.p99} max ${healthz.referenceLoopDelayMs.max} ms`);
    const load = async (label: string, spec: Omit<LoadSpec, 'label' | 'host' | 'mode' | 'connections' | 'warmupMs' | 'durationMs'>, server: () => number[]) => {
      const m = await measureSteady(
        { label: `${engine} ${int(size)} ${label}`, host: '127.0.0.1', mode: 'keepalive', connections: settings.connections, warmupMs: settings.warmupMs, durationMs: settings.durationMs, ...spec },
        { cpus: o.clientCpus, watch: { server }, procs: o.procs, alive },
      );
      log(`  ${label}: ${int(m.rps)} req/s, ${int(m.rpsPerServerCore ?? NaN)} per CPU-second, p99 ${(m.latencyUs.p99 / 1000).toFixed(2)} ms, errors ${m.errors}, others ${m.foreignCpuPercent}%`);
      return m;
    };
    const admin = { authorization: `Bearer ${o.adminKey}` };
    const certificates = await load('certificates list', { port: serve.port, tls: null, path: LISTS.certificates, headers: admin }, serve.pids);
    const auditLogs = await load('audit log list', { port: serve.port, tls: null, path: LISTS.audit_logs, headers: admin }, serve.pids);
    const gw = await load(
      'gateway',
      {
        port: gateway.port,
        tls: { caFile: join(o.tmp, 'server.pem'), certFile: join(o.tmp, 'client.pem'), keyFile: join(o.tmp, 'client.key'), servername: 'localhost' },
        path: '/v1/models',
        headers: { authorization: `Bearer ${o.projectKey}` },
      },
      gateway.pids,
    );
    return { engine, auditEvents: size, sightings: sightingCount, growSeconds, storeBytes, healthz, foreignCpuPercentIdle: idle.foreignCpuPercent, load: { certificates, audit_logs: auditLogs, gateway: gw } };
  } finally {
    await o.procs.stop(gateway.child);
    await o.procs.stop(serve.child);
  }
}

function report(results: SizeResult[], m: Record<string, string | number>, pinned: boolean): void {
  const commit = measuredCommit();
  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const size = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));
  const empty = (r: SizeResult) => results.find((x) => x.engine === r.engine && x.auditEvents === Math.min(...results.filter((y) => y.engine === r.engine).map((y) => y.auditEvents)))!;
  const vsEmpty = (r: SizeResult, pick: (x: SizeResult) => number) => ratio(pick(r), pick(empty(r)));
  const perCpu = (k: keyof SizeResult['load']) => (x: SizeResult) => x.load[k].rpsPerServerCore ?? NaN;
  const holds = (r: SizeResult) =>
    (['serve', 'gateway'] as const).every((s) => r.healthz[s].latencyMs.p99 <= 20 && r.healthz[s].latencyMs.max <= 100 && r.healthz[s].failures === 0);
  const healthRows = results
    .map((r) =>
      (['serve', 'gateway'] as const)
        .map((s) => {
          const h = r.healthz[s];
          return `| ${r.engine} | ${size(r.auditEvents)} | ${int(r.sightings)} | ${s} | ${f(h.latencyMs.p50, 2)} | ${f(h.latencyMs.p99, 2)} | ${f(h.latencyMs.max, 2)} | ${h.latencyMs.n} | ${h.failures} | ${f(h.loopDelayMs.p99, 2)} | ${f(h.loopDelayMs.max, 2)} | ${h.latencyMs.p99 <= 20 && h.latencyMs.max <= 100 ? 'yes' : '**no**'} |`;
        })
        .join('\n') +
        `\n| ${r.engine} | ${size(r.auditEvents)} | | *reference process* | | | | | | ${f(r.healthz.referenceLoopDelayMs.p99, 2)} | ${f(r.healthz.referenceLoopDelayMs.max, 2)} | |`,
    )
    .join('\n');
  const loadRows = results
    .map((r) => {
      const cell = (k: keyof SizeResult['load']) => `${int(r.load[k].rps)} / ${int(r.load[k].rpsPerServerCore ?? NaN)} (${f(vsEmpty(r, perCpu(k)), 2)}) / ${f(r.load[k].latencyUs.p99 / 1000, 2)}`;
      return `| ${r.engine} | ${size(r.auditEvents)} | ${r.storeBytes === null ? 'n/a' : (r.storeBytes / 2 ** 20).toFixed(0)} | ${r.growSeconds} | ${cell('certificates')} | ${cell('audit_logs')} | ${cell('gateway')} |`;
    })
    .join('\n');
  const disturbed = results.flatMap((r) => [
    ...Object.values(r.load)
      .filter((x) => x.disturbed)
      .map((x) => `${x.label}: ${x.disturbed}`),
    ...(r.foreignCpuPercentIdle > 25 ? [`${r.engine} ${size(r.auditEvents)} /healthz window: other processes used ${r.foreignCpuPercentIdle}% of a core`] : []),
  ]);
  const largest = results.filter((r) => r.auditEvents === Math.max(...results.map((x) => x.auditEvents)));
  const md = `# A store with a long history: 0 to 1,000,000 audit events

Measured by \`bench/growth/run.sh\` (\`node dist/bench/growth/main.js\`). Regenerated on every run; a Findings section below is kept.

${machineTable(m, commit)}

One store (${[...new Set(results.map((r) => r.engine))].join(', ')}), grown in steps by direct SQL inserts between measurements: audit events copied from
the real events the seeding wrote through the API (their bodies, types, actors, projects and resources), with ids made as
certgate makes them and times spread evenly over the year before the seeding, each step newer than the last; and client
sightings (\`observed_clients\`, last seen within the past 6 days, a tenth of the events up to ${int(settings.sightings)}). The organization:
one project with a service-account key, 20 CA certificates, one active organization-wide. At each size a fresh \`certgate
serve\` and \`certgate gateway --metrics-port …\` (each \`--workers ${WORKERS}\`) start on the store, ${pinned ? 'both pinned to core 0, the benchmark, the load generator and the upstream to the other core(s)' : 'no CPU pinning'}; then:

1. **/healthz, idle**: for ${settings.windowMs / 1000} s, one \`GET /healthz\` on each server about every ${settings.probeMs} ms on a kept-alive connection
   (plain HTTP for serve, TLS for the gateway). The event-loop delay is prom-client's \`nodejs_eventloop_lag_p99_seconds\` and
   \`_max_seconds\` from each server's /metrics, read at the start of the window (which resets them) and at its end, less
   the 10 ms of its sampling timer. A *reference process* (a bare \`node\` on the servers' core, doing nothing but the same
   measurement of its own loop) tells the machine's stalls from certgate's: a stall it shares is the core's. The issue's target is over 5 minutes (\`BENCH_WINDOW_S=300\`); this run's window is ${settings.windowMs / 1000} s.
2. **admin lists**: \`GET ${LISTS.certificates}\` and \`GET ${LISTS.audit_logs}\` with the owner key, ${settings.connections} kept-alive connections,
   ${settings.warmupMs / 1000} s warm-up + ${settings.durationMs / 1000} s.
3. **gateway**: kept-alive mTLS \`GET /v1/models\` with the project key, ${settings.connections} connections, the same generator as \`bench/gateway\`.

### /healthz and event-loop delay

| engine | audit events | sightings | server | p50 (ms) | p99 | max | probes | failed | loop delay p99 (ms) | loop delay max | p99 ≤ 20, max ≤ 100? |
|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|
${healthRows}

### Under load: requests/s / per server CPU-second (that, relative to the empty store) / p99 (ms)

| engine | audit events | store (MiB) | grown in (s) | certificates list | audit log list (limit=20) | gateway /v1/models |
|---|---:|---:|---:|---|---|---|
${loadRows}

At the largest size (${largest.map((r) => `${r.engine} ${size(r.auditEvents)}`).join(', ')}): /healthz target (p99 ≤ 20 ms, max ≤ 100 ms) ${largest.every(holds) ? 'held' : '**not held**'} on both servers;
per-CPU-second relative to the empty store: ${largest
    .map((r) => `certificates ${f(vsEmpty(r, perCpu('certificates')), 2)}, audit log ${f(vsEmpty(r, perCpu('audit_logs')), 2)}, gateway ${f(vsEmpty(r, perCpu('gateway')), 2)}`)
    .join('; ')} (target: within 10%, 0.90-1.10).

${sharedMachineNote(
  results.flatMap((r) => [r.foreignCpuPercentIdle, ...Object.values(r.load).map((x) => x.foreignCpuPercent)]),
  m.nproc!,
  remeasured(disturbed),
)}

Every figure is in \`growth.json\`; the chart is \`growth.svg\`.
`;
  const label = (r: SizeResult, what: string) => `${results.some((x) => x.engine !== r.engine) ? `${r.engine} ` : ''}${what} @ ${size(r.auditEvents)}`;
  const panel = (title: string, bars: Bar[], target?: Panel['target']): Panel => ({ title, bars, ...(target ? { target } : {}) });
  const hb = (pick: (h: Probe) => number, unit: string): Bar[] =>
    results.flatMap((r) => (['serve', 'gateway'] as const).map((s) => ({ label: label(r, s), value: pick(r.healthz[s]), text: `${f(pick(r.healthz[s]), 2)} ${unit}`, baseline: s === 'gateway' })));
  const rb = (k: keyof SizeResult['load']): Bar[] => results.map((r) => ({ label: label(r, k === 'gateway' ? 'gateway' : k === 'certificates' ? 'certificates' : 'audit log'), value: r.load[k].rpsPerServerCore ?? NaN }));
  writeResults(
    RESULTS,
    'growth',
    { benchmark: 'growth', machine: m, commit, settings: { ...settings, pinned }, disturbed, results },
    md,
    {
      title: 'A store with a long history: latency and rates by audit events stored',
      subtitle: `${m.nproc} cores, ${m.cpu}, ${m.date}, commit ${commit}; blue = serve, grey = gateway in the latency panels`,
      panels: [
        panel('/healthz p99 (ms, idle)', hb((h) => h.latencyMs.p99, 'ms'), { value: 20, label: 'target ≤ 20 ms' }),
        panel('/healthz max (ms, idle)', hb((h) => h.latencyMs.max, 'ms'), { value: 100, label: 'target ≤ 100 ms' }),
        panel('event-loop delay max (ms, idle)', hb((h) => h.loopDelayMs.max, 'ms')),
        panel('certificates list: requests per serve CPU-second', rb('certificates')),
        panel('audit log list (limit=20): requests per serve CPU-second', rb('audit_logs')),
        panel('gateway kept-alive mTLS: requests per gateway CPU-second', rb('gateway')),
      ],
    },
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
