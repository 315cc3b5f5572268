// Expect: 100-continue is the gateway's to answer: 100 Continue only once the request is admitted, the final status
// (and the connection closed) otherwise, and never forwarded. curl sends it for every -F upload and every body over
// 1 MiB, so a 20 MiB multipart upload with real curl is the test that matters.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { engines } from '../support/engines.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { makeCa, makeClient, type Issued } from '../support/pki.js';
import { parseResponses, rawTls, rawValues, startRecordingUpstream } from '../support/raw-http.js';
import { startTestServer, tempDir, type TestServer } from '../support/server.js';
import { within } from '../support/wait.js';

const run = promisify(execFile);
const BIG = randomBytes(20 * 1024 * 1024);

for (const engine of engines) {
  describe(`Expect: 100-continue at the gateway (${engine.name})`, () => {
    let place: Awaited<ReturnType<typeof engine.fresh>>;
    let admin: TestServer;
    let upstream: Awaited<ReturnType<typeof startRecordingUpstream>>;
    let gateway: TestGateway;
    let client: Issued;
    let key = '';
    const dir = tempDir();
    const file = (name: string) => join(dir.path, name);

    before(async () => {
      place = await engine.fresh();
      admin = await startTestServer(place);
      upstream = await startRecordingUpstream();
      gateway = await startTestGateway(place, upstream.url);
      const org = admin.sdk.admin.organization;
      const project = (await org.projects.create({ name: 'uploads' })).id;
      key = (await org.projects.serviceAccounts.create(project, { name: 'svc' })).api_key!.value;
      const ca = await makeCa({ name: 'uploads CA' });
      client = await makeClient(ca, { name: 'uploader' });
      const caId = (await org.certificates.create({ certificate: ca.pem })).id;
      await org.projects.certificates.activate(project, { certificate_ids: [caId] });
      writeFileSync(file('gateway.pem'), gateway.ca);
      writeFileSync(file('client.pem'), client.pem);
      writeFileSync(file('client.key'), client.keyPem, { mode: 0o600 });
      writeFileSync(file('big.bin'), BIG);
      await within(2000, async () => (await curl([])).status === 403);
    });
    after(async () => {
      await gateway?.close().catch(() => undefined);
      await upstream?.close();
      await admin?.close().catch(() => undefined);
      await place?.drop();
      dir.remove();
    });

    /** curl as a user runs it, verbose (the trace shows what went over the wire); the status and the trace. */
    async function curl(args: string[]): Promise<{ status: number; trace: string; body: string }> {
      const { port } = new URL(gateway.url);
      const { stdout, stderr } = await run(
        'curl',
        ['-sS', '-v', '--cacert', file('gateway.pem'), '--resolve', `localhost:${port}:127.0.0.1`, '-H', `Authorization: Bearer ${key}`, '-w', '\n%{http_code}', ...args, `https://localhost:${port}/v1/files`],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      const lines = stdout.trimEnd().split('\n');
      return { status: Number(lines.pop()), body: lines.join('\n'), trace: stderr };
    }

    it('takes a 20 MiB multipart upload from curl -F: 100 Continue once admitted, the body whole upstream, no Expect forwarded', async () => {
      const before = upstream.seen.length;
      const res = await curl(['--cert', file('client.pem'), '--key', file('client.key'), '-F', 'purpose=assistants', '-F', `file=@${file('big.bin')}`]);
      assert.match(res.trace, /^> Expect: 100-continue\r?$/m, 'curl sent Expect');
      assert.match(res.trace, /^< HTTP\/1\.1 100 Continue\r?$/m);
      assert.equal(res.status, 200, res.body);
      assert.equal(upstream.seen.length, before + 1);
      const seen = upstream.seen[before]!;
      assert.deepEqual(rawValues(seen.rawHeaders, 'expect'), []);
      assert.match(rawValues(seen.rawHeaders, 'content-type')[0] ?? '', /^multipart\/form-data; boundary=/);
      assert.ok(seen.body.length > BIG.length, `${seen.body.length} bytes upstream`);
      assert.notEqual(seen.body.indexOf(BIG), -1, 'the file arrived whole');
    });

    it('answers a request it refuses with the final status and no 100 Continue, closing the connection, and forwards nothing', async () => {
      const before = upstream.seen.length;
      const res = await curl(['-F', `file=@${file('big.bin')}`]);
      assert.match(res.trace, /^> Expect: 100-continue\r?$/m);
      assert.doesNotMatch(res.trace, /100 Continue/);
      assert.equal(res.status, 403, res.body);
      assert.equal(JSON.parse(res.body).error.code, 'certificate_required');
      assert.equal(upstream.seen.length, before);
    });

    it('over a raw socket: the body is asked for only after admission, and the refused client is not left waiting', async () => {
      const head = (withKey: boolean) =>
        ['POST /v1/echo HTTP/1.1', 'Host: localhost', ...(withKey ? [`Authorization: Bearer ${key}`] : []), 'Content-Type: text/plain', 'Content-Length: 5', 'Expect: 100-continue'].join('\r\n') + '\r\n\r\n';
      const before = upstream.seen.length;
      const admitted = await rawTls(gateway, client);
      try {
        admitted.write(head(true));
        await admitted.until(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
        admitted.write('hello');
        const text = await admitted.until(/\r\n\r\n\{"ok":true[^}]*\}$/);
        const [interim, final] = parseResponses(text);
        assert.equal(interim!.status, 100);
        assert.equal(final!.status, 200);
        assert.equal(upstream.seen[before]!.body.toString(), 'hello');
        assert.deepEqual(rawValues(upstream.seen[before]!.rawHeaders, 'expect'), []);
      } finally {
        admitted.close();
      }
      const refused = await rawTls(gateway, client);
      try {
        refused.write(head(false));
        const responses = parseResponses(await refused.ended());
        assert.deepEqual(
          responses.map((r) => r.status),
          [401],
        );
        assert.equal(responses[0]!.headers.connection, 'close');
        assert.equal(JSON.parse(responses[0]!.body).error.code, 'missing_api_key');
      } finally {
        refused.close();
      }
      assert.equal(upstream.seen.length, before + 1);
    });
  });
}
