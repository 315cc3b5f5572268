// Active anchors near their expiry are logged as warnings when serve and gateway start, and at each daily check.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../../src/commands/serve.js';
import { serveConfig } from '../../src/config.js';
import { reportExpiringAnchors } from '../../src/services/expiry-alerts.js';
import { engines } from '../support/engines.js';
import { makeCa } from '../support/pki.js';
import { spawnCertgate, storeArgs } from '../support/processes.js';
import { ADMIN_KEY, startTestServer } from '../support/server.js';

const DAY = 24 * 60 * 60 * 1000;

interface Line {
  level: number;
  msg: string;
  certificate_id?: string;
  name?: string | null;
  scopes?: string[];
  expires_at?: string;
  days_left?: number;
}

/** The JSON log lines that warn of an anchor's expiry. */
function warnings(output: string): Line[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => l.certificate_id !== undefined && /trust anchor/.test(l.msg));
}

for (const engine of engines) {
  describe(`expiry alerts (${engine.name})`, () => {
    let place: Awaited<ReturnType<(typeof engines)[number]['fresh']>>;
    let project: string;
    const ids = { near: '', far: '', idle: '' };
    const expiry = { near: 0, far: 0 };

    before(async () => {
      place = await engine.fresh();
      const server = await startTestServer(place);
      const org = server.sdk.admin.organization;
      const [near, far, idle] = await Promise.all([
        makeCa({ name: 'near CA', notAfter: new Date(Date.now() + 10 * DAY) }),
        makeCa({ name: 'far CA', notAfter: new Date(Date.now() + 100 * DAY) }),
        makeCa({ name: 'idle CA', notAfter: new Date(Date.now() + 5 * DAY) }),
      ]);
      ids.near = (await org.certificates.create({ certificate: near.pem, name: 'near' })).id;
      ids.far = (await org.certificates.create({ certificate: far.pem, name: 'far' })).id;
      ids.idle = (await org.certificates.create({ certificate: idle.pem, name: 'idle' })).id;
      expiry.near = (await org.certificates.retrieve(ids.near)).certificate_details.expires_at!;
      expiry.far = (await org.certificates.retrieve(ids.far)).certificate_details.expires_at!;
      project = (await org.projects.create({ name: 'alerts' })).id;
      await org.certificates.activate({ certificate_ids: [ids.near] });
      await org.projects.certificates.activate(project, { certificate_ids: [ids.near, ids.far] });
      await server.close();
    });
    after(() => place.drop());

    describe('in process, with a clock', () => {
      let server: RunningServer;
      let logged = '';
      let offsetMs = 0;
      before(async () => {
        const config = serveConfig(['--port', '0', '--admin-key', ADMIN_KEY, ...storeArgs(place)], {});
        server = await startServer(config, {
          clock: () => new Date(Date.now() + offsetMs),
          logger: { level: 'warn', stream: { write: (line: string) => (logged += line) } },
        });
      });
      after(() => server.close());

      it('warns at start of the anchor within 30 days, with its scopes and days left, and of no other', () => {
        const lines = warnings(logged);
        assert.deepEqual(lines.map((l) => l.certificate_id), [ids.near], logged);
        const [line] = lines;
        assert.equal(line!.level, 40);
        assert.equal(line!.name, 'near');
        assert.deepEqual(line!.scopes, ['organization', project].sort());
        assert.equal(line!.expires_at, new Date(expiry.near * 1000).toISOString());
        assert.ok(line!.days_left === 9 || line!.days_left === 10, String(line!.days_left));
        assert.ok(!logged.includes('BEGIN'), 'no PEM in the log');
      });

      it('at a later check, with the clock 80 days on, warns of the far one and calls the near one expired', async () => {
        offsetMs = 80 * DAY;
        const seen: Line[] = [];
        const count = await reportExpiringAnchors(server.rt, 30, { warn: (entry, msg) => seen.push({ level: 40, msg, ...entry }) });
        assert.equal(count, 2);
        assert.deepEqual(seen.map((l) => l.certificate_id), [ids.near, ids.far]);
        assert.ok(seen[0]!.days_left! < 0 && /expired/.test(seen[0]!.msg));
        assert.deepEqual(seen[1]!.scopes, [project]);
        assert.ok(seen[1]!.days_left === 19 || seen[1]!.days_left === 20, String(seen[1]!.days_left));
      });
    });

    it('certgate serve and certgate gateway log them as they start, each with its own window', async () => {
      const serve = await spawnCertgate('serve', storeArgs(place));
      const serveOutput = serve.output();
      await serve.stop();
      assert.deepEqual(warnings(serveOutput).map((l) => l.certificate_id), [ids.near], serveOutput);

      const gateway = await spawnCertgate('gateway', ['--upstream-url', 'http://127.0.0.1:9', ...storeArgs(place)], { CERTGATE_EXPIRY_WARNING_DAYS: '200' });
      const gatewayOutput = gateway.output();
      await gateway.stop();
      assert.deepEqual(warnings(gatewayOutput).map((l) => l.certificate_id), [ids.near, ids.far], gatewayOutput);
      assert.ok(!/metrics listening/.test(gatewayOutput), 'no metrics listener unless --metrics-port is given');
    });
  });
}
