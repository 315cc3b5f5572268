// Bad input of every shape at every endpoint: always a 4xx in OpenAI's envelope, never a 500, nothing changed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeCa } from '../support/pki.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('malformed input everywhere', () => {
  let server: TestServer;
  let cert: string;
  let project: string;

  before(async () => {
    server = await startTestServer();
    cert = (await server.sdk.admin.organization.certificates.create({ certificate: (await makeCa()).pem })).id;
    project = (await server.sdk.admin.organization.projects.create({ name: 'robust' })).id;
  });
  after(() => server.close());

  const bodies: unknown[] = [
    null,
    0,
    'text',
    [],
    [{}],
    { certificate: null },
    { certificate: ['-----BEGIN CERTIFICATE-----'] },
    { certificate: { nested: true } },
    { certificate: '\u0000\uffff' },
    { certificate: '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----' },
    { certificate_ids: null },
    { certificate_ids: [null] },
    { certificate_ids: [{}] },
    { certificate_ids: ['x'.repeat(5000)] },
    { name: 12 },
    { name: ['a'] },
    { project_id: 5, certificate: 'x' },
    { __proto__: { polluted: true }, constructor: { prototype: {} } },
  ];
  const raws = ['{', '{"a":}', '\u0000', '{"certificate": "\\ud800"}', 'null', '1e309'];

  it('never answers 5xx, always with the error envelope, and changes nothing', async () => {
    const before = JSON.stringify(await server.store.loadOrganization('org-default'));
    const paths = [
      ['POST', '/v1/organization/certificates'],
      ['POST', `/v1/organization/certificates/${cert}`],
      ['POST', '/v1/organization/certificates/activate'],
      ['POST', '/v1/organization/certificates/deactivate'],
      ['POST', '/v1/organization/certificates/verify'],
      ['POST', `/v1/organization/projects/${project}/certificates/activate`],
      ['POST', `/v1/organization/projects/${project}/service_accounts`],
      ['POST', `/v1/organization/projects/${project}`],
      ['POST', '/v1/organization/projects'],
    ] as const;
    let checked = 0;
    for (const [method, path] of paths) {
      for (const body of [...bodies.map((b) => JSON.stringify(b)), ...raws]) {
        const res = await server.request(method, path, body);
        // a few of these bodies are acceptable to some endpoints (an empty rename); none may break one
        assert.ok(res.status < 500, `${method} ${path} ${body} → ${res.status} ${res.text}`);
        if (res.status >= 400) {
          assert.equal(typeof res.body?.error?.message, 'string', `${method} ${path} ${body}: ${res.text}`);
          assert.equal(res.body.error.type, 'invalid_request_error');
        }
        checked++;
      }
    }
    const odd = ['%00', '..%2F..%2Fetc', 'x'.repeat(3000), '%F0%9F%92%A9', 'cert_%27%20OR%201=1--', '%E0%A4%A'];
    for (const id of odd) {
      for (const path of [`/v1/organization/certificates/${id}`, `/v1/organization/projects/${id}`, `/v1/organization/projects/${id}/certificates`]) {
        const res = await server.request('GET', path);
        assert.ok(res.status >= 400 && res.status < 500, `GET ${path} → ${res.status}`);
        checked++;
      }
    }
    for (const query of ['limit=-1', 'limit=1e2', 'limit[]=1', 'order[]=asc', 'after=', 'after[]=x', `after=${'z'.repeat(300)}`, 'include[]=content&include[]=content']) {
      const res = await server.request('GET', `/v1/organization/certificates?${query}`);
      assert.ok(res.status < 500, `?${query} → ${res.status} ${res.text}`);
      checked++;
    }
    assert.ok(checked > 150);
    // the only acceptable bodies above were renames to nothing and other no-ops: state is as it was, but for names
    const afterState = await server.store.loadOrganization('org-default');
    assert.equal(afterState.certificates.length, JSON.parse(before).certificates.length);
    assert.equal(afterState.activations.length, JSON.parse(before).activations.length);
    assert.equal(afterState.projects.length, JSON.parse(before).projects.length);
    assert.equal(afterState.serviceAccounts.length, JSON.parse(before).serviceAccounts.length);
  });
});
