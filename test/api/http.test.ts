// Raw HTTP: status codes, OpenAI's error envelope, headers, and every rule's refusal.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { makeCa } from '../support/pki.js';
import { startTestServer, type TestServer } from '../support/server.js';

function assertEnvelope(res: { status: number; body: any }, status: number, code: string, param?: string | null) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.deepEqual(Object.keys(res.body).sort(), ['error']);
  assert.deepEqual(Object.keys(res.body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(res.body.error.code, code);
  assert.equal(res.body.error.type, status >= 500 ? 'server_error' : 'invalid_request_error');
  assert.equal(typeof res.body.error.message, 'string');
  assert.ok(res.body.error.message.length > 10);
  if (param !== undefined) assert.equal(res.body.error.param, param);
}

for (const engine of engines) {
  describe(`admin API over raw HTTP (${engine.name})`, () => {
    let server: TestServer;
    let drop: () => Promise<void>;

    before(async () => {
      const place = await engine.fresh();
      drop = place.drop;
      server = await startTestServer(place);
    });
    after(async () => {
      await server.close();
      await drop();
    });

    const upload = async (body: unknown) => server.request('POST', '/v1/organization/certificates', body);
    const count = async () => (await server.request('GET', '/v1/organization/certificates?limit=100')).body.data.length;

    it('answers /healthz and puts x-request-id on every response, errors included', async () => {
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200);
      const ids = new Set<string>();
      for (const path of ['/healthz', '/v1/organization/certificates', '/v1/nope']) {
        const res = await fetch(server.url + path);
        const id = res.headers.get('x-request-id');
        assert.match(id ?? '', /^req_[0-9a-f]{24}$/);
        ids.add(id!);
      }
      assert.equal(ids.size, 3);
    });

    it('refuses a missing, malformed or wrong admin key with 401', async () => {
      assertEnvelope(await server.request('GET', '/v1/organization/certificates', undefined, { authorization: '' }), 401, 'missing_api_key');
      assertEnvelope(await server.request('GET', '/v1/organization/certificates', undefined, { authorization: 'Basic abc' }), 401, 'missing_api_key');
      const wrong = await server.request('GET', '/v1/organization/certificates', undefined, { authorization: 'Bearer sk-admin-wrong' });
      assertEnvelope(wrong, 401, 'invalid_api_key');
      assert.ok(!wrong.text.includes('sk-admin-wrong'), 'the key is never echoed');
    });

    it('answers an unknown path with a 404 envelope', async () => {
      assertEnvelope(await server.request('GET', '/v1/organization/nothing'), 404, 'unknown_url');
    });

    it('refuses malformed JSON, wrong types, unknown arguments and oversized bodies, changing nothing', async () => {
      const before = await count();
      assertEnvelope(await upload('{"certificate": '), 400, 'invalid_json');
      assertEnvelope(await upload('[]'), 400, 'invalid_type');
      assertEnvelope(await upload('"text"'), 400, 'invalid_type');
      assertEnvelope(await upload({ certificate: 42 }), 400, 'invalid_type', 'certificate');
      assertEnvelope(await upload({ certificate: (await makeCa()).pem, name: 7 }), 400, 'invalid_type', 'name');
      const unknown = await upload({ certificate: (await makeCa()).pem, colour: 'red' });
      assertEnvelope(unknown, 400, 'unknown_parameter', 'colour');
      assert.match(unknown.body.error.message, /Unrecognized request argument supplied: colour/);
      assertEnvelope(await upload({}), 400, 'missing_required_parameter', 'certificate');
      assertEnvelope(await upload({ certificate: 'x'.repeat(70 * 1024) }), 413, 'request_too_large');
      assertEnvelope(await server.request('POST', '/v1/organization/certificates', 'certificate=abc', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
      assertEnvelope(await upload({ certificate: (await makeCa()).pem, name: 'n'.repeat(257) }), 400, 'invalid_value', 'name');
      assert.equal(await count(), before);
    });

    it('takes the PEM as `certificate` or `content`, refusing two different ones', async () => {
      const a = await makeCa();
      const b = await makeCa();
      const viaContent = await upload({ content: a.pem, name: 'via content' });
      assert.equal(viaContent.status, 200);
      assert.equal(viaContent.body.object, 'certificate');
      assertEnvelope(await upload({ certificate: a.pem, content: b.pem }), 400, 'conflicting_parameters');
      const same = await upload({ certificate: b.pem, content: b.pem });
      assert.equal(same.status, 200);
      // the stored content is canonical PEM, whatever line endings came in
      const crlf = await makeCa();
      const up = await upload({ certificate: `\r\n${crlf.pem.replace(/\n/g, '\r\n')}  ` });
      assert.equal(up.status, 200);
      const got = await server.request('GET', `/v1/organization/certificates/${up.body.id}?include[]=content`);
      assert.equal(got.body.certificate_details.content, crlf.pem);
      const alt = await server.request('GET', `/v1/organization/certificates/${up.body.id}?include=content`);
      assert.equal(alt.body.certificate_details.content, crlf.pem);
      const none = await server.request('GET', `/v1/organization/certificates/${up.body.id}`);
      assert.equal(none.body.certificate_details.content, undefined);
      assert.equal(none.body.active, undefined);
      assertEnvelope(await server.request('GET', `/v1/organization/certificates/${up.body.id}?include[]=secrets`), 400, 'invalid_value');
    });

    it('refuses an upload that breaks a CA rule, with mtls_certificate_invalid, storing nothing', async () => {
      const before = await count();
      const leaf = await makeCa({ ca: false });
      const res = await upload({ certificate: leaf.pem });
      assertEnvelope(res, 400, 'mtls_certificate_invalid', 'certificate');
      assert.match(res.body.error.message, /not a CA/);
      const withKey = await makeCa();
      const keyRes = await upload({ certificate: withKey.pem + withKey.keyPem });
      assertEnvelope(keyRes, 400, 'mtls_certificate_invalid');
      assert.match(keyRes.body.error.message, /private key/);
      assert.equal(await count(), before);
    });

    it('refuses a duplicate upload, naming the existing id', async () => {
      const ca = await makeCa();
      const first = await upload({ certificate: ca.pem });
      const again = await upload({ certificate: ca.pem.replace(/\n/g, '\r\n'), name: 'again' });
      assertEnvelope(again, 400, 'duplicate_certificate');
      assert.ok(again.body.error.message.includes(first.body.id));
    });

    it('renames only: any other argument is refused and nothing changes', async () => {
      const ca = await upload({ certificate: (await makeCa()).pem, name: 'before' });
      const id = ca.body.id;
      const bad = await server.request('POST', `/v1/organization/certificates/${id}`, { name: 'after', certificate: 'x' });
      assertEnvelope(bad, 400, 'unknown_parameter', 'certificate');
      assert.equal((await server.request('GET', `/v1/organization/certificates/${id}`)).body.name, 'before');
      const ok = await server.request('POST', `/v1/organization/certificates/${id}`, { name: 'after' });
      assert.equal(ok.body.name, 'after');
      assertEnvelope(await server.request('POST', '/v1/organization/certificates/cert_missing', { name: 'x' }), 404, 'certificate_not_found');
    });

    it('validates list parameters', async () => {
      for (const [q, code, param] of [
        ['limit=0', 'invalid_value', 'limit'],
        ['limit=101', 'invalid_value', 'limit'],
        ['limit=abc', 'invalid_type', 'limit'],
        ['order=sideways', 'invalid_value', 'order'],
      ]) {
        assertEnvelope(await server.request('GET', `/v1/organization/certificates?${q}`), 400, code!, param);
      }
      const ok = await server.request('GET', '/v1/organization/certificates?limit=1&order=asc');
      assert.equal(ok.status, 200);
      assert.deepEqual(Object.keys(ok.body).sort(), ['data', 'first_id', 'has_more', 'last_id', 'object']);
    });

    it('activates all-or-nothing: an unknown id is a 404 naming it and nothing changes', async () => {
      const a = (await upload({ certificate: (await makeCa()).pem })).body.id;
      const res = await server.request('POST', '/v1/organization/certificates/activate', { certificate_ids: [a, 'cert_doesnotexist'] });
      assertEnvelope(res, 404, 'certificate_not_found', 'certificate_ids');
      assert.match(res.body.error.message, /cert_doesnotexist/);
      const list = await server.request('GET', '/v1/organization/certificates?limit=100');
      assert.equal(list.body.data.find((c: any) => c.id === a).active, false);
    });

    it('takes 1 to 10 ids per toggle, counted as sent, folding duplicates', async () => {
      assertEnvelope(await server.request('POST', '/v1/organization/certificates/activate', { certificate_ids: [] }), 400, 'invalid_value', 'certificate_ids');
      assertEnvelope(await server.request('POST', '/v1/organization/certificates/activate', {}), 400, 'missing_required_parameter');
      assertEnvelope(await server.request('POST', '/v1/organization/certificates/activate', { certificate_ids: 'cert_x' }), 400, 'invalid_type');
      const eleven = Array.from({ length: 11 }, (_, i) => `cert_${i}`);
      assertEnvelope(await server.request('POST', '/v1/organization/certificates/deactivate', { certificate_ids: eleven }), 400, 'invalid_value');
      const id = (await upload({ certificate: (await makeCa()).pem })).body.id;
      // the count is what the client sent: the same id eleven times is eleven ids
      assertEnvelope(await server.request('POST', '/v1/organization/certificates/activate', { certificate_ids: Array(11).fill(id) }), 400, 'invalid_value');
      const folded = await server.request('POST', '/v1/organization/certificates/activate', { certificate_ids: Array(10).fill(id) });
      assert.equal(folded.status, 200);
      assert.equal(folded.body.object, 'organization.certificate.activation');
      assert.equal(folded.body.data.length, 1);
      // idempotent both ways
      assert.equal((await server.request('POST', '/v1/organization/certificates/activate', { certificate_ids: [id] })).status, 200);
      const off = await server.request('POST', '/v1/organization/certificates/deactivate', { certificate_ids: [id, id] });
      assert.equal(off.body.object, 'organization.certificate.deactivation');
      assert.equal((await server.request('POST', '/v1/organization/certificates/deactivate', { certificate_ids: [id] })).status, 200);
    });

    it('refuses to activate a certificate that has expired since its upload', async () => {
      const ca = await makeCa({ notAfter: new Date(Date.now() + 2 * 86400_000) });
      const id = (await upload({ certificate: ca.pem })).body.id;
      server.clock.offsetMs = 3 * 86400_000;
      try {
        assertEnvelope(await server.request('POST', '/v1/organization/certificates/activate', { certificate_ids: [id] }), 400, 'expired_certificate');
        assert.equal((await server.request('POST', '/v1/organization/certificates/deactivate', { certificate_ids: [id] })).status, 200);
      } finally {
        server.clock.offsetMs = 0;
      }
    });

    it('guards deletion while active anywhere, naming the scopes; then deletes and 404s', async () => {
      const id = (await upload({ certificate: (await makeCa()).pem })).body.id;
      const project = (await server.request('POST', '/v1/organization/projects', { name: 'guard' })).body.id;
      await server.request('POST', '/v1/organization/certificates/activate', { certificate_ids: [id] });
      await server.request('POST', `/v1/organization/projects/${project}/certificates/activate`, { certificate_ids: [id] });
      const refused = await server.request('DELETE', `/v1/organization/certificates/${id}`);
      assertEnvelope(refused, 400, 'certificate_in_use');
      assert.match(refused.body.error.message, /the organization/);
      assert.ok(refused.body.error.message.includes(project));
      await server.request('POST', '/v1/organization/certificates/deactivate', { certificate_ids: [id] });
      const still = await server.request('DELETE', `/v1/organization/certificates/${id}`);
      assertEnvelope(still, 400, 'certificate_in_use');
      assert.ok(!/the organization/.test(still.body.error.message));
      await server.request('POST', `/v1/organization/projects/${project}/certificates/deactivate`, { certificate_ids: [id] });
      const gone = await server.request('DELETE', `/v1/organization/certificates/${id}`);
      assert.deepEqual(gone.body, { id, object: 'certificate.deleted' });
      assertEnvelope(await server.request('GET', `/v1/organization/certificates/${id}`), 404, 'certificate_not_found');
      assertEnvelope(await server.request('DELETE', `/v1/organization/certificates/${id}`), 404, 'certificate_not_found');
    });

    it('refuses a null name on a project, and control characters in any name, on every engine alike', async () => {
      const project = (await server.request('POST', '/v1/organization/projects', { name: 'named' })).body.id;
      assertEnvelope(await server.request('POST', `/v1/organization/projects/${project}`, { name: null }), 400, 'invalid_value', 'name');
      assert.equal((await server.request('GET', `/v1/organization/projects/${project}`)).body.name, 'named');
      assertEnvelope(await server.request('POST', '/v1/organization/projects', { name: 'a\u0000b' }), 400, 'invalid_value', 'name');
      assertEnvelope(await server.request('POST', `/v1/organization/projects/${project}`, { name: 'line\nbreak' }), 400, 'invalid_value', 'name');
      assertEnvelope(await server.request('POST', `/v1/organization/projects/${project}`, { external_key_id: '\u0000' }), 400, 'invalid_value', 'external_key_id');
      assertEnvelope(await upload({ certificate: (await makeCa()).pem, name: 'x\u0000' }), 400, 'invalid_value', 'name');
      for (const path of ['/v1/organization/certificates/cert_%00', `/v1/organization/projects/proj_%00/archive`]) {
        const method = path.endsWith('archive') ? 'POST' : 'DELETE';
        const res = await server.request(method, path);
        assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
      }
    });

    it('answers 404 for an unknown project and 400 for an archived one, in every project-scoped call', async () => {
      const cert = (await upload({ certificate: (await makeCa()).pem })).body.id;
      const body = { certificate_ids: [cert] };
      for (const [method, suffix, payload] of [
        ['GET', '/certificates', undefined],
        ['POST', '/certificates/activate', body],
        ['POST', '/certificates/deactivate', body],
      ] as const) {
        assertEnvelope(await server.request(method, `/v1/organization/projects/proj_unknown${suffix}`, payload), 404, 'project_not_found');
      }
      const project = (await server.request('POST', '/v1/organization/projects', { name: 'to archive' })).body.id;
      await server.request('POST', `/v1/organization/projects/${project}/certificates/activate`, body);
      const archived = await server.request('POST', `/v1/organization/projects/${project}/archive`);
      assert.equal(archived.body.status, 'archived');
      for (const [method, suffix, payload] of [
        ['GET', '/certificates', undefined],
        ['POST', '/certificates/activate', body],
        ['POST', '/certificates/deactivate', body],
      ] as const) {
        assertEnvelope(await server.request(method, `/v1/organization/projects/${project}${suffix}`, payload), 400, 'project_archived');
      }
      assertEnvelope(await server.request('POST', `/v1/organization/projects/${project}`, { name: 'renamed' }), 400, 'project_archived');
      // archiving released the project's activation, so the certificate can go
      assert.equal((await server.request('DELETE', `/v1/organization/certificates/${cert}`)).status, 200);
      assertEnvelope(await server.request('GET', '/v1/organization/projects/proj_unknown'), 404, 'project_not_found');
      assertEnvelope(await server.request('POST', '/v1/organization/projects', {}), 400, 'missing_required_parameter', 'name');
    });

    it('keeps a cursor in place when the item it names is deleted, in both orders', async () => {
      const made: string[] = [];
      for (let i = 0; i < 4; i++) made.push((await upload({ certificate: (await makeCa()).pem })).body.id);
      const all = (await server.request('GET', '/v1/organization/certificates?limit=100&order=asc')).body.data.map((c: any) => c.id);
      const cursor = made[1]!;
      await server.request('DELETE', `/v1/organization/certificates/${cursor}`);
      const asc = await server.request('GET', `/v1/organization/certificates?limit=100&order=asc&after=${cursor}`);
      assert.deepEqual(asc.body.data.map((c: any) => c.id), all.slice(all.indexOf(cursor) + 1));
      const desc = await server.request('GET', `/v1/organization/certificates?limit=100&order=desc&after=${cursor}`);
      assert.deepEqual(desc.body.data.map((c: any) => c.id), all.slice(0, all.indexOf(cursor)).reverse());
    });
  });
}
