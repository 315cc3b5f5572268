// Attacks on certgate behind an ingress (issue 20), as a client that reached the ingress and as a careless operator
// would make them, against `certgate decide` and `certgate gateway --behind-ingress` processes over one store, on
// every engine: the secret and the certificate headers in every wrong form, the presentation cache under keys that
// change or go, requests HTTP/1.1 allows but an ingress never sends. Each must be a 4xx in OpenAI's envelope (or
// Node's parser's own refusal), never a 500, a crash or an admission; nothing secret in a log line.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { startRecordingUpstream, rawValues } from '../support/raw-http.js';
import { makeCa, makeClient, type Issued } from '../support/pki.js';
import { spawnCertgate, storeArgs, type CertgateProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { within } from '../support/wait.js';

const SECRET = 'ingress-secret-0123456789abcdef';
const b64 = (c: Issued) => Buffer.from(c.cert.rawData).toString('base64');

/** Writes `text` on a new TCP connection and returns everything answered until the server closes it or `waitMs` passes. */
function exchange(url: string, text: string, waitMs = 1500): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let got = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('error', done);
    socket.on('close', done);
    socket.write(text, 'latin1');
  });
}

/** The statuses of the responses in `text`, in order. */
const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

/** The first response's JSON body (Content-Length framed). */
function bodyOf(text: string): any {
  const head = text.indexOf('\r\n\r\n');
  const length = Number(/content-length: (\d+)/i.exec(text.slice(0, head))![1]);
  return JSON.parse(text.slice(head + 4, head + 4 + length));
}

