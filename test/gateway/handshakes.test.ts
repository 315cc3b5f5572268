// The gateway's TLS layer against real clients: sessions resumed by curl and by Node are judged on the chain of
// the handshake they resume (a leaf from an intermediate: issue 18.3); a resumed session whose anchor was
// deactivated is refused; client-initiated renegotiation is refused; a chain longer than the gateway reads costs its
// source its budget of hostile handshakes, after which its new connections are closed at accept (issue 17.6).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { engines } from '../support/engines.js';
import { call, startScene, type Scene } from '../support/gateway.js';
import { makeCa, makeClient, type Issued } from '../support/pki.js';
import { tempDir } from '../support/server.js';
import { within } from '../support/wait.js';

const run = promisify(execFile);
const engine = engines[0]!;

/** Counts the gateway's handshakes, full and resumed. */
function watchHandshakes(scene: Scene): { full: number; resumed: number } {
  const seen = { full: 0, resumed: 0 };
  scene.gateway.server.on('secureConnection', (socket: TLSSocket) => (socket.isSessionReused() ? seen.resumed++ : seen.full++));
  return seen;
}

describe('handshakes: resumed sessions of a client behind an intermediate', () => {
  let scene: Scene;
  let dir: ReturnType<typeof tempDir>;
  let root: Issued, intermediate: Issued, leaf: Issued, other: Issued;
  let rootId: string;

  before(async () => {
    dir = tempDir();
    scene = await startScene(await engine.fresh(), 'handshakes');
    root = await makeCa({ name: 'resumption root' });
    intermediate = await makeCa({ name: 'resumption intermediate', issuer: root });
    leaf = await makeClient(intermediate, { name: 'resumed client' });
    other = await makeCa({ name: 'another anchor' });
    rootId = await scene.enforce(root.pem);
    // a second anchor stays in force, so that deactivating the first still requires a certificate
    const org = scene.admin.sdk.admin.organization;
    const otherId = (await org.certificates.create({ certificate: other.pem })).id;
    await org.projects.certificates.activate(scene.project, { certificate_ids: [otherId] });
    writeFileSync(join(dir.path, 'ca.pem'), scene.gateway.ca);
    writeFileSync(join(dir.path, 'client.pem'), leaf.pem + intermediate.pem);
    writeFileSync(join(dir.path, 'client.key'), leaf.keyPem, { mode: 0o600 });
  });
  after(async () => {
    await scene.close();
    dir.remove();
  });

  /** One request on a new connection through `agent` (which may offer a cached session): status, and whether it resumed. */
  const viaNode = (agent: HttpsAgent) =>
    new Promise<{ status: number; resumed: boolean }>((resolve, reject) => {
      const url = new URL(scene.gateway.url + '/v1/echo');
      const req = httpsRequest({ host: url.hostname, port: url.port, path: url.pathname, agent, headers: { authorization: `Bearer ${scene.key}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, resumed: (req.socket as TLSSocket).isSessionReused() }));
      });
      req.on('error', reject);
      req.end();
    });
  const nodeAgent = (maxVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.3') =>
    new HttpsAgent({ keepAlive: false, maxCachedSessions: 100, ca: scene.gateway.ca, servername: 'localhost', cert: leaf.pem + intermediate.pem, key: leaf.keyPem, maxVersion });

  it('admits 1,000 requests from a Node client, each on a new connection, nearly all on a resumed session (TLS 1.3 and 1.2)', async () => {
    for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
      const agent = nodeAgent(version);
      const statuses = new Map<number, number>();
      let resumed = 0;
      const n = version === 'TLSv1.3' ? 1000 : 200;
      for (let i = 0; i < n; i++) {
        const r = await viaNode(agent);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.resumed) resumed++;
      }
      agent.destroy();
      assert.deepEqual([...statuses], [[200, n]], version);
      assert.ok(resumed >= n - 5, `${version}: only ${resumed} of ${n} connections resumed a session`);
    }
  });

  it('admits 1,000 requests from curl, each on a new connection (Connection: close), resuming sessions', async () => {
    const seen = watchHandshakes(scene);
    const urls = Array.from({ length: 100 }, () => scene.gateway.url + '/v1/echo');
    const codes: string[] = [];
    for (let round = 0; round < 10; round++) {
      const { stdout } = await run('curl', [
        '-sS', '--cacert', join(dir.path, 'ca.pem'), '--cert', join(dir.path, 'client.pem'), '--key', join(dir.path, 'client.key'),
        '-H', `Authorization: Bearer ${scene.key}`, '-H', 'Connection: close', '-w', '%{http_code} %{num_connects}\n', ...urls.flatMap((u) => ['-o', '/dev/null', u]),
      ], { maxBuffer: 1 << 20 });
      codes.push(...stdout.trim().split('\n'));
    }
    assert.equal(codes.length, 1000);
    assert.deepEqual(codes.filter((c) => c !== '200 1'), [], 'every request a 200 on its own new connection');
    // curl 7.88 offers each ticket once and misses the one sent after a resumed handshake: every other connection resumes
    assert.ok(seen.resumed >= 450, `curl resumed only ${seen.resumed} sessions (${seen.full} full handshakes)`);
  });

  it('refuses a resumed session once the anchor that admitted its chain is deactivated', async () => {
    const agent = nodeAgent();
    try {
      assert.deepEqual(await viaNode(agent), { status: 200, resumed: false });
      assert.deepEqual(await viaNode(agent), { status: 200, resumed: true });
      await scene.admin.sdk.admin.organization.projects.certificates.deactivate(scene.project, { certificate_ids: [rootId] });
      await within(1000, async () => (await call(scene.gateway, { key: scene.key, client: leaf, chain: [intermediate] })).status === 403);
      const after = await viaNode(agent);
      assert.deepEqual(after, { status: 403, resumed: true });
    } finally {
      agent.destroy();
      await scene.admin.sdk.admin.organization.projects.certificates.activate(scene.project, { certificate_ids: [rootId] });
    }
  });
});

describe('handshakes: renegotiation and over-long chains', () => {
  let scene: Scene;

  before(async () => {
    // a small budget, so that the attack shows at small scale: 3 hostile handshakes, then one more every 5 s
    scene = await startScene(await engine.fresh(), 'hostile', ['--tls-rate-per-source', '0.2', '--tls-burst-per-source', '3']);
  });
  after(() => scene.close());

  const port = () => Number(new URL(scene.gateway.url).port);
  /** A TLS connection with this chain: 'secure' once the handshake completes, 'closed' if the gateway closes it first. */
  const handshake = (chain: Issued[] | undefined, maxVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.3') =>
    new Promise<{ outcome: 'secure' | 'closed'; socket: TLSSocket }>((resolve) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: port(),
        ca: scene.gateway.ca,
        servername: 'localhost',
        maxVersion,
        ...(chain ? { cert: chain.map((c) => c.pem).join(''), key: chain[0]!.keyPem } : {}),
      });
      socket.once('secureConnect', () => resolve({ outcome: 'secure', socket }));
      socket.once('error', () => resolve({ outcome: 'closed', socket }));
      socket.once('close', () => resolve({ outcome: 'closed', socket }));
    });

  it('refuses client-initiated renegotiation (TLS 1.2) and closes the connection', async () => {
    const { outcome, socket } = await handshake(undefined, 'TLSv1.2');
    assert.equal(outcome, 'secure');
    const result = await new Promise<string>((resolve) => {
      socket.once('close', () => resolve('closed'));
      socket.on('error', () => undefined);
      // renegotiate, then ask for /healthz on the renegotiated connection: an answer means renegotiation was allowed
      const started = socket.renegotiate({ rejectUnauthorized: false }, (err) => {
        if (err) return resolve('closed');
        socket.once('data', (data: Buffer) => resolve(`answered: ${data.toString().split('\r\n')[0]}`));
        socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
      });
      if (!started) resolve('not started');
    });
    assert.equal(result, 'closed');
    await within(1000, async () => socket.destroyed);
  });

  it('charges a chain longer than the gateway reads to its source: past the burst, its new connections are closed at accept', async () => {
    // 101 certificates: a root the gateway does not know, 99 intermediates, a leaf
    const chain: Issued[] = [await makeCa({ name: 'long root' })];
    for (let i = 0; i < 99; i++) chain.push(await makeCa({ name: `long ${i}`, issuer: chain[chain.length - 1]! }));
    chain.push(await makeClient(chain[chain.length - 1]!, { name: 'long leaf' }));
    const sent = chain.reverse();
    const seen = watchHandshakes(scene);
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { outcome, socket } = await handshake(sent);
      outcomes.push(outcome);
      // the client is done before the gateway has read its Finished: wait until the gateway has the handshake
      if (outcome === 'secure') await within(2000, async () => seen.full === i + 1);
      socket.destroy();
    }
    // the first three complete (and are charged); the budget spent, the next are closed before any TLS work
    assert.deepEqual(outcomes, ['secure', 'secure', 'secure', 'closed', 'closed']);
    // a chain the gateway reads costs nothing, but from the same source it waits for the budget to refill
    const ca = await makeCa({ name: 'short root' });
    const ordinary = [await makeClient(ca)];
    assert.equal((await handshake(ordinary)).outcome, 'closed');
    await new Promise((r) => setTimeout(r, 5200));
    for (let i = 0; i < 10; i++) {
      const before = seen.full;
      const { outcome, socket } = await handshake(ordinary);
      assert.equal(outcome, 'secure', `ordinary handshake ${i}`);
      await within(2000, async () => seen.full === before + 1);
      socket.destroy();
    }
  });
});
