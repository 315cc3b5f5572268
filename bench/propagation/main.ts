// bench/propagation: activation → enforced in another process, on both engines. One `certgate serve` and
// BENCH_GATEWAYS `certgate gateway` replicas (1 by default) on the same store; a project key; a CA uploaded but not
// active. Pollers ask the gateways for /v1/models with the project key and no client certificate, back to back on
// kept-alive connections spread over the replicas (and so over their workers): 200 while no anchor is active, 403
// certificate_required once the CA is active for the project. Each sample: activate the CA through the admin API,
// and time from the API's 200 to the first 403 seen and to the moment every poller has seen one (enforced
// everywhere); then deactivate and time the way back.
import { Client, Pool } from 'undici';
import { makeCa } from '../../test/support/pki.js';
import { type Bar } from '../lib/chart.js';
import {
  cpuWindow,
  envNumber,
  log,
  machine,
  percentiles,
  pinSelf,
  placement,
  privateTempDir,
  Processes,
  sleep,
  waitForQuiet,
  WORKERS,
} from '../lib/harness.js';
import { machineTable, measuredCommit, resultsDir, sharedMachineNote, writeResults } from '../lib/report.js';
import { serverTls, startGateway, startServe, startUpstream } from '../lib/servers.js';
import { enginesFromEnv, freshPlace, openSeeder, type Engine } from '../lib/stores.js';

const settings = {
  samples: envNumber('BENCH_SAMPLES', 120),
  /** gateway replicas (each with BENCH_WORKERS workers) */
  gateways: envNumber('BENCH_GATEWAYS', 1),
  /** enough kept-alive connections that every worker of every replica holds some (connections are dealt round-robin) */
  pollers: envNumber('BENCH_POLLERS', Math.max(2, 2 * WORKERS * envNumber('BENCH_GATEWAYS', 1))),
  /** a sample not enforced within this bound counts as a timeout */
  boundMs: envNumber('BENCH_BOUND_MS', 5000),
  engines: enginesFromEnv(),
  workers: WORKERS,
};
const OFFICIAL = !process.env.BENCH_ENGINES && !process.env.BENCH_SAMPLES;
const RESULTS = resultsDir(OFFICIAL);
/** runs with workers or replicas are written beside the single-process one, not over it */
const NAME = WORKERS === 1 && settings.gateways === 1 ? 'propagation' : `propagation-w${WORKERS}-g${settings.gateways}`;

interface EngineResult {
  readonly engine: Engine;
  /** ms from the activation's 200 to the first 403 (negative: the gateway refused before the API's answer arrived) */
  readonly activateMs: ReturnType<typeof percentiles>;
  /** ms from the activation's 200 until every poller (every replica and worker) has seen a 403 */
  readonly everywhereMs: ReturnType<typeof percentiles>;
  /** ms from the deactivation's 200 to the first 200 through the gateway */
  readonly deactivateMs: ReturnType<typeof percentiles>;
  /** ms the admin API took to answer the activation */
  readonly apiMs: ReturnType<typeof percentiles>;
  /** mean ms between two answers of one poller: the resolution of the measurement */
  readonly pollIntervalMs: number;
  readonly timeouts: number;
  readonly pollErrors: number;
  readonly refusalBody: string;
  readonly foreignCpuPercent: number;
  readonly cpuPercent: Readonly<Record<string, number>>;
  readonly rawActivateMs: readonly number[];
}

