// The request target the upstream gets: origin form, dot-segments resolved, never above --upstream-url's base path.
// The rule on its own (a table, and a property checked against WHATWG URL's own resolution), then through a real
// gateway over raw TLS sockets to an upstream that records what it was asked for.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { after, before, describe, it } from 'node:test';
import { originTarget } from '../../src/gateway/target.js';
import { engines } from '../support/engines.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { rawRequest, rawValues, startRecordingUpstream } from '../support/raw-http.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('originTarget', () => {
  const cases: [string, string | undefined][] = [
    ['/v1/models', '/v1/models'],
    ['/v1/models?after=a/../b', '/v1/models?after=a/../b'],
    ['/v1/models/gpt-4.1', '/v1/models/gpt-4.1'],
    ['/v1/models/meta-llama%2FLlama-3.1', '/v1/models/meta-llama%2FLlama-3.1'],
    ['/v1/files/file.%2e.txt', '/v1/files/file.%2e.txt'],
    ['/v1/./models', '/v1/models'],
    ['/v1/x/../models', '/v1/models'],
    ['/v1/x/%2e%2e/models', '/v1/models'],
    ['/v1/x/.%2E/models', '/v1/models'],
    ['/v1/%2e/models', '/v1/models'],
    ['/v1/models/..', '/v1/'],
    ['/v1/models/.', '/v1/models/'],
    ['/v1//..', '/v1/'],
    ['/..', undefined],
    ['/../tenant-b/v1/models', undefined],
    ['/v1/../../tenant-b', undefined],
    ['/%2e%2e/tenant-b', undefined],
    ['/v1/%2E%2e/%2e%2E/tenant-b', undefined],
    // dot-segments to other servers: refused rather than resolved or passed
    ['/v1/..;/..;/tenant-b', undefined],
    ['/v1/..%2f..%2ftenant-b', undefined],
    ['/v1/x%2F..%2F..%2F..', undefined],
    ['/v1/..%5c..%5ctenant-b', undefined],
    ['/v1/..\\..\\tenant-b', undefined],
    // absolute form: the path and query, the authority ignored
    ['http://admin.internal/v1/models', '/v1/models'],
    ['HTTPS://user:pw@admin.internal:8443/v1/models?limit=1', '/v1/models?limit=1'],
    ['http://admin.internal', '/'],
    ['http://admin.internal?x=1', '/?x=1'],
    ['http://admin.internal/../x', undefined],
    // neither origin nor absolute form
    ['*', undefined],
    ['admin.internal:443', undefined],
    ['ftp://admin.internal/x', undefined],
    ['', undefined],
  ];
  for (const [target, expected] of cases) it(`${JSON.stringify(target)} → ${JSON.stringify(expected)}`, () => assert.equal(originTarget(target), expected));

  it('resolves as WHATWG URL does wherever it stays at or below the root, and refuses only what climbs above it', () => {
    const segment = fc.constantFrom('a', 'b', '.', '..', '%2e', '%2E%2e', '.%2e', '', 'x.y');
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (segments) => {
        const path = `/${segments.join('/')}`;
        // climbs: some prefix has more `..` than names before it
        let depth = 0;
        let climbs = false;
        for (const s of segments) {
          const plain = s.replace(/%2e/gi, '.');
          if (plain === '..') {
            if (depth === 0) climbs = true;
            else depth--;
          } else if (plain !== '.') depth++;
        }
        const resolved = originTarget(path);
        if (climbs) assert.equal(resolved, undefined, path);
        else assert.equal(resolved, new URL(`http://upstream.invalid${path}`).pathname, path);
      }),
      { numRuns: 2000 },
    );
  });
});

for (const engine of engines) {
  describe(`the target the upstream gets (${engine.name})`, () => {
    let place: Awaited<ReturnType<typeof engine.fresh>>;
    let admin: TestServer;
    let upstream: Awaited<ReturnType<typeof startRecordingUpstream>>;
    let gateway: TestGateway;
    let key = '';

    before(async () => {
      place = await engine.fresh();
      admin = await startTestServer(place);
      upstream = await startRecordingUpstream();
      gateway = await startTestGateway(place, `${upstream.url}/tenant-a/`);
      const org = admin.sdk.admin.organization;
      const project = (await org.projects.create({ name: 'targets' })).id;
      key = (await org.projects.serviceAccounts.create(project, { name: 'svc' })).api_key!.value;
    });
    after(async () => {
      await gateway?.close().catch(() => undefined);
      await upstream?.close();
      await admin?.close().catch(() => undefined);
      await place?.drop();
    });

    const send = (requestLine: string, host = 'localhost', withKey = true) =>
      rawRequest(gateway, [requestLine, `Host: ${host}`, ...(withKey ? [`Authorization: Bearer ${key}`] : [])]);

    it('sends an absolute-form target upstream in origin form, under the base path, to the upstream it was configured with', async () => {
      const before = upstream.seen.length;
      const res = await send('GET http://admin.internal/v1/models?limit=2 HTTP/1.1', 'admin.internal');
      assert.equal(res.status, 200, res.body);
      const seen = upstream.seen[before]!;
      assert.equal(seen.url, '/tenant-a/v1/models?limit=2');
      assert.deepEqual(rawValues(seen.rawHeaders, 'host'), [new URL(upstream.url).host]);
    });

    it('resolves dot-segments, also percent-encoded, before joining the base path', async () => {
      for (const [target, expected] of [
        ['/v1/./models/../models', '/tenant-a/v1/models'],
        ['/v1/x/%2e%2E/models', '/tenant-a/v1/models'],
        ['/v1/models/meta-llama%2FLlama-3.1', '/tenant-a/v1/models/meta-llama%2FLlama-3.1'],
      ] as const) {
        const before = upstream.seen.length;
        const res = await send(`GET ${target} HTTP/1.1`);
        assert.equal(res.status, 200, `${target}: ${res.body}`);
        assert.equal(upstream.seen[before]!.url, expected);
      }
    });

    it('refuses with 400 in the envelope, before anything else and reaching nothing, a target that would climb out of the base path', async () => {
      const before = upstream.seen.length;
      for (const line of [
        'GET /../tenant-b/v1/models HTTP/1.1',
        'GET /v1/../../tenant-b/v1/models HTTP/1.1',
        'GET /%2e%2e/tenant-b/v1/models HTTP/1.1',
        'GET /v1/%2E%2e/%2e%2E/tenant-b HTTP/1.1',
        'GET /v1/..;/..;/tenant-b HTTP/1.1',
        'GET /v1/..%2f..%2ftenant-b HTTP/1.1',
        'GET http://admin.internal/../tenant-b HTTP/1.1',
        'OPTIONS * HTTP/1.1',
      ]) {
        for (const withKey of [true, false]) {
          const res = await send(line, 'localhost', withKey);
          assert.equal(res.status, 400, `${line}: ${res.body}`);
          const body = JSON.parse(res.body) as { error: Record<string, unknown> };
          assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
          assert.equal(body.error.code, 'bad_request');
          assert.equal(body.error.type, 'invalid_request_error');
          assert.match(res.headers['x-request-id'] ?? '', /^req_/);
        }
      }
      assert.equal(upstream.seen.length, before);
    });
  });
}
