// GET /v1/openapi.json describes every route the server has, as the server has it: checked against the app's
// own route table, against the calls the official SDK makes, against OpenAI's spec, and with Ajv.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import Fastify, { type FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { buildApp } from '../../src/api/app.js';
import { collectRoutes, openapiDocument, openapiPath } from '../../src/api/openapi.js';
import { seedAdminKey } from '../../src/commands/serve.js';
import { grantedBy } from '../../src/domain/permissions.js';
import { PERMISSIONS } from '../../src/domain/model.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { makeCa } from '../support/pki.js';
import { ADMIN_KEY, tempDir } from '../support/server.js';

const SPEC = process.env.CERTGATE_OPENAI_SPEC ?? new URL('../../../../shared/reference/openai-admin-certificates.openapi.yaml', import.meta.url).pathname;

type Doc = { openapi: string; paths: Record<string, Record<string, any>>; components: any };

/** The app's routes as Fastify's router prints them (its own tree, not our collector): "METHOD /path/{param}". */
function routerTable(app: FastifyInstance): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^(.*?)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    stack.push(match[2]!);
    const path = openapiPath(stack.join(''));
    for (const method of (match[3] ?? '').split(', ').filter(Boolean)) if (method !== 'HEAD') out.add(`${method} ${path}`);
  }
  return out;
}

function documentTable(doc: Doc): Set<string> {
  const out = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) for (const method of Object.keys(item)) out.add(`${method.toUpperCase()} ${path}`);
  return out;
}

/** Every JSON Schema in the document, with where it is. */
function schemasOf(doc: Doc): [string, object][] {
  const out: [string, object][] = Object.entries(doc.components.schemas).map(([name, s]) => [`components.schemas.${name}`, s as object]);
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const at = `${method.toUpperCase()} ${path}`;
      for (const p of op.parameters ?? []) out.push([`${at} parameter ${p.name}`, p.schema]);
      const body = op.requestBody?.content?.['application/json']?.schema;
      if (body) out.push([`${at} requestBody`, body]);
      for (const [status, r] of Object.entries<any>(op.responses)) {
        const schema = r.content?.['application/json']?.schema;
        if (schema) out.push([`${at} response ${status}`, schema]);
      }
    }
  }
  return out;
}

/** The paths and methods of a YAML OpenAPI file written as OpenAI's is (two-space indents, paths at level one). */
function specOperations(yaml: string): Map<string, string> {
  const out = new Map<string, string>();
  let path: string | undefined;
  let method: string | undefined;
  let inPaths = false;
  for (const line of yaml.split('\n')) {
    if (/^\S/.test(line)) inPaths = line.startsWith('paths:');
    if (!inPaths) continue;
    const p = /^ {2}(\/\S+):$/.exec(line);
    if (p) path = p[1];
    const m = /^ {4}(get|put|post|delete|patch):$/.exec(line);
    if (m && path) method = m[1]!.toUpperCase();
    const id = /^ {6}operationId: (\S+)$/.exec(line);
    if (id && path && method) out.set(`${method} /v1${path}`, id[1]!);
  }
  return out;
}

