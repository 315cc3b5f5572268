// Audit retention: events past --audit-retention-days are deleted in small batches, with the rows that index their
// resources, on every engine; newer events, and every event when no retention is set, are kept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ORGANIZATION_ID, type Actor } from '../../src/domain/model.js';
import { openRuntime } from '../../src/runtime.js';
import { pruneAuditLog } from '../../src/services/audit-retention.js';
import { createProject } from '../../src/services/projects.js';
import { engines } from '../support/engines.js';
import { spawnCertgate, storeArgs } from '../support/processes.js';
import { ADMIN_KEY } from '../support/server.js';

const BY: Actor = { organizationId: DEFAULT_ORGANIZATION_ID, key: null, local: 'test' };
const DAY_MS = 24 * 60 * 60 * 1000;
const QUERY = { effectiveAt: {}, types: [], projectIds: [], actorIds: [], resourceIds: [], limit: 100 };
const silent = { info: () => undefined, warn: () => undefined };

for (const engine of engines) {
  describe(`audit retention (${engine.name})`, () => {
    it('deletes events past retention in batches, with their resource rows, and keeps the rest', async () => {
      const place = await engine.fresh();
      const clock = { offsetMs: -40 * DAY_MS };
      const rt = await openRuntime({ dataDir: place.dataDir, databaseUrl: place.databaseUrl }, { clock: () => new Date(Date.now() + clock.offsetMs) });
      try {
        const old: string[] = [];
        for (let i = 0; i < 30; i++) old.push((await createProject(rt, BY, { name: `old ${i}` })).id);
        clock.offsetMs = 0;
        const recent: string[] = [];
        for (let i = 0; i < 5; i++) recent.push((await createProject(rt, BY, { name: `new ${i}` })).id);
        const before = await rt.store.auditLogs(DEFAULT_ORGANIZATION_ID, QUERY);
        assert.equal(before.length, 35);

        const cutoff = rt.nowSeconds() - 30 * 24 * 60 * 60;
        const batches: number[] = [];
        for (let n = -1; n !== 0; ) batches.push((n = await rt.store.pruneAuditLogs(DEFAULT_ORGANIZATION_ID, cutoff, 7)));
        assert.deepEqual(batches, [7, 7, 7, 7, 2, 0], 'batches of at most 7, stopping at the first event inside retention');

        const after = await rt.store.auditLogs(DEFAULT_ORGANIZATION_ID, QUERY);
        assert.deepEqual(after.map((e) => (e as any).project?.id ?? (e as any)['project.created']?.id).sort(), [...recent].sort());
        assert.equal((await rt.store.auditLogs(DEFAULT_ORGANIZATION_ID, { ...QUERY, resourceIds: [old[0]!] })).length, 0, 'the resource rows went with their events');
        assert.equal((await rt.store.auditLogs(DEFAULT_ORGANIZATION_ID, { ...QUERY, resourceIds: [recent[0]!] })).length, 1);
        // the projects themselves are untouched: retention forgets history, not state
        assert.ok((await rt.snapshot(DEFAULT_ORGANIZATION_ID)).project(old[0]!));

        assert.equal(await pruneAuditLog(rt, 1, silent), 0, 'nothing of today is past a 1-day retention');
      } finally {
        await rt.close();
        await place.drop();
      }
    });
  });
}

describe('certgate serve --audit-retention-days', () => {
  it('prunes at start in the default worker set-up, once, and logs how many without any event content', async () => {
    const engine = engines[0]!;
    const place = await engine.fresh();
    const clock = { offsetMs: -100 * DAY_MS };
    const rt = await openRuntime({ dataDir: place.dataDir, databaseUrl: place.databaseUrl }, { clock: () => new Date(Date.now() + clock.offsetMs) });
    for (let i = 0; i < 12; i++) await createProject(rt, BY, { name: `secret-looking name ${i}` });
    await rt.close();
    const server = await spawnCertgate('serve', [...storeArgs(place), '--audit-retention-days', '90'], { CERTGATE_WORKERS: '' });
    try {
      let events: any[] = [];
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`${server.url}/v1/organization/audit_logs?limit=100`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
        events = ((await res.json()) as any).data;
        if (!events.some((e) => e.type === 'project.created')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(events.filter((e) => e.type === 'project.created').length, 0, 'the 100-day-old events are gone');
      assert.ok(events.length >= 1, 'the events of this start (the configured key) are kept');
      const lines = server.output().split('\n').filter((l) => l.includes('audit events past retention deleted'));
      assert.equal(lines.length, 1, 'one process of the workers prunes');
      assert.match(lines[0]!, /"deleted":12/);
      assert.doesNotMatch(server.output(), /secret-looking/);
    } finally {
      await server.stop();
      await place.drop();
    }
  });

  it('refuses a retention that is not a whole number of days', async () => {
    const { serveConfig } = await import('../../src/config.js');
    for (const bad of ['0', '-1', '1.5', 'forever', '36501']) {
      assert.throws(() => serveConfig([`--audit-retention-days=${bad}`], {}), /whole number of days/);
    }
    assert.equal(serveConfig([], {}).auditRetentionDays, undefined, 'keeps everything by default');
    assert.equal(serveConfig([], { CERTGATE_AUDIT_RETENTION_DAYS: '400' }).auditRetentionDays, 400);
  });
});
