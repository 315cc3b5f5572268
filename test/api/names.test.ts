// A name with an unpaired surrogate (issue 17, item 8): refused with 400 naming the field, for every name the API
// takes, on every engine; before, it was accepted and stored as U+FFFD.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { makeCa } from '../support/pki.js';
import { serverOnEngine, type TestServer } from '../support/server.js';

const LONE = ['a\ud800b', '\udfff', 'end\ud83d'];

for (const engine of engines) {
  describe(`names with unpaired surrogates (${engine.name})`, () => {
    const on = serverOnEngine(engine);
    let server: TestServer;
    before(() => (server = on.server));

    const state = async () => {
      const out: unknown[] = [];
      for (const p of ['/v1/organization/certificates?limit=100', '/v1/organization/projects?limit=100', '/v1/organization/admin_api_keys?limit=100', '/v1/organization/audit_logs?limit=100']) {
        out.push((await server.request('GET', p)).body);
      }
      return JSON.stringify(out).replace(/"last_used_at":(null|\d+)/g, '"last_used_at":0');
    };

    it('refuses each with invalid_value naming the field, changes nothing, and keeps a well-formed pair (an emoji)', async () => {
      const ca = await makeCa({ name: 'surrogates' });
      const cert = (await server.request('POST', '/v1/organization/certificates', { certificate: ca.pem, name: 'ok' })).body;
      const project = (await server.request('POST', '/v1/organization/projects', { name: 'ok' })).body;
      const account = (await server.request('POST', `/v1/organization/projects/${project.id}/service_accounts`, { name: 'ok' })).body;
      const other = await makeCa({ name: 'surrogates 2' });
      const before = await state();
      const calls = (bad: string): [string, string, Record<string, unknown>, string][] => [
        ['POST', '/v1/organization/certificates', { certificate: other.pem, name: bad }, 'name'],
        ['POST', `/v1/organization/certificates/${cert.id}`, { name: bad }, 'name'],
        ['POST', '/v1/organization/projects', { name: bad }, 'name'],
        ['POST', '/v1/organization/projects', { name: 'fine', external_key_id: bad }, 'external_key_id'],
        ['POST', `/v1/organization/projects/${project.id}`, { name: bad }, 'name'],
        ['POST', `/v1/organization/projects/${project.id}`, { external_key_id: bad }, 'external_key_id'],
        ['POST', `/v1/organization/projects/${project.id}/service_accounts`, { name: bad }, 'name'],
        ['POST', `/v1/organization/projects/${project.id}/service_accounts/${account.id}`, { name: bad }, 'name'],
        ['POST', '/v1/organization/admin_api_keys', { name: bad }, 'name'],
      ];
      for (const bad of LONE) {
        for (const [method, path, body, param] of calls(bad)) {
          const sent = JSON.stringify(body);
          assert.match(sent, /\\ud[89a-f][0-9a-f]{2}/, 'the body carries the escape as a client sends it');
          const res = await server.request(method, path, sent);
          assert.equal(res.status, 400, `${method} ${path} ${sent}: ${res.text}`);
          assert.equal(res.body.error.code, 'invalid_value');
          assert.equal(res.body.error.param, param, `${method} ${path}`);
          assert.match(res.body.error.message, /unpaired surrogate/);
        }
      }
      assert.equal(await state(), before, 'a refused name changed something');
      // a pair is one character: stored and read back as sent
      const emoji = (await server.request('POST', `/v1/organization/certificates/${cert.id}`, { name: 'rocket \ud83d\ude80' })).body;
      assert.equal(emoji.name, 'rocket 🚀');
      assert.equal((await server.request('GET', `/v1/organization/certificates/${cert.id}`)).body.name, 'rocket 🚀');
    });
  });
}
