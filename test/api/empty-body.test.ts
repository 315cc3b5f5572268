// A request with a JSON content type and no body is a request without a body, as OpenAI takes it: the official
// Python SDK sends `content-type: application/json` on every DELETE and on body-less POSTs (archive). Sent here over
// a raw socket, so the exact bytes are the ones under test: with `content-length: 0`, and with no length at all.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { makeCa } from '../support/pki.js';
import { ADMIN_KEY, serverOnEngine } from '../support/server.js';

/** One HTTP/1.1 request written byte for byte; the status and the parsed JSON body of the answer. */
async function raw(url: string, method: string, path: string, headers: string[], body = ''): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const head = [`${method} ${path} HTTP/1.1`, `host: ${hostname}:${port}`, `authorization: Bearer ${ADMIN_KEY}`, ...headers, 'connection: close', '', ''];
  // written, not ended: a half-closed socket is a client gone, whose answer a server may drop
  socket.write(head.join('\r\n') + body);
  let text = '';
  for await (const chunk of socket) text += (chunk as Buffer).toString('utf8');
  const [top, answer = ''] = text.split('\r\n\r\n', 2) as [string, string?];
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(top)?.[1]);
  assert.ok(!/transfer-encoding/i.test(top), 'answered with a length, so the body is read whole');
  return { status, body: answer ? JSON.parse(answer) : undefined };
}

const BODILESS_JSON = {
  'content-length: 0': ['content-type: application/json', 'content-length: 0'],
  'no content-length': ['content-type: application/json'],
  'charset, content-length: 0': ['content-type: application/json; charset=utf-8', 'content-length: 0'],
} as const;

for (const engine of engines) {
  describe(`a JSON content type with no body is no body (${engine.name})`, () => {
    const on = serverOnEngine(engine);

    for (const [how, headers] of Object.entries(BODILESS_JSON)) {
      it(`DELETE and body-less POST endpoints answer as without the header (${how})`, async () => {
        const { server } = on;
        const sdk = server.sdk.admin.organization;
        const cert = await sdk.certificates.create({ certificate: (await makeCa()).pem });
        const project = await sdk.projects.create({ name: `empty body ${how}` });
        const account = await sdk.projects.serviceAccounts.create(project.id, { name: 'bot' });
        const key = await sdk.adminAPIKeys.create({ name: 'short' });
        await server.request('PUT', `/v1/organization/certificates/${cert.id}/filter`, { expression: 'true' });

        const filter = await raw(server.url, 'DELETE', `/v1/organization/certificates/${cert.id}/filter`, [...headers]);
        assert.equal(filter.status, 200, JSON.stringify(filter.body));
        assert.equal(filter.body.expression, null);

        const crl = await raw(server.url, 'DELETE', `/v1/organization/certificates/${cert.id}/crl`, [...headers]);
        assert.equal(crl.status, 200, JSON.stringify(crl.body));

        const deletedCert = await raw(server.url, 'DELETE', `/v1/organization/certificates/${cert.id}`, [...headers]);
        assert.deepEqual([deletedCert.status, deletedCert.body], [200, { id: cert.id, object: 'certificate.deleted' }]);

        const deletedAccount = await raw(server.url, 'DELETE', `/v1/organization/projects/${project.id}/service_accounts/${account.id}`, [...headers]);
        assert.deepEqual([deletedAccount.status, deletedAccount.body.deleted], [200, true]);

        const deletedKey = await raw(server.url, 'DELETE', `/v1/organization/admin_api_keys/${key.id}`, [...headers]);
        assert.deepEqual([deletedKey.status, deletedKey.body.deleted], [200, true]);

        const archived = await raw(server.url, 'POST', `/v1/organization/projects/${project.id}/archive`, [...headers]);
        assert.equal(archived.status, 200, JSON.stringify(archived.body));
        assert.equal(archived.body.status, 'archived');

        // and every one of them took effect
        assert.equal((await server.request('GET', `/v1/organization/certificates/${cert.id}`)).status, 404);
        assert.equal((await server.request('GET', `/v1/organization/admin_api_keys/${key.id}`)).status, 404);
        assert.equal((await server.request('GET', `/v1/organization/projects/${project.id}/service_accounts/${account.id}`)).status, 404);
      });

      it(`a POST that needs a body still says what is missing, never invalid_json (${how})`, async () => {
        const { server } = on;
        const before = (await server.request('GET', '/v1/organization/certificates?limit=100')).body.data.length;
        for (const path of ['/v1/organization/certificates', '/v1/organization/certificates/activate', '/v1/organization/projects']) {
          const res = await raw(server.url, 'POST', path, [...headers]);
          assert.equal(res.status, 400, JSON.stringify(res.body));
          assert.notEqual(res.body.error.code, 'invalid_json');
          assert.match(res.body.error.code, /^(invalid_type|missing_required_parameter)$/);
        }
        assert.equal((await server.request('GET', '/v1/organization/certificates?limit=100')).body.data.length, before);
      });
    }

    it('still refuses a JSON body that is only whitespace, or broken, as invalid_json', async () => {
      const { server } = on;
      for (const body of [' ', '\n', '{']) {
        const res = await raw(server.url, 'POST', '/v1/organization/certificates', ['content-type: application/json', `content-length: ${body.length}`], body);
        assert.deepEqual([res.status, res.body.error.code], [400, 'invalid_json'], JSON.stringify(body));
      }
    });
  });
}