async function main(): Promise<void> {
  const place = placement();
  const described = machine();
  pinSelf(place);
  const procs = new Processes();
  const tmp = privateTempDir('certgate-bench-propagation-');
  const results: EngineResult[] = [];
  const cpus = place.pinned ? place.serverCpus : undefined;
  try {
    const tls = await serverTls(tmp);
    const ca = await makeCa({ name: 'bench propagation CA' });
    const upstream = await startUpstream(procs, tmp, place.pinned ? place.clientCpus : undefined);
    await waitForQuiet(envNumber('BENCH_QUIET_WAIT_S', 30) * 1000);
    for (const engine of settings.engines) {
      const store = await freshPlace(engine, tmp, 'propagation');
      try {
        const seeder = await openSeeder(store);
        const { projectIds, keys } = await seeder.addProjects(1);
        const projectId = projectIds[0]!;
        const caId = (await seeder.call('POST', '/v1/organization/certificates', { certificate: ca.pem, name: 'propagation CA' })).id as string;
        const adminKey = seeder.adminKey;
        await seeder.close();
        const serve = await startServe(procs, { tmp, name: `certgate serve (${engine})`, storeArgs: store.args, adminKey, cpus });
        const gateways: Awaited<ReturnType<typeof startGateway>>[] = [];
        for (let g = 0; g < settings.gateways; g++) gateways.push(await startGateway(procs, { tmp, name: `certgate gateway ${g + 1} (${engine})`, storeArgs: store.args, upstreamPort: upstream.port, tls, cpus }));
        try {
          const gatewayPids = () => gateways.flatMap((g) => g.pids());
          results.push(await sampleEngine(engine, { databasePids: await store.backendPids(), servePort: serve.port, gatewayPorts: gateways.map((g) => g.port), adminKey, projectKey: keys[0]!, projectId, caId, caPem: tls.cert, procs, pids: [serve.pids, gatewayPids] }));
        } finally {
          for (const g of gateways) await procs.stop(g.child);
          await procs.stop(serve.child);
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

async function sampleEngine(
  engine: Engine,
  o: { databasePids: number[]; servePort: number; gatewayPorts: number[]; adminKey: string; projectKey: string; projectId: string; caId: string; caPem: string; procs: Processes; pids: (() => number[])[] },
): Promise<EngineResult> {
  const api = new Pool(`http://127.0.0.1:${o.servePort}`, { connections: 1 });
  const toggle = async (verb: 'activate' | 'deactivate') => {
    const res = await api.request({
      method: 'POST',
      path: `/v1/organization/projects/${o.projectId}/certificates/${verb}`,
      headers: { authorization: `Bearer ${o.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ certificate_ids: [o.caId] }),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${verb}: ${res.statusCode} ${text.slice(0, 200)}`);
  };

  // pollers: each its own kept-alive TLS connection, no client certificate, one request at a time
  let running = true;
  let want: 200 | 403 | 0 = 0;
  let seenAt = NaN;
  /** per poller: when it first saw the wanted status in this sample */
  const seenBy: number[] = Array.from({ length: settings.pollers }, () => NaN);
  let refusalBody = '';
  let answers = 0;
  let pollErrors = 0;
  let pollingSince = performance.now();
  const poller = async (_: unknown, index: number) => {
    const client = new Client(`https://127.0.0.1:${o.gatewayPorts[index % o.gatewayPorts.length]}`, { connect: { ca: o.caPem, servername: 'localhost' }, pipelining: 1 });
    while (running) {
      try {
        const res = await client.request({ method: 'GET', path: '/v1/models', headers: { authorization: `Bearer ${o.projectKey}` } });
        const text = await res.body.text();
        const at = performance.now();
        answers++;
        if (res.statusCode === 403 && !refusalBody) refusalBody = text;
        if (want !== 0 && res.statusCode === want && Number.isNaN(seenAt)) seenAt = at;
        if (want !== 0 && res.statusCode === want && Number.isNaN(seenBy[index]!)) seenBy[index] = at;
      } catch {
        pollErrors++;
        await sleep(1);
      }
    }
    await client.close();
  };
  const pollers = Array.from({ length: settings.pollers }, poller);
  const waitSeen = async (status: 200 | 403): Promise<number> => {
    const start = performance.now();
    while (Number.isNaN(seenAt)) {
      if (performance.now() - start > settings.boundMs) return NaN;
      await sleep(0);
    }
    void status;
    return seenAt;
  };
  /** when the last poller saw it: the change is enforced on every connection, so by every worker of every replica */
  const waitEverywhere = async (): Promise<number> => {
    const start = performance.now();
    while (seenBy.some(Number.isNaN)) {
      if (performance.now() - start > settings.boundMs) return NaN;
      await sleep(0);
    }
    want = 0;
    return Math.max(...seenBy);
  };
  const reset = (status: 200 | 403) => {
    seenAt = NaN;
    seenBy.fill(NaN);
    want = status;
  };
  // before anything is active, the gateway lets the key through without a certificate
  reset(200);
  if (Number.isNaN(await waitSeen(200)) || Number.isNaN(await waitEverywhere())) throw new Error(`${engine}: the gateway does not answer 200 before any activation`);

  const activate: number[] = [];
  const everywhere: number[] = [];
  const deactivate: number[] = [];
  const apiMs: number[] = [];
  let timeouts = 0;
  await waitForQuiet(10_000);
  const end = cpuWindow({ serve: o.pids[0]!, gateway: o.pids[1]!, database: () => o.databasePids }, o.procs);
  pollingSince = performance.now();
  answers = 0;
  for (let i = 0; i < settings.samples; i++) {
    // activation → the first 403
    reset(403);
    const sent = performance.now();
    await toggle('activate');
    const answered = performance.now();
    apiMs.push(answered - sent);
    const enforced = await waitSeen(403);
    const enforcedEverywhere = await waitEverywhere();
    if (Number.isNaN(enforced) || Number.isNaN(enforcedEverywhere)) timeouts++;
    else {
      activate.push(enforced - answered);
      everywhere.push(enforcedEverywhere - answered);
    }
    // deactivation → every poller back to 200
    reset(200);
    await toggle('deactivate');
    const back = performance.now();
    const open = await waitSeen(200);
    const openEverywhere = await waitEverywhere();
    if (Number.isNaN(open) || Number.isNaN(openEverywhere)) timeouts++;
    else deactivate.push(openEverywhere - back);
    await sleep(Math.random() * 20); // no fixed phase against any poll timer
  }
  const window = end();
  const pollIntervalMs = ((performance.now() - pollingSince) / Math.max(1, answers)) * settings.pollers;
  running = false;
  await Promise.all(pollers);
  await api.close();
  const result: EngineResult = {
    engine,
    activateMs: percentiles(activate),
    everywhereMs: percentiles(everywhere),
    deactivateMs: percentiles(deactivate),
    apiMs: percentiles(apiMs),
    pollIntervalMs: Math.round(pollIntervalMs * 100) / 100,
    timeouts,
    pollErrors,
    refusalBody: refusalBody.slice(0, 300),
    foreignCpuPercent: window.foreignCpuPercent,
    cpuPercent: window.cpuPercent,
    rawActivateMs: activate.map((x) => Math.round(x * 100) / 100),
  };
  log(
    `${engine}: activation → 403 p50 ${result.activateMs.p50} p90 ${result.activateMs.p90} p99 ${result.activateMs.p99} max ${result.activateMs.max} ms ` +
      `(n ${result.activateMs.n}, timeouts ${timeouts}); everywhere p50 ${result.everywhereMs.p50} p99 ${result.everywhereMs.p99} max ${result.everywhereMs.max} ms; back to 200 p50 ${result.deactivateMs.p50} p99 ${result.deactivateMs.p99} ms; ` +
      `poll every ${result.pollIntervalMs} ms; foreign ${window.foreignCpuPercent}%`,
  );
  if (!/certificate_required/.test(refusalBody)) throw new Error(`${engine}: the refusal is not certificate_required: ${refusalBody.slice(0, 200)}`);
  return result;
}

function report(results: EngineResult[], m: Record<string, string | number>, pinned: boolean): void {
  const commit = measuredCommit();
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
  const rows = results
    .map(
      (r) =>
        `| ${r.engine} | ${r.activateMs.n} | ${f(r.activateMs.p50)} | ${f(r.activateMs.p90)} | ${f(r.activateMs.p99)} | ${f(r.activateMs.max)} | ${f(r.everywhereMs.p50)} / ${f(r.everywhereMs.p99)} / ${f(r.everywhereMs.max)} | ${r.timeouts} | ${f(r.deactivateMs.p50)} / ${f(r.deactivateMs.p99)} | ${f(r.apiMs.p50)} | ${r.pollIntervalMs} | ${r.activateMs.p99 < 30 ? 'yes' : 'no'} |`,
    )
    .join('\n');
  const disturbed = results.filter((r) => r.foreignCpuPercent > 25).map((r) => `${r.engine}: other processes used ${r.foreignCpuPercent}% of a core`);
  const md = `# Activation → enforced in another process

Measured by \`bench/propagation/run.sh\` (command: \`bench/propagation/run.sh\`, i.e. \`node dist/bench/propagation/main.js\`). Regenerated on every run; a Findings section below is kept.

${machineTable(m, commit)}

One \`certgate serve\` and ${settings.gateways === 1 ? 'one \`certgate gateway\`' : `${settings.gateways} \`certgate gateway\` replicas`} (each \`--workers ${WORKERS}\`) on the same store (SQLite: a new data directory; PostgreSQL: a new
database), ${pinned ? 'both pinned to core 0, the benchmark and the upstream to the other core(s)' : 'no CPU pinning'}. A project with a service-account key, a CA
uploaded but not active. ${settings.pollers} pollers (dealt over the replicas; connections are dealt round-robin over each one's workers) ask the gateway for \`GET /v1/models\` with the project key and **no** client
certificate, one request at a time each on a kept-alive TLS connection: 200 (forwarded to the upstream) while no anchor is
active, 403 \`certificate_required\` once the CA is active for the project. Each sample: \`POST
/v1/organization/projects/{id}/certificates/activate\` through the admin API, then the time from its 200 to the first 403 a
poller receives, and to the moment every poller has received one (**everywhere**: every worker of every replica enforces it);
then deactivate and the time from that 200 until every poller has had a 200 again; then a random pause of 0-20 ms.
A negative time means the gateway refused before the API's own answer reached the client. The poll interval (each poller's
mean time between two answers) bounds the resolution.

| engine | samples | p50 (ms) | p90 | p99 | max | everywhere p50 / p99 / max | timeouts (> ${settings.boundMs / 1000} s) | back to 200 everywhere, p50 / p99 | API answer p50 | poll interval (ms) | p99 < 30 ms? |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
${rows}

Refusal seen: \`${results[0]?.refusalBody.replace(/`/g, "'") ?? ''}\`

${sharedMachineNote(
  results.map((r) => r.foreignCpuPercent),
  m.nproc!,
  `The samples are kept, not measured again; engines whose sampling ran while others used over 25% of a core: ${disturbed.length ? disturbed.join('; ') : 'none'}.`,
)}

Every sample is in \`${NAME}.json\`; the chart is \`${NAME}.svg\`.
`;
  const bars = (pick: (r: EngineResult) => number, name: string): Bar[] => results.map((r) => ({ label: `${r.engine} ${name}`, value: pick(r), text: `${pick(r).toFixed(1)} ms` }));
  writeResults(
    RESULTS,
    NAME,
    { benchmark: 'propagation', machine: m, commit, settings, results },
    md,
    {
      title: 'Activation → enforced in another process (ms, lower is better)',
      subtitle: `${m.nproc} cores, ${m.cpu}, ${m.date}, commit ${commit}`,
      panels: [
        { title: 'p50', bars: bars((r) => r.activateMs.p50, 'p50') },
        { title: 'p99', bars: bars((r) => r.activateMs.p99, 'p99'), target: { value: 30, label: 'target < 30 ms' } },
        { title: 'max', bars: bars((r) => r.activateMs.max, 'max') },
      ],
    },
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
