// Issue 17, item 1, through the real gateway: the 241-byte filter that used to end the process is refused when saved;
// a filter that fits the save-time probe but not a huge leaf answers 503 filter_error, and the gateway goes on
// serving: a bystander project's requests are answered within 100 ms throughout.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { engines } from '../support/engines.js';
import { call, startScene, type Scene } from '../support/gateway.js';
import { makeCa, makeClient, type Issued } from '../support/pki.js';
import { within } from '../support/wait.js';

const SPLIT_JOIN = `subject.common_name${'.split("").join("0123456789abcdef")'.repeat(6)}.size() == 0`;
/** fits the budget on the save-time probe (20 SANs), not on a leaf with 800: map's list grows by a copy per step */
const OVER_AT_RUN_TIME = 'subject_alt_names.map(s, s.value + s.value).size() > 0';

for (const engine of engines) {
  describe(`filters under a budget of work, through the gateway (${engine.name})`, () => {
    let scene: Scene;
    let caId: string;
    let huge: Issued;
    let ordinary: Issued;
    let bystanderKey: string;

    before(async () => {
      scene = await startScene(await engine.fresh(), 'budget');
      const ca = await makeCa({ name: 'budget CA' });
      caId = await scene.enforce(ca.pem);
      huge = await makeClient(ca, { dnsNames: Array.from({ length: 800 }, (_, i) => `${"w".repeat(40)}${i}.example.com`) });
      ordinary = await makeClient(ca, { dnsNames: ['w1.example.com'] });
      const org = scene.admin.sdk.admin.organization;
      const other = (await org.projects.create({ name: 'bystander' })).id;
      bystanderKey = (await org.projects.serviceAccounts.create(other, { name: 'bystander svc' })).api_key!.value;
    });
    after(() => scene.close());

    const filterPath = () => `/v1/organization/certificates/${caId}/filter`;

    it('refuses the 241-byte split/join chain when saved, naming the cost, and changes nothing', async () => {
      const res = await scene.admin.request('PUT', filterPath(), { expression: SPLIT_JOIN });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'mtls_cel_policy_invalid');
      assert.equal(res.body.error.param, 'expression');
      assert.match(res.body.error.message, /budget of work/);
      assert.match(res.body.error.message, /2,000,000 units/);
      assert.equal((await scene.admin.request('GET', filterPath())).body.expression, null);
    });

    it('answers 503 filter_error for a leaf over the budget, admits an ordinary one, and keeps a bystander under 100 ms', async () => {
      assert.equal((await scene.admin.request('PUT', filterPath(), { expression: OVER_AT_RUN_TIME })).status, 200);
      await within(1000, async () => (await call(scene.gateway, { key: scene.key, client: huge })).status === 503);
      const refused = await call(scene.gateway, { key: scene.key, client: huge });
      assert.equal(refused.body.error.code, 'authentication_temporarily_unavailable');
      assert.match(refused.body.error.message, /budget of work/);
      assert.match(refused.body.error.message, /\(reason: filter_error\)$/);
      assert.equal((await call(scene.gateway, { key: scene.key, client: ordinary })).status, 200);

      // the attack: four clients with the huge leaf, over and over, while a bystander project asks on a kept-alive connection
      const bystander = new Agent({ connect: { ca: scene.gateway.ca, servername: 'localhost' } });
      const latencies: number[] = [];
      let attacking = true;
      // each attacker keeps its connection, so what it costs the gateway per request is admission and the filter, not a handshake
      const attackers = Array.from({ length: 4 }, async () => {
        const agent = new Agent({ connect: { ca: scene.gateway.ca, servername: 'localhost', cert: huge.pem, key: huge.keyPem } });
        let n = 0;
        while (attacking) {
          const res = await request(`${scene.gateway.url}/v1/echo`, { headers: { authorization: `Bearer ${scene.key}` }, dispatcher: agent });
          await res.body.text();
          assert.equal(res.statusCode, 503);
          n++;
        }
        await agent.close();
        return n;
      });
      // their handshakes (a 50 KiB leaf each) are the handshake budget's business (issue 17, item 6), not the filter's
      await new Promise((r) => setTimeout(r, 500));
      const until = Date.now() + 3000;
      while (Date.now() < until) {
        const started = performance.now();
        const res = await request(`${scene.gateway.url}/v1/echo`, { headers: { authorization: `Bearer ${bystanderKey}` }, dispatcher: bystander });
        await res.body.text();
        latencies.push(performance.now() - started);
        assert.equal(res.statusCode, 200);
        await new Promise((r) => setTimeout(r, 20));
      }
      attacking = false;
      const attempts = (await Promise.all(attackers)).reduce((a, b) => a + b, 0);
      await bystander.close();
      assert.ok(attempts >= 4, `${attempts} attacking requests`);
      latencies.sort((a, b) => a - b);
      assert.ok(latencies.at(-1)! < 100, `bystander latencies (ms): median ${latencies[latencies.length >> 1]!.toFixed(1)}, max ${latencies.at(-1)!.toFixed(1)}`);
      // and the gateway still serves the filtered project
      assert.equal((await call(scene.gateway, { key: scene.key, client: ordinary })).status, 200);
    });
  });
}