for (const engine of engines) {
  describe(`attacks behind an ingress (${engine.name})`, () => {
    let place: Awaited<ReturnType<typeof engine.fresh>>;
    let admin: TestServer;
    let upstream: Awaited<ReturnType<typeof startRecordingUpstream>>;
    let decide: CertgateProcess;
    let gateway: CertgateProcess;
    let projectA: string, projectB: string, open: string, keyA: string, keyB: string, openKey: string, accountA: string;
    let ca: Issued, good: Issued;

    before(async () => {
      place = await engine.fresh();
      admin = await startTestServer(place);
      upstream = await startRecordingUpstream();
      const org = admin.sdk.admin.organization;
      projectA = (await org.projects.create({ name: 'attacked A' })).id;
      projectB = (await org.projects.create({ name: 'attacked B' })).id;
      open = (await org.projects.create({ name: 'attacked, no anchor' })).id;
      const a = await org.projects.serviceAccounts.create(projectA, { name: 'a' });
      keyA = a.api_key!.value;
      accountA = a.id;
      keyB = (await org.projects.serviceAccounts.create(projectB, { name: 'b' })).api_key!.value;
      openKey = (await org.projects.serviceAccounts.create(open, { name: 'o' })).api_key!.value;
      ca = await makeCa({ name: 'attacked CA' });
      const other = await makeCa({ name: 'B only CA' });
      good = await makeClient(ca, { subject: 'CN=good, O=Example' });
      const caId = (await org.certificates.create({ certificate: ca.pem })).id;
      const otherId = (await org.certificates.create({ certificate: other.pem })).id;
      await org.projects.certificates.activate(projectA, { certificate_ids: [caId] });
      await org.projects.certificates.activate(projectB, { certificate_ids: [otherId] });
      // the secret alone: loopback peers are not the ingress unless they send it
      const env = { CERTGATE_INGRESS_SECRET: SECRET, CERTGATE_WORKERS: '1' };
      decide = await spawnCertgate('decide', storeArgs(place), env);
      gateway = await spawnCertgate('gateway', [...storeArgs(place), '--behind-ingress', '--upstream-url', upstream.url], env);
    });
    after(async () => {
      await decide?.stop();
      await gateway?.stop();
      await upstream?.close();
      await admin?.close();
      await place?.drop();
    });

    /** A request head; the connection closed after its answer unless more requests follow on it (`last` false). */
    const head = (lines: string[], target = '/v1/chat/completions', method = 'GET', last = true) =>
      `${method} ${target} HTTP/1.1\r\nHost: ingress\r\n${[...lines, ...(last ? ['Connection: close'] : [])].map((l) => `${l}\r\n`).join('')}\r\n`;
    const asIngress = (key: string, more: string[] = []) => [`Authorization: Bearer ${key}`, `x-certgate-ingress-secret: ${SECRET}`, `client-cert: ${b64(good)}`, ...more];

    it('decide: several Authorization headers are refused, whichever comes first (the ingress passes them all on)', async () => {
      for (const keys of [
        [keyA, openKey],
        [openKey, keyA],
        [keyA, keyA],
      ]) {
        const answer = await exchange(decide.url, head([...asIngress(keys[0]!), `authorization: Bearer ${keys[1]}`]));
        assert.deepEqual(statuses(answer), [401], answer);
        const body = bodyOf(answer);
        assert.equal(body.error.code, 'invalid_api_key');
        assert.deepEqual(Object.keys(body.error), ['message', 'type', 'param', 'code']);
        assert.match(answer, /\r\nx-certgate-status: 401\r\n/);
        assert.doesNotMatch(answer, /x-certgate-project-id/i);
      }
      // one is decided as before
      assert.deepEqual(statuses(await exchange(decide.url, head(asIngress(keyA)))), [200]);
      await within(2000, async () => decide.output().includes('"reason":"several_keys"'));
    });

    it('the secret counts only exactly as configured, in its own header, once: never a prefix, a longer value, another spelling or the query', async () => {
      const unproven: [string, string[], string?][] = [
        ['a prefix', [`x-certgate-ingress-secret: ${SECRET.slice(0, 20)}`]],
        ['one character more', [`x-certgate-ingress-secret: ${SECRET}x`]],
        ['sent twice', [`x-certgate-ingress-secret: ${SECRET}`, `x-certgate-ingress-secret: ${SECRET}`]],
        ['joined as a list', [`x-certgate-ingress-secret: ${SECRET}, ${SECRET}`]],
        ['with an underscore', [`x_certgate_ingress_secret: ${SECRET}`]],
        ['in the query string', [], `/v1/chat/completions?x-certgate-ingress-secret=${SECRET}`],
        ['none', []],
      ];
      for (const url of [decide.url, gateway.url]) {
        for (const [what, lines, target] of unproven) {
          const answer = await exchange(url, head([`Authorization: Bearer ${keyA}`, `client-cert: ${b64(good)}`, ...lines], target));
          assert.deepEqual(statuses(answer), [403], `${what}: ${answer}`);
          assert.match(bodyOf(answer).error.message, /\(reason: untrusted_certificate_source\)$/, what);
        }
        // the header name in any case, and spaces around the value, are HTTP's own: the same header
        assert.deepEqual(statuses(await exchange(url, head([`Authorization: Bearer ${keyA}`, `X-CERTGATE-INGRESS-SECRET:   ${SECRET}  `, `client-cert: ${b64(good)}`], '/v1/x'))), [200]);
      }
      assert.equal(upstream.seen.filter((s) => s.url !== '/v1/x').length, 0, 'nothing unproven reached the upstream');
      for (const out of [decide.output(), gateway.output()]) {
        assert.ok(!out.includes(SECRET.slice(0, 20)), 'no secret (or part of one) in a log line');
        assert.ok(!out.includes(keyA), 'no key in a log line');
      }
    });

    it('certificate headers in every wrong form are a 403 in the envelope, never a 500 or an admission', async () => {
      const sequence = (bytes: number[]) => Buffer.from(bytes).toString('base64');
      const cases: [string, string[]][] = [
        ['an empty DER SEQUENCE', [`client-cert: ${sequence([0x30, 0x00])}`]],
        ['a SEQUENCE that is no certificate', [`client-cert: ${sequence([0x30, 0x03, 0x02, 0x01, 0x00])}`]],
        ['latin1 bytes', ['client-cert: \xe9t\xe9\xff']],
        ['the anchor itself as the leaf', [`client-cert: ${b64(ca)}`]],
        ['the certificate header twice', [`client-cert: ${b64(good)}`]],
        ['a chain header alone', [`client-cert:`, `client-cert-chain: ${b64(ca)}`]],
        ['PEM with trailing data', [`client-cert: ${encodeURIComponent(good.pem)}trailing`]],
        ['RFC 9440 without its closing colon', [`client-cert: :${b64(good)}`]],
        ['XFCC whose last element is not the ingress\'s', [`client-cert: By=x;Cert="${encodeURIComponent(good.pem)}",Hash=forged`]],
      ];
      for (const [what, lines] of cases) {
        for (const url of [decide.url, gateway.url]) {
          // the ingress's secret and the key; the certificate header as the case gives it (after the ingress's own, for "twice")
          const base = [`Authorization: Bearer ${keyA}`, `x-certgate-ingress-secret: ${SECRET}`, ...(what.includes('twice') ? [`client-cert: ${b64(good)}`] : [])];
          const answer = await exchange(url, head([...base, ...lines]));
          assert.deepEqual(statuses(answer), [403], `${what}: ${answer}`);
          const body = bodyOf(answer);
          assert.deepEqual(Object.keys(body.error), ['message', 'type', 'param', 'code'], what);
          assert.ok(['invalid_certificate', 'certificate_verification_failed', 'certificate_required'].includes(body.error.code), `${what}: ${body.error.code}`);
        }
      }
      // a value past the bound: Node's parser answers 431 in the envelope and closes
      const huge = await exchange(decide.url, head([...asIngress(keyA), `client-cert-chain: ${'A'.repeat(1 << 20)}`]));
      assert.deepEqual(statuses(huge), [431]);
      assert.equal(bodyOf(huge).error.code, 'headers_too_large');
      assert.match(bodyOf(huge).error.message, /at most 80 KiB/, 'the limit of a listener behind an ingress: 16 KiB and 64 KiB for certificate headers');
      // and the services still decide
      for (const url of [decide.url, gateway.url]) assert.deepEqual(statuses(await exchange(url, head(asIngress(keyA), '/v1/x'))), [200]);
    });

    it('a cached presentation is judged for each key: another project, an unknown key, and a key deleted a moment ago are refused', async () => {
      // one connection, pipelined, the same certificate header with different keys
      const keys = [keyA, keyB, keyA, 'sk-svcacct-unknown0123456789', openKey];
      const pipelined = keys.map((k, i) => head(asIngress(k), '/d', 'GET', i === keys.length - 1)).join('');
      assert.deepEqual(statuses(await exchange(decide.url, pipelined)), [200, 403, 200, 401, 200]);
      // the same through the terminated gateway, which sends on only what was admitted
      const before = upstream.seen.length;
      assert.deepEqual(statuses(await exchange(gateway.url, [keyA, keyB, keyA].map((k, i) => head(asIngress(k), '/v1/y', 'GET', i === 2)).join(''))), [200, 403, 200]);
      assert.equal(upstream.seen.length, before + 2);
      // the key of project A goes with its service account: refused through the very presentation that admitted it
      assert.deepEqual(statuses(await exchange(decide.url, head(asIngress(keyA)))), [200]);
      await admin.sdk.admin.organization.projects.serviceAccounts.delete(accountA, { project_id: projectA });
      await within(250, async () => statuses(await exchange(decide.url, head(asIngress(keyA)), 200))[0] === 401);
      await within(250, async () => statuses(await exchange(gateway.url, head(asIngress(keyA)), 200))[0] === 401);
    });

    it('decide: methods and framings an ingress never sends are answered or closed, never a crash', async () => {
      const cases: [string, string, number[]][] = [
        ['HTTP/1.0', `GET /d HTTP/1.0\r\n${asIngress(openKey).map((l) => `${l}\r\n`).join('')}\r\n`, [200]],
        ['a body, then another request', `${head([...asIngress(openKey), 'Content-Length: 5'], '/d', 'POST', false)}hello${head(asIngress(openKey))}`, [200, 200]],
        ['Expect: 100-continue', head([...asIngress(openKey), 'Content-Length: 5', 'Expect: 100-continue'], '/d', 'POST') + 'hello', [100, 200]],
        ['CONNECT', head(asIngress(openKey), 'ingress:443', 'CONNECT'), []],
        ['CL.TE', head([...asIngress(openKey), 'Content-Length: 6', 'Transfer-Encoding: chunked'], '/d', 'POST') + '0\r\n\r\nG', [400]],
        ['TE.CL', head([...asIngress(openKey), 'Transfer-Encoding: chunked', 'Content-Length: 3'], '/d', 'POST') + '1\r\nA\r\n0\r\n\r\n', [400]],
        ['an obfuscated Transfer-Encoding', head([...asIngress(openKey), 'Transfer-Encoding: xchunked', 'Content-Length: 3'], '/d', 'POST') + 'abc', [400]],
      ];
      for (const [what, text, expected] of cases) assert.deepEqual(statuses(await exchange(decide.url, text, 800)), expected, what);
      // the client's own /healthz, relayed with its path by the ingress, is decided
      assert.deepEqual(statuses(await exchange(decide.url, head([`x-certgate-ingress-secret: ${SECRET}`], '/healthz'))), [401]);
      assert.deepEqual(statuses(await exchange(decide.url, head([`x-certgate-ingress-secret: ${SECRET}`, `client-cert: ${b64(good)}`], '/readyz?x'))), [401]);
      assert.deepEqual(statuses(await exchange(decide.url, head(asIngress(openKey)))), [200], 'still deciding');
    });

    it('gateway --behind-ingress: smuggling framings are refused by the parser, absolute and climbing targets never leave the API', async () => {
      const before = upstream.seen.length;
      for (const [what, text] of [
        ['CL.TE', head([...asIngress(openKey), 'Content-Length: 6', 'Transfer-Encoding: chunked'], '/v1/z', 'POST') + '0\r\n\r\nG'],
        ['TE.CL', head([...asIngress(openKey), 'Transfer-Encoding: chunked', 'Content-Length: 3'], '/v1/z', 'POST') + '1\r\nA\r\n0\r\n\r\n'],
        ['chunked, identity', head([...asIngress(openKey), 'Transfer-Encoding: chunked, identity'], '/v1/z', 'POST') + '1\r\nA\r\n0\r\n\r\n'],
      ] as const) {
        assert.deepEqual(statuses(await exchange(gateway.url, text, 800)), [400], what);
      }
      assert.equal(upstream.seen.length, before, 'nothing smuggled reached the upstream');
      assert.deepEqual(statuses(await exchange(gateway.url, head(asIngress(openKey), '/v1/../../admin'))), [400]);
      assert.deepEqual(statuses(await exchange(gateway.url, head(asIngress(openKey), 'http://elsewhere.example/v1/abs'))), [200]);
      const seen = upstream.seen.at(-1)!;
      assert.equal(seen.url, '/v1/abs', 'an absolute-form target goes to the configured upstream, by its path');
      assert.notEqual(rawValues(seen.rawHeaders, 'host')[0], 'elsewhere.example');
      for (const name of ['x-certgate-ingress-secret', 'client-cert', 'x_certgate_ingress_secret']) assert.deepEqual(rawValues(seen.rawHeaders, name), [], name);
    });
  });
}