describe('the OpenAPI document', () => {
  let rt: Runtime;
  let app: FastifyInstance;
  let url: string;
  let doc: Doc;
  const dir = tempDir();

  before(async () => {
    rt = await openRuntime({ dataDir: dir.path, databaseUrl: undefined });
    await seedAdminKey(rt, ADMIN_KEY, () => undefined);
    app = await buildApp({ rt, logger: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const res = await fetch(`${url}/v1/openapi.json`);
    assert.equal(res.status, 200, 'the document is served without a key');
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    doc = (await res.json()) as Doc;
  });
  after(async () => {
    await app.close();
    await rt.close();
    dir.remove();
  });

  it('is OpenAPI 3.1 with a bearer security scheme and the error envelope', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.components.securitySchemes.AdminApiKeyAuth, {
      type: 'http',
      scheme: 'bearer',
      description: doc.components.securitySchemes.AdminApiKeyAuth.description,
    });
    assert.deepEqual(Object.keys(doc.components.schemas.ErrorResponse.properties.error.properties).sort(), ['code', 'message', 'param', 'type']);
  });

  it('has exactly the routes the app has, each with its method, a summary and an operationId', () => {
    const routes = routerTable(app);
    assert.ok(routes.size >= 30, `the router lists ${routes.size} routes`);
    assert.deepEqual([...documentTable(doc)].sort(), [...routes].sort());
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const at = `${method.toUpperCase()} ${path}`;
        assert.ok(typeof op.summary === 'string' && op.summary.length > 0, `${at} has no summary: add one to src/api/operations.ts or the route's schema.summary`);
        assert.ok(!ids.has(op.operationId), `${at}: operationId ${op.operationId} is used twice`);
        ids.add(op.operationId);
        assert.ok(op.responses['4XX'], `${at} documents its errors`);
        for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
          assert.ok(op.parameters.some((p: any) => p.in === 'path' && p.name === name && p.required), `${at} declares {${name}}`);
        }
      }
    }
  });

  it('says which operations need a key, as the server enforces it (a request without one is a 401 exactly there)', async () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const res = await fetch(url + path.replace(/\{[^}]+\}/g, 'x'), { method: method.toUpperCase() });
        await res.arrayBuffer();
        const secured = op.security.length > 0;
        assert.equal(res.status === 401, secured, `${method.toUpperCase()} ${path}: ${res.status} without a key, security ${JSON.stringify(op.security)}`);
        if (secured) assert.deepEqual(Object.keys(op.security[0]), ['AdminApiKeyAuth']);
      }
    }
    assert.deepEqual(doc.paths['/v1/openapi.json']!.get.security, []);
  });

  it('names the permission each /v1 operation needs, as the server enforces it (a key without it is refused, naming it)', async () => {
    const keyWithout = new Map<string, string>();
    for (const missing of PERMISSIONS) {
      const others = PERMISSIONS.filter((p) => !grantedBy([p]).has(missing));
      const res = await fetch(`${url}/v1/organization/admin_api_keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `without ${missing}`, permissions: others }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      keyWithout.set(missing, ((await res.json()) as { value: string }).value);
    }
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!path.startsWith('/v1/') || path === '/v1/openapi.json') continue;
      for (const [method, op] of Object.entries(item)) {
        const at = `${method.toUpperCase()} ${path}`;
        const permission = op['x-certgate-permission'] as string | undefined;
        assert.ok(permission && keyWithout.has(permission), `${at} names a permission: ${permission}`);
        assert.deepEqual(op.security, [{ AdminApiKeyAuth: [permission] }]);
        const res = await fetch(url + path.replace(/\{[^}]+\}/g, 'x'), { method: method.toUpperCase(), headers: { authorization: `Bearer ${keyWithout.get(permission)}` } });
        const body = (await res.json()) as { error: { message: string } };
        assert.equal(res.status, 401, at);
        assert.ok(body.error.message.includes(`Missing scopes: ${permission}.`), `${at}: ${body.error.message}`);
        checked++;
      }
    }
    assert.ok(checked >= 35, `${checked} operations`);
  });

  it("has every schema compile with Ajv (JSON Schema 2020-12, strict)", () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    const all = schemasOf(doc);
    assert.ok(all.length > 50, `${all.length} schemas`);
    for (const [where, schema] of all) {
      assert.doesNotThrow(() => ajv.compile(schema), where);
    }
  });

  it('has every path the official SDK calls for certificates and projects, and its schemas hold what the server answers', async () => {
    const calls: { method: string; path: string; status: number; body: unknown }[] = [];
    const sdk = new OpenAI({
      adminAPIKey: ADMIN_KEY,
      baseURL: `${url}/v1`,
      maxRetries: 0,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        const text = await res.clone().text();
        calls.push({ method: init?.method ?? 'GET', path: new URL(String(input)).pathname, status: res.status, body: text ? JSON.parse(text) : undefined });
        return res;
      },
    });
    const admin = sdk.admin.organization;
    const ca = await makeCa({ name: 'openapi anchor' });
    const project = await admin.projects.create({ name: 'openapi' });
    const cert = await admin.certificates.create({ certificate: ca.pem, name: 'doc' });
    await admin.certificates.list();
    await admin.certificates.retrieve(cert.id);
    await admin.certificates.update(cert.id, { name: 'renamed' });
    await admin.certificates.activate({ certificate_ids: [cert.id] });
    await admin.certificates.deactivate({ certificate_ids: [cert.id] });
    await admin.projects.certificates.list(project.id);
    await admin.projects.certificates.activate(project.id, { certificate_ids: [cert.id] });
    await admin.projects.certificates.deactivate(project.id, { certificate_ids: [cert.id] });
    await admin.projects.list();
    await admin.projects.retrieve(project.id);
    await admin.certificates.delete(cert.id);
    await assert.rejects(admin.certificates.retrieve(cert.id), (err: unknown) => err instanceof OpenAI.NotFoundError);

    const expected = [
      'POST /v1/organization/projects',
      'POST /v1/organization/certificates',
      'GET /v1/organization/certificates',
      'GET /v1/organization/certificates/{certificate_id}',
      'POST /v1/organization/certificates/{certificate_id}',
      'POST /v1/organization/certificates/activate',
      'POST /v1/organization/certificates/deactivate',
      'GET /v1/organization/projects/{project_id}/certificates',
      'POST /v1/organization/projects/{project_id}/certificates/activate',
      'POST /v1/organization/projects/{project_id}/certificates/deactivate',
      'GET /v1/organization/projects',
      'GET /v1/organization/projects/{project_id}',
      'DELETE /v1/organization/certificates/{certificate_id}',
      'GET /v1/organization/certificates/{certificate_id}',
    ];
    assert.equal(calls.length, expected.length);
    const ajv = new Ajv2020({ strict: false });
    const errorSchema = ajv.compile(doc.components.schemas.ErrorResponse);
    for (const [i, template] of expected.entries()) {
      const [method, path] = template.split(' ') as [string, string];
      const call = calls[i]!;
      const concrete = path.replace('{certificate_id}', cert.id).replace('{project_id}', project.id);
      assert.equal(`${call.method} ${call.path}`, `${method} ${concrete}`, `the SDK's call ${i}`);
      const op = doc.paths[path]?.[method.toLowerCase()];
      assert.ok(op, `${template} is in the document`);
      if (call.status === 200) {
        const schema = op.responses['200']?.content?.['application/json']?.schema;
        if (schema) assert.ok(ajv.validate(schema, call.body), `${template}: ${ajv.errorsText()}`);
      } else {
        assert.equal(call.status, 404);
        assert.ok(errorSchema(call.body), `${template} ${call.status}`);
      }
    }
  });

  it("has OpenAI's certificate paths, methods and operationIds", (t) => {
    if (!existsSync(SPEC)) {
      t.skip(`OpenAI's spec excerpt is not at ${SPEC}; set CERTGATE_OPENAI_SPEC to check against it`);
      return;
    }
    const openai = specOperations(readFileSync(SPEC, 'utf8'));
    const certificates = [...openai].filter(([key]) => key.includes('/certificates'));
    assert.equal(certificates.length, 10, "OpenAI's excerpt has 10 certificate operations");
    for (const [key, operationId] of certificates) {
      const [method, path] = key.split(' ') as [string, string];
      const ours = doc.paths[path]?.[method.toLowerCase()];
      assert.ok(ours, `${key} is missing`);
      assert.equal(ours.operationId, operationId, key);
      assert.ok(!ours['x-certgate-extension'], `${key} is OpenAI's, not an extension`);
    }
    // and everything of ours outside OpenAI's spec says it is an extension
    for (const key of documentTable(doc)) {
      const [method, path] = key.split(' ') as [string, string];
      if (openai.has(key)) continue;
      assert.equal(doc.paths[path]![method.toLowerCase()]['x-certgate-extension'], true, `${key} is not in OpenAI's spec: mark it an extension`);
    }
  });
});

