// Permissions cannot grow (issue 17, item 2): every pair of permission sets, creator × requested, through the
// real admin API on every engine: a key creates and deletes only keys within its own permissions.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { makeCa } from '../support/pki.js';
import { ADMIN_KEY, serverOnEngine, type TestServer } from '../support/server.js';

// Written out here rather than imported, so the test states the rule on its own.
const ALL = ['api.mtls.read', 'api.mtls.write', 'api.management.read', 'api.management.write', 'api.audit_logs.read'] as const;
const WRITE_GRANTS_READ: Record<string, string> = { 'api.mtls.write': 'api.mtls.read', 'api.management.write': 'api.management.read' };

/** null: no `permissions` field, an owner key. */
type PermissionSet = readonly string[] | null;

const granted = (set: PermissionSet): Set<string> => new Set(set === null ? ALL : set.flatMap((p) => (WRITE_GRANTS_READ[p] ? [p, WRITE_GRANTS_READ[p]!] : [p])));

/** Every set a key can be given: the 31 non-empty subsets, and no field at all. */
const SETS: PermissionSet[] = [null];
for (let mask = 1; mask < 1 << ALL.length; mask++) SETS.push(ALL.filter((_, i) => mask & (1 << i)));

const label = (set: PermissionSet) => (set === null ? 'owner' : set.join('+'));

/** The scopes a refusal must name: the route's own first, else everything the target grants that the actor does not hold. */
function expectedMissing(actor: PermissionSet, target: PermissionSet): string[] {
  const held = granted(actor);
  if (!held.has('api.management.write')) return ['api.management.write'];
  const wanted = granted(target);
  return ALL.filter((p) => wanted.has(p) && !held.has(p));
}

