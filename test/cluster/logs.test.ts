// No secret in a log line: run both servers at their most verbose, exercise every path that sees a key, a
// certificate or a private key, and search what they wrote.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { call, startUpstream } from '../support/gateway.js';
import { makeCa, makeClient } from '../support/pki.js';
import { gatewayTlsFiles, spawnCertgate } from '../support/processes.js';
import { ADMIN_KEY, tempDir } from '../support/server.js';

it('never writes a key, an Authorization header, PEM or a private key to the log', async () => {
  const dir = tempDir();
  const upstream = await startUpstream();
  const env = { CERTGATE_LOG_LEVEL: 'trace', CERTGATE_UPSTREAM_API_KEY: 'sk-upstream-do-not-log-0123456789' };
  const serve = await spawnCertgate('serve', ['--data-dir', dir.path], env);
  const tls = await gatewayTlsFiles(dir.path);
  const gateway = await spawnCertgate('gateway', ['--data-dir', dir.path, ...tls.args, '--upstream-url', upstream.url], env);
  const ca = await makeCa();
  const client = await makeClient(ca);
  const admin = (path: string, body?: unknown, key = ADMIN_KEY) =>
    fetch(serve.url + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
  let projectKey = '';
  let createdKey = '';
  try {
    createdKey = (await admin('/v1/organization/admin_api_keys', { name: 'logged' })).body.value;
    assert.equal((await admin('/v1/organization/certificates', {}, createdKey)).status, 400);
    const project = (await admin('/v1/organization/projects', { name: 'logs' })).body.id;
    projectKey = (await admin(`/v1/organization/projects/${project}/service_accounts`, { name: 'svc' })).body.api_key.value;
    const cert = (await admin('/v1/organization/certificates', { certificate: ca.pem })).body.id;
    assert.equal((await admin('/v1/organization/certificates', { certificate: ca.pem + ca.keyPem })).status, 400);
    assert.equal((await admin('/v1/organization/certificates', {}, 'sk-admin-wrong-do-not-log')).status, 401);
    assert.equal((await admin('/v1/organization/certificates/verify', { certificate: client.pem })).status, 200);
    await admin(`/v1/organization/certificates/${cert}?include[]=content`);
    // a key put in a query string must not reach the log through the request line
    await admin('/v1/organization/certificates?limit=5&api_key=sk-admin-in-a-query-do-not-log');
    await call({ url: gateway.url, ca: tls.ca }, { key: 'sk-svcacct-wrong-do-not-log', path: '/v1/models?key=sk-svcacct-in-a-query-do-not-log' });
    await admin(`/v1/organization/projects/${project}/certificates/activate`, { certificate_ids: [cert] });
    const g = { url: gateway.url, ca: tls.ca };
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await call(g, { key: projectKey })).status, 403);
    assert.equal((await call(g, { key: projectKey, client })).status, 200);
    assert.equal((await call(g, { key: 'sk-svcacct-wrong-do-not-log' })).status, 401);
  } finally {
    await Promise.all([serve.stop(), gateway.stop()]);
    await upstream.close();
    dir.remove();
  }
  const logs = serve.output() + gateway.output();
  assert.ok(logs.includes('request refused'), 'the gateway logged its refusals');
  assert.ok(logs.includes('incoming request'), 'the admin API logged its requests');
  const secrets = {
    'admin key': ADMIN_KEY,
    'wrong admin key': 'sk-admin-wrong-do-not-log',
    'project key': projectKey,
    'admin key made through the API': createdKey,
    'wrong project key': 'sk-svcacct-wrong-do-not-log',
    'admin key in a query string': 'sk-admin-in-a-query-do-not-log',
    'project key in a query string': 'sk-svcacct-in-a-query-do-not-log',
    'upstream key': 'sk-upstream-do-not-log-0123456789',
    'CA certificate body': ca.pem.split('\n')[3]!,
    'client certificate body': client.pem.split('\n')[3]!,
    'private key body': ca.keyPem.split('\n')[1]!,
  };
  for (const [what, secret] of Object.entries(secrets)) {
    assert.ok(secret.length > 16 && !logs.includes(secret), `the log holds the ${what}`);
  }
  assert.ok(!/authorization/i.test(logs), 'no Authorization header in the log');
  assert.match(logs, /"actor":"key_[0-9a-z]{26}"/, 'a change names its actor by key id');
  assert.ok(!logs.includes('BEGIN'), 'no PEM in the log');
  assert.ok(!/"(url|path)":"[^"]*\?/.test(logs), 'no query string in the log');
});
