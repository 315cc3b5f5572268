// Attacks through the shipped ingress configurations (docs/ingress) that suite.ts does not make: a client's second
// Authorization header, and a client's Connection header naming the headers the ingress sets (a proxy drops the
// headers a Connection header names). nginx, HAProxy and Caddy run their files against real certgate processes, on
// every engine, in front of an upstream that records every header line as it arrived.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { startIngress, type IngressKind, type IngressProcess } from '../support/ingress.js';
import { rawRequest, rawValues, startRecordingUpstream } from '../support/raw-http.js';
import { makeCa, makeClient, type Issued } from '../support/pki.js';
import { spawnCertgate, storeArgs, type CertgateProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SECRET = 'ingress-secret-0123456789abcdef';
const KINDS: readonly IngressKind[] = ['nginx', 'haproxy', 'caddy'];

for (const engine of engines) {
  describe(`attacks through the shipped ingress configurations (${engine.name})`, () => {
    let place: Awaited<ReturnType<typeof engine.fresh>>;
    let admin: TestServer;
    let upstream: Awaited<ReturnType<typeof startRecordingUpstream>>;
    const certgates: CertgateProcess[] = [];
    const ingresses = new Map<IngressKind, IngressProcess>();
    let key: string, observedKey: string, openKey: string;
    let good: Issued;

    before(async () => {
      place = await engine.fresh();
      admin = await startTestServer(place);
      upstream = await startRecordingUpstream();
      const org = admin.sdk.admin.organization;
      const project = (await org.projects.create({ name: 'enforced' })).id;
      const observed = (await org.projects.create({ name: 'observed' })).id;
      const open = (await org.projects.create({ name: 'no anchor' })).id;
      key = (await org.projects.serviceAccounts.create(project, { name: 'svc' })).api_key!.value;
      observedKey = (await org.projects.serviceAccounts.create(observed, { name: 'svc' })).api_key!.value;
      openKey = (await org.projects.serviceAccounts.create(open, { name: 'svc' })).api_key!.value;
      const ca = await makeCa({ name: 'attacks CA' });
      good = await makeClient(ca, { subject: 'CN=good, O=Example' });
      const caId = (await org.certificates.create({ certificate: ca.pem })).id;
      await org.projects.certificates.activate(project, { certificate_ids: [caId] });
      await org.projects.certificates.activate(observed, { certificate_ids: [caId] });
      assert.equal((await admin.request('POST', `/v1/organization/projects/${observed}/mtls_settings`, { mode: 'observe' })).status, 200);
      const env = { CERTGATE_INGRESS_SECRET: SECRET, CERTGATE_WORKERS: '1' };
      const decide = await spawnCertgate('decide', storeArgs(place), env);
      const terminated = await spawnCertgate('gateway', [...storeArgs(place), '--behind-ingress', '--upstream-url', upstream.url], env);
      certgates.push(decide, terminated);
      for (const kind of KINDS) {
        const certgate = kind === 'haproxy' ? terminated : decide;
        ingresses.set(kind, await startIngress(kind, { certgate: new URL(certgate.url).host, upstreamUrl: upstream.url, secret: SECRET, clientCas: ca.pem }));
      }
    });
    after(async () => {
      for (const ingress of ingresses.values()) await ingress.stop();
      for (const certgate of certgates) await certgate.stop();
      await upstream?.close();
      await admin?.close();
      await place?.drop();
    });

    /** One request through the ingress as written, and the header lines the upstream got for it (none: it got nothing). */
    async function send(kind: IngressKind, lines: string[], client?: Issued) {
      const ingress = ingresses.get(kind)!;
      const before = upstream.seen.length;
      const res = await rawRequest({ url: ingress.url, ca: ingress.ca }, ['GET /v1/echo HTTP/1.1', `Host: localhost:${ingress.port}`, ...lines], client ? { client } : {});
      assert.ok(upstream.seen.length <= before + 1);
      return { res, seen: upstream.seen[before]?.rawHeaders };
    }

    for (const kind of KINDS) {
      it(`${kind}: a second Authorization header never lets a request through on another key than the upstream may read`, async () => {
        // the first key needs no certificate, the second one does and none is presented; and the other way round
        for (const keys of [
          [openKey, key],
          [key, openKey],
        ]) {
          const { res, seen } = await send(kind, keys.map((k) => `Authorization: Bearer ${k}`));
          if (seen === undefined) {
            // refused: by the ingress (nginx: 400), by decide (401), or as the first key's request (403)
            assert.ok([400, 401, 403].includes(res.status), `${kind}: ${res.status} ${res.body}`);
            continue;
          }
          // passed on: only when the ingress sends on just the one key that was decided (certgate's terminated gateway)
          assert.equal(res.status, 200);
          assert.deepEqual(rawValues(seen, 'authorization'), [`Bearer ${keys[0]}`], `${kind} passed on another key than was decided on`);
        }
      });

      it(`${kind}: a client's Connection header cannot have the ingress drop the certificate or an identity header`, async () => {
        // naming the certificate header: the presented certificate still counts
        const named = await send(kind, [`Authorization: Bearer ${key}`, 'Connection: keep-alive, client-cert, x-certgate-ingress-secret'], good);
        assert.equal(named.res.status, 200, named.res.body);
        for (const name of ['x-forwarded-client-cert', 'x-certgate-project-id', 'x-certgate-certificate-id']) assert.equal(rawValues(named.seen!, name).length, 1, `${kind}: ${name}`);
        // naming the identity headers, and observe mode's mark: the upstream still gets them
        const identity = await send(kind, [`Authorization: Bearer ${key}`, 'Connection: x-forwarded-client-cert, x-certgate-project-id, x-certgate-certificate-id'], good);
        assert.equal(identity.res.status, 200, identity.res.body);
        for (const name of ['x-forwarded-client-cert', 'x-certgate-project-id', 'x-certgate-certificate-id']) assert.equal(rawValues(identity.seen!, name).length, 1, `${kind}: ${name}`);
        const marked = await send(kind, [`Authorization: Bearer ${observedKey}`, 'Connection: x-certgate-would-refuse']);
        assert.equal(marked.res.status, 200, marked.res.body);
        assert.deepEqual(rawValues(marked.seen!, 'x-certgate-would-refuse'), ['certificate_required'], `${kind} let the client hide observe mode's mark`);
      });
    }
  });
}