async function call(server: TestServer, key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

function assertRefused(res: { status: number; body: any }, missing: string[], what: string): void {
  assert.equal(res.status, 401, what);
  assert.equal(res.body.error.code, null, what);
  assert.equal(res.body.error.type, 'invalid_request_error', what);
  assert.ok(res.body.error.message.startsWith(`You have insufficient permissions for this operation. Missing scopes: ${missing.join(', ')}. `), `${what}: ${res.body.error.message}`);
}

for (const engine of engines) {
  describe(`admin keys: permissions cannot grow (${engine.name})`, () => {
    const on = serverOnEngine(engine);
    let server: TestServer;
    before(() => (server = on.server));

    async function make(set: PermissionSet, name: string): Promise<{ id: string; value: string }> {
      const res = await call(server, ADMIN_KEY, 'POST', '/v1/organization/admin_api_keys', set === null ? { name } : { name, permissions: set });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    }

    async function apiKeyEvents(): Promise<number> {
      let count = 0;
      let after: string | undefined;
      for (;;) {
        const page = await call(server, ADMIN_KEY, 'GET', `/v1/organization/audit_logs?limit=100&event_types[]=api_key.created&event_types[]=api_key.deleted${after ? `&after=${after}` : ''}`);
        count += page.body.data.length;
        if (!page.body.has_more) return count;
        after = page.body.last_id;
      }
    }

    it('replays the attack: a management-only key can neither mint an owner key nor delete one, and nothing changes', async () => {
      const manager = await make(['api.management.write'], 'manager');
      const keysBefore = (await call(server, ADMIN_KEY, 'GET', '/v1/organization/admin_api_keys?limit=100')).body.data;
      const eventsBefore = await apiKeyEvents();
      const minted = await call(server, manager.value, 'POST', '/v1/organization/admin_api_keys', { name: 'escalated' });
      assertRefused(minted, ['api.mtls.read', 'api.mtls.write', 'api.audit_logs.read'], 'create an owner key');
      assert.match(minted.body.error.message, /owner key/);
      const owner = keysBefore.find((k: any) => k.redacted_value.endsWith(ADMIN_KEY.slice(-4)));
      assertRefused(await call(server, manager.value, 'DELETE', `/v1/organization/admin_api_keys/${owner.id}`), ['api.mtls.read', 'api.mtls.write', 'api.audit_logs.read'], 'delete an owner key');
      const wider = await call(server, manager.value, 'POST', '/v1/organization/admin_api_keys', { name: 'wider', permissions: ['api.management.read', 'api.mtls.write'] });
      assertRefused(wider, ['api.mtls.read', 'api.mtls.write'], 'create a key with mTLS write');
      // what it holds it may pass on
      const narrower = await call(server, manager.value, 'POST', '/v1/organization/admin_api_keys', { name: 'narrower', permissions: ['api.management.read'] });
      assert.equal(narrower.status, 200);
      assert.deepEqual(narrower.body.permissions, ['api.management.read']);
      assert.equal((await call(server, manager.value, 'DELETE', `/v1/organization/admin_api_keys/${narrower.body.id}`)).status, 200);
      // the refused key never existed: an anchor is still out of its reach, and the audit log holds only the allowed pair
      const ca = await makeCa({ name: 'untouchable' });
      const cert = await call(server, ADMIN_KEY, 'POST', '/v1/organization/certificates', { certificate: ca.pem });
      assert.equal((await call(server, manager.value, 'POST', '/v1/organization/certificates/activate', { certificate_ids: [cert.body.id] })).status, 401);
      const keysAfter = (await call(server, ADMIN_KEY, 'GET', '/v1/organization/admin_api_keys?limit=100')).body.data.map((k: any) => k.id);
      assert.deepEqual(keysAfter, keysBefore.map((k: any) => k.id));
      assert.equal(await apiKeyEvents(), eventsBefore + 2, 'one created and one deleted event, for the allowed key only');
    });

    it(`walks every pair of ${SETS.length} permission sets (creator × requested): creates and deletes exactly when the requested set is within the creator's`, async () => {
      const creators = new Map<PermissionSet, string>();
      const targets = new Map<PermissionSet, { id: string }>();
      for (const set of SETS) creators.set(set, (await make(set, `creator ${label(set)}`)).value);
      for (const set of SETS) targets.set(set, await make(set, `target ${label(set)}`));
      const keysBefore = (await call(server, ADMIN_KEY, 'GET', '/v1/organization/admin_api_keys?limit=100')).body.data.map((k: any) => k.id).sort();
      const eventsBefore = await apiKeyEvents();

      let allowed = 0;
      for (const creator of SETS) {
        for (const requested of SETS) {
          const what = `${label(creator)} → ${label(requested)}`;
          const key = creators.get(creator)!;
          const missing = expectedMissing(creator, requested);
          const created = await call(server, key, 'POST', '/v1/organization/admin_api_keys', requested === null ? { name: what } : { name: what, permissions: requested });
          if (missing.length === 0) {
            allowed++;
            assert.equal(created.status, 200, `${what}: ${JSON.stringify(created.body)}`);
            assert.deepEqual(created.body.permissions, requested ?? ALL, what);
            assert.equal((await call(server, key, 'DELETE', `/v1/organization/admin_api_keys/${created.body.id}`)).status, 200, `delete ${what}`);
          } else {
            assertRefused(created, missing, `create ${what}`);
            assertRefused(await call(server, key, 'DELETE', `/v1/organization/admin_api_keys/${targets.get(requested)!.id}`), missing, `delete ${what}`);
          }
        }
      }
      // the rule's corners, so the walk cannot pass by refusing (or allowing) everything
      assert.equal(expectedMissing(null, null).length, 0);
      assert.deepEqual(expectedMissing(['api.management.write'], null), ['api.mtls.read', 'api.mtls.write', 'api.audit_logs.read']);
      assert.ok(allowed > 100 && allowed < SETS.length ** 2 / 2, `${allowed} pairs allowed`);

      // every refusal changed nothing: the same keys, and audit events for the allowed pairs only
      const keysAfter = (await call(server, ADMIN_KEY, 'GET', '/v1/organization/admin_api_keys?limit=100')).body.data.map((k: any) => k.id).sort();
      assert.deepEqual(keysAfter, keysBefore);
      assert.equal(await apiKeyEvents(), eventsBefore + 2 * allowed);
    });
  });
}
