// Durability under kill -9: `certgate serve` with its default workers takes concurrent writes (uploads, project
// creates, activations) and is killed with SIGKILL, primary and workers at once, at a random moment, again and again. After each restart every write it
// acknowledged is there, whole, with its audit event (and no event is without its change), and the 50-certificate
// limit holds. CERTGATE_KILL_CYCLES sets the cycles per
// engine (CI: 4; 40 and more by hand).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { makeCa } from '../support/pki.js';
import { spawnCertgate, storeArgs } from '../support/processes.js';
import { ADMIN_KEY } from '../support/server.js';

const CYCLES = Number(process.env.CERTGATE_KILL_CYCLES ?? 4);

for (const engine of engines) {
  describe(`kill -9 under write load (${engine.name})`, () => {
    it(`loses no acknowledged write over ${CYCLES} SIGKILL cycles`, async (t) => {
      const place = await engine.fresh();
      const pems = await Promise.all(Array.from({ length: 60 }, () => makeCa().then((ca) => ca.pem)));
      const acknowledged = { projects: new Set<string>(), certificates: new Set<string>(), active: new Set<string>() };
      let next = 0;
      try {
        for (let cycle = 0; cycle < CYCLES; cycle++) {
          const server = await spawnCertgate('serve', storeArgs(place));
          const api = (method: string, path: string, body: unknown) =>
            fetch(server.url + path, { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
              async (r) => ({ status: r.status, body: (await r.json()) as any }),
              () => ({ status: 0, body: null }),
            );
          // every write acknowledged before the kill (a 200 received) must survive it
          let writing = true;
          const writers = Array.from({ length: 6 }, async (_, w) => {
            while (writing) {
              const kind = (next++ + w) % 3;
              if (kind === 0) {
                const res = await api('POST', '/v1/organization/projects', { name: `p${next}` });
                if (res.status === 200) acknowledged.projects.add(res.body.id);
              } else if (kind === 1) {
                const res = await api('POST', '/v1/organization/certificates', { certificate: pems[next % pems.length] });
                if (res.status === 200) acknowledged.certificates.add(res.body.id);
              } else if (acknowledged.certificates.size > 0) {
                const id = [...acknowledged.certificates][next % acknowledged.certificates.size]!;
                const res = await api('POST', '/v1/organization/certificates/activate', { certificate_ids: [id] });
                if (res.status === 200) acknowledged.active.add(id);
              }
              if (!writing) break;
            }
          });
          // the kill lands at a random moment once this cycle's load is under way (a loaded machine may take a
          // while to acknowledge its first write; a fixed window would then kill before any)
          // (a project, which every cycle then has: on a busy machine the first acknowledgements may all be uploads)
          const before = acknowledged.projects.size;
          const underWay = () => acknowledged.projects.size > before && acknowledged.certificates.size > 0;
          for (let waited = 0; !underWay() && waited < 20_000; waited += 10) {
            await new Promise((r) => setTimeout(r, 10));
          }
          await new Promise((r) => setTimeout(r, Math.random() * 500));
          await server.killAll(); // the primary and every worker at once
          writing = false;
          await Promise.all(writers);
        }
        const server = await spawnCertgate('serve', storeArgs(place));
        try {
          const get = (path: string) => fetch(server.url + path, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then((r) => r.json() as Promise<any>);
          const projects = new Set<string>();
          for (let after: string | undefined, page: any; (page = await get(`/v1/organization/projects?limit=100${after ? `&after=${after}` : ''}`)); after = page.last_id) {
            for (const p of page.data) projects.add(p.id);
            if (!page.has_more) break;
          }
          const certificates = (await get('/v1/organization/certificates?limit=100')).data as { id: string; active: boolean }[];
          for (const id of acknowledged.projects) assert.ok(projects.has(id), `project ${id} was acknowledged and is gone`);
          const stored = new Map(certificates.map((c) => [c.id, c.active]));
          for (const id of acknowledged.certificates) assert.ok(stored.has(id), `certificate ${id} was acknowledged and is gone`);
          for (const id of acknowledged.active) assert.equal(stored.get(id), true, `certificate ${id} was acknowledged active and is not`);
          assert.ok(certificates.length <= 50);

          // the audit log: an acknowledged change has its event, and no event is without its change
          const events: any[] = [];
          for (let after: string | undefined, page: any; (page = await get(`/v1/organization/audit_logs?limit=100${after ? `&after=${after}` : ''}`)); after = page.last_id) {
            events.push(...page.data);
            if (!page.has_more) break;
          }
          const created = (type: string) => new Set(events.filter((e) => e.type === type).map((e) => e[type].id as string));
          const projectEvents = created('project.created');
          const certificateEvents = created('certificate.created');
          assert.deepEqual([...projectEvents].sort(), [...projects].sort(), 'project.created events and stored projects differ');
          assert.deepEqual([...certificateEvents].sort(), [...stored.keys()].sort(), 'certificate.created events and stored certificates differ');
          const activatedEvents = new Set(events.filter((e) => e.type === 'certificates.activated').flatMap((e) => e['certificates.activated'].certificates.map((c: any) => c.id)));
          for (const id of acknowledged.active) assert.ok(activatedEvents.has(id), `activation of ${id} was acknowledged and has no event`);
          for (const id of activatedEvents) assert.equal(stored.get(id), true, `an activation event for ${id}, which is not active`);
          assert.ok(acknowledged.projects.size >= CYCLES && acknowledged.certificates.size > 0, `the load wrote something each cycle: ${acknowledged.projects.size} projects, ${acknowledged.certificates.size} uploads`);
          t.diagnostic(
            `${CYCLES} kills; acknowledged and found after them: ${acknowledged.projects.size} projects, ${acknowledged.certificates.size} uploads, ${acknowledged.active.size} activations; ${events.length} audit events, each with its change`,
          );
        } finally {
          await server.stop();
        }
      } finally {
        await place.drop();
      }
    });
  });
}