describe('openapiDocument', () => {
  it("carries a route's permission as x-certgate-permission and as its security scope, and a route's own summary", async () => {
    const app = Fastify();
    const routes = collectRoutes(app);
    app.post(
      '/v1/things/:thing_id',
      {
        config: { permission: 'api.mtls.write' },
        schema: {
          summary: 'Change a thing.',
          params: { type: 'object', properties: { thing_id: { type: 'string' } } },
          querystring: { type: 'object', required: ['dry_run'], properties: { dry_run: { type: 'boolean' } } },
          body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
        },
      },
      async () => ({}),
    );
    app.get('/v1/things', async () => []);
    await app.ready();
    const doc = openapiDocument(routes, '1.2.3') as unknown as Doc;
    const op = doc.paths['/v1/things/{thing_id}']!.post;
    assert.equal(op.summary, 'Change a thing.');
    assert.equal(op['x-certgate-permission'], 'api.mtls.write');
    assert.deepEqual(op.security, [{ AdminApiKeyAuth: ['api.mtls.write'] }]);
    assert.deepEqual(
      op.parameters.map((p: any) => [p.in, p.name, p.required]),
      [
        ['path', 'thing_id', true],
        ['query', 'dry_run', true],
      ],
    );
    assert.equal(op.requestBody.required, true);
    // a route nobody described has no summary, which the test above refuses
    const bare = doc.paths['/v1/things']!.get;
    assert.equal(bare.summary, undefined);
    assert.equal(bare['x-certgate-permission'], undefined);
    assert.deepEqual(bare.security, [{ AdminApiKeyAuth: [] }]);
    await app.close();
  });
});
