// Route schemas are compiled when a route is first called, not at start (issue 11: fast start). Every one must
// still compile, and validate and serialize as it did when all were compiled up front.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp, compileAllSchemas } from '../../src/api/app.js';
import { seedAdminKey } from '../../src/commands/serve.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { ADMIN_KEY, tempDir } from '../support/server.js';

describe('route schemas, compiled on first use', () => {
  const dir = tempDir();
  let rt: Runtime;
  let app: FastifyInstance;
  const auth = { authorization: `Bearer ${ADMIN_KEY}` };

  before(async () => {
    rt = await openRuntime({ dataDir: dir.path, databaseUrl: undefined });
    await seedAdminKey(rt, ADMIN_KEY, () => undefined);
    app = await buildApp({ rt, logger: false });
    await app.ready();
  });
  after(async () => {
    await app.close();
    await rt.close();
    dir.remove();
  });

  it('validate bodies as sent and coerce query strings on a route whose schemas were not compiled yet', async () => {
    const bad = await app.inject({ method: 'POST', url: '/v1/organization/projects', headers: auth, payload: { name: 42 } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.type, 'invalid_request_error');
    const made = await app.inject({ method: 'POST', url: '/v1/organization/projects', headers: auth, payload: { name: 'first use' } });
    assert.equal(made.statusCode, 200, made.body);
    assert.equal(made.json().name, 'first use');
    const listed = await app.inject({ method: 'GET', url: '/v1/organization/projects?limit=1', headers: auth });
    assert.equal(listed.statusCode, 200, listed.body);
    assert.equal(listed.json().data.length, 1);
    const wrong = await app.inject({ method: 'GET', url: '/v1/organization/projects?limit=many', headers: auth });
    assert.equal(wrong.statusCode, 400);
  });

  it('every one of them compiles (what a start did before they were compiled on first use)', () => {
    const compiled = compileAllSchemas(app);
    assert.ok(compiled > 30, `${compiled} schemas compiled`);
    assert.equal(compileAllSchemas(app), 0, 'each is compiled once');
  });
});
