// Property-based fuzzing of every admin endpoint on each engine (fast-check): whatever is sent, the answer is
// below 500, every error body is exactly OpenAI's envelope, and a refused request changes nothing.
// CERTGATE_FUZZ_REQUESTS sets how many requests per engine (CI: 1,500; 10,000 and more by hand).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { engines } from '../support/engines.js';
import { makeCa } from '../support/pki.js';
import { ADMIN_KEY, startTestServer, type TestServer } from '../support/server.js';

const REQUESTS = Number(process.env.CERTGATE_FUZZ_REQUESTS ?? 1500);

for (const engine of engines) {
  describe(`fuzzed admin API (${engine.name})`, () => {
    let server: TestServer;
    let drop: () => Promise<void>;
    const known: Record<string, string> = {};

    before(async () => {
      const place = await engine.fresh();
      drop = place.drop;
      server = await startTestServer(place);
      const org = server.sdk.admin.organization;
      known.cert = (await org.certificates.create({ certificate: (await makeCa()).pem, name: 'fuzz' })).id;
      known.proj = (await org.projects.create({ name: 'fuzz' })).id;
      known.svc = (await org.projects.serviceAccounts.create(known.proj, { name: 'fuzz' })).id;
      known.pem = (await makeCa()).pem;
    });
    after(async () => {
      await server.close();
      await drop();
    });

    it(`answers ${REQUESTS} generated requests below 500, in the envelope, changing nothing it refuses`, async () => {
      const nasty = fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.constantFrom('\u0000', 'a\u0000b', '%00', '%ff%fe', '%', '..', '/', 'x'.repeat(300), 'cert_'.padEnd(31, '0'), '\ud800', '🙂', ' ', '\n'),
        fc.constantFrom(...['cert', 'proj', 'svc'].map((k) => known[k]!)),
      );
      const encode = (s: string) => {
        try {
          return encodeURIComponent(s);
        } catch {
          return '%ED%A0%80'; // a lone surrogate, as UTF-8 bytes no decoder accepts
        }
      };
      const segment = nasty.map((s) => (/%/.test(s) ? s : encode(s)));
      const path = fc.oneof(
        fc.constant('/v1/organization/certificates'),
        segment.map((id) => `/v1/organization/certificates/${id}`),
        segment.map((id) => `/v1/organization/certificates/${id}/filter`),
        segment.map((id) => `/v1/organization/certificates/${id}/crl`),
        fc.constantFrom('/v1/organization/certificates/preview', '/v1/organization/mtls_settings'),
        segment.map((id) => `/v1/organization/projects/${id}/mtls_settings`),
        fc.constantFrom('/v1/organization/certificates/activate', '/v1/organization/certificates/deactivate', '/v1/organization/certificates/verify'),
        fc.constant('/v1/organization/projects'),
        segment.map((id) => `/v1/organization/projects/${id}`),
        segment.map((id) => `/v1/organization/projects/${id}/archive`),
        segment.map((id) => `/v1/organization/projects/${id}/certificates`),
        fc.tuple(segment, fc.constantFrom('activate', 'deactivate')).map(([id, verb]) => `/v1/organization/projects/${id}/certificates/${verb}`),
        segment.map((id) => `/v1/organization/projects/${id}/service_accounts`),
        fc.tuple(segment, segment).map(([p, s]) => `/v1/organization/projects/${p}/service_accounts/${s}`),
        segment.map((s) => `/v1/${s}`),
      );
      const query = fc.option(
        fc.oneof(
          fc.dictionary(fc.constantFrom('limit', 'order', 'after', 'include[]', 'include', 'include_archived', 'x'), nasty, { maxKeys: 3 }).map((q) =>
            new URLSearchParams(q).toString(),
          ),
          fc.constantFrom('limit=-1', 'limit=1e9', 'limit=abc', 'order=up', 'after=%00', 'include[]=content&include[]=x', '%ff=1'),
        ),
        { nil: undefined },
      );
      const field = fc.oneof(nasty, fc.jsonValue({ maxDepth: 3 }), fc.constant(known.pem), fc.array(nasty, { maxLength: 12 }));
      const body = fc.option(
        fc.oneof(
          fc.dictionary(fc.constantFrom('certificate', 'content', 'name', 'certificate_ids', 'project_id', 'expression', 'external_key_id', 'role', 'crl', 'mode', 'action', 'x'), field, { maxKeys: 3 }).map((o) =>
            JSON.stringify(o),
          ),
          fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
          fc.string({ maxLength: 60 }),
          fc.constantFrom('{', '{"name": "a\\u0000b"}', '{"certificate_ids": ["' + known.cert + '", "\\u0000"]}', '{"expression": "\\u0000"}', '\u0000'),
        ),
        { nil: undefined },
      );
      const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', undefined);
      const request = fc.record({ method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'), path, query, body, contentType });

      let state = JSON.stringify(await server.store.loadOrganization('org-default'));
      let sent = 0;
      const codes = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_KEY}` };
          if (r.contentType && r.body !== undefined) headers['content-type'] = r.contentType;
          const withBody = r.body !== undefined && r.method !== 'GET';
          const res = await fetch(`${server.url}${r.path}${r.query ? `?${r.query}` : ''}`, { method: r.method, headers, ...(withBody ? { body: r.body } : {}) });
          const text = await res.text();
          sent++;
          const label = `${r.method} ${r.path}?${r.query ?? ''} ${String(r.body).slice(0, 80)} -> ${res.status} ${text.slice(0, 200)}`;
          assert.ok(res.status < 500, label);
          const after = JSON.stringify(await server.store.loadOrganization('org-default'));
          if (res.status >= 400) {
            const parsed = JSON.parse(text);
            assert.deepEqual(Object.keys(parsed), ['error'], label);
            assert.deepEqual(Object.keys(parsed.error).sort(), ['code', 'message', 'param', 'type'], label);
            assert.equal(typeof parsed.error.message, 'string', label);
            assert.equal(typeof parsed.error.code, 'string', label);
            codes.set(parsed.error.code, (codes.get(parsed.error.code) ?? 0) + 1);
            assert.equal(after, state, `a refused request changed the state: ${label}`);
          }
          state = after;
        }),
        { numRuns: REQUESTS },
      );
      assert.equal(sent, REQUESTS);
      // the generator reaches past authentication and routing into validation and the rules
      for (const code of ['invalid_type', 'invalid_json', 'unsupported_media_type', 'unknown_url', 'certificate_not_found', 'project_not_found']) {
        assert.ok((codes.get(code) ?? 0) > 0, `no request was answered ${code}: ${JSON.stringify([...codes])}`);
      }
    });
  });
}
