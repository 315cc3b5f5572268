// Issue 17.7: anyone with a project key, in a project with no anchor in force, could make the lockout preview
// expensive: every distinct client certificate was remembered with its whole chain (~79 KB padded with names),
// and a preview re-verified every one while `serve` answered nothing else. Here 322 distinct clients go through a
// real gateway (half of them with a ten-certificate chain padded to ~70 KB, one with a leaf larger than a sighting
// keeps, one with no certificate); what is stored of each stays within the per-client bound, and while a `serve`
// process computes the preview, /healthz on that same process answers within 100 ms, and the preview is right.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { DEFAULT_ORGANIZATION_ID } from '../../src/domain/model.js';
import { MAX_SIGHTING_CHAIN_BYTES } from '../../src/domain/sightings.js';
import { engines } from '../support/engines.js';
import { call, startTestGateway, startUpstream, type TestGateway } from '../support/gateway.js';
import { makeCa, makeClient, type Issued } from '../support/pki.js';
import { spawnCertgate, storeArgs, type CertgateProcess } from '../support/processes.js';
import { ADMIN_KEY } from '../support/server.js';
import { within } from '../support/wait.js';

const PER_GROUP = 160;
const fingerprint = (c: Issued) => createHash('sha256').update(Buffer.from(c.cert.rawData)).digest('hex');
/** DNS names enough to make a certificate about `kb` kilobytes */
const padding = (kb: number, tag: string) => Array.from({ length: Math.ceil((kb * 1024) / 36) }, (_, i) => `n${i}-${tag}.padding.example.com`);

async function inBatches<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

for (const engine of engines) {
  describe(`lockout preview under a flood of sightings (${engine.name})`, () => {
    let place: Awaited<ReturnType<typeof engine.fresh>>;
    let serve: CertgateProcess;
    let gateway: TestGateway;
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let project: string;
    let key: string;
    let ca1Id: string;
    let admitted: Issued[]; // leaves of ca1, through an intermediate
    let padded: Issued[]; // leaves of an unrelated CA, each sent with nine padded CA certificates
    let paddedChain: Issued[];
    let oversized: Issued;

    const admin = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(serve.url + path, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any };
    };

    before(async () => {
      place = await engine.fresh();
      serve = await spawnCertgate('serve', storeArgs(place));
      upstream = await startUpstream();
      gateway = await startTestGateway(place, upstream.url);
      project = (await admin('POST', '/v1/organization/projects', { name: 'flooded' })).body.id;
      key = (await admin('POST', `/v1/organization/projects/${project}/service_accounts`, { name: 'svc' })).body.api_key.value;

      const ca1 = await makeCa({ name: 'ca one' });
      const int1 = await makeCa({ name: 'intermediate one', issuer: ca1 });
      ca1Id = (await admin('POST', '/v1/organization/certificates', { certificate: ca1.pem })).body.id;
      // an attacker's CA: a root and eight CAs below it, each padded to about 7 KB with names
      const root = await makeCa({ name: 'padded root', dnsNames: padding(9, 'root') });
      paddedChain = [root];
      for (let i = 0; i < 8; i++) paddedChain.unshift(await makeCa({ name: `padded ${i}`, issuer: paddedChain[0]!, dnsNames: padding(9, String(i)) }));
      admitted = [];
      padded = [];
      for (let i = 0; i < PER_GROUP; i++) {
        admitted.push(await makeClient(int1, { subject: `CN=a-${i}` }));
        padded.push(await makeClient(paddedChain[0]!, { subject: `CN=b-${i}` }));
      }
      oversized = await makeClient(int1, { subject: 'CN=oversized', dnsNames: padding(20, 'leaf') });

      // no anchor in force: every client is admitted, and remembered
      const ok = async (options: Parameters<typeof call>[1]) => assert.equal((await call(gateway, { key, ...options })).status, 200);
      await inBatches(admitted, 8, (client) => ok({ client, chain: [int1] }));
      await inBatches(padded, 8, (client) => ok({ client, chain: paddedChain }));
      await ok({ client: oversized, chain: [int1] });
      await ok({});
      await within(10_000, async () => (await gateway.store.observedClients(DEFAULT_ORGANIZATION_ID, 0)).length === 2 * PER_GROUP + 2);
    });
    after(async () => {
      await gateway?.close();
      await upstream?.close();
      const code = await serve?.stop();
      await place.drop();
      assert.equal(code, 0);
    });

    it('keeps each client within the per-client bound: the leaf and the intermediates a path needs, with its names', async () => {
      const rows = await gateway.store.observedClients(DEFAULT_ORGANIZATION_ID, 0);
      const byFingerprint = new Map(rows.map((r) => [r.fingerprint, r]));
      for (const row of rows) {
        const bytes = row.chain.reduce((n, der) => n + der.length, 0);
        assert.ok(bytes <= MAX_SIGHTING_CHAIN_BYTES, `${row.subject}: ${bytes} bytes kept`);
      }
      const a = byFingerprint.get(fingerprint(admitted[7]!))!;
      assert.equal(a.chain.length, 2, 'the leaf and its intermediate');
      assert.equal(a.subject, 'CN=a-7');
      assert.equal(a.issuer, 'CN=intermediate one');
      const b = byFingerprint.get(fingerprint(padded[7]!))!;
      const sent = [padded[7]!, ...paddedChain].reduce((n, c) => n + c.cert.rawData.byteLength, 0);
      assert.ok(sent > 60_000, `the padded client sent ${sent} bytes of certificates`);
      assert.ok(b.chain.length >= 1 && b.chain.length < 10, `${b.chain.length} of its 10 certificates kept`);
      assert.deepEqual(b.chain[0], Buffer.from(padded[7]!.cert.rawData), 'the leaf first');
      assert.equal(byFingerprint.get(fingerprint(oversized))!.chain.length, 0, 'a leaf larger than the bound is not kept');
      assert.equal(byFingerprint.get('')!.chain.length, 0);
    });

    it('answers /healthz within 100 ms while it computes the preview, and the preview is right', async () => {
      const health = new Agent({ keepAliveTimeout: 30_000 });
      try {
        // a warm connection, so that what is timed is the server's answer
        await (await request(`${serve.url}/healthz`, { dispatcher: health })).body.text();
        let done = false;
        const latencies: number[] = [];
        const poll = (async () => {
          while (!done) {
            const started = performance.now();
            const res = await request(`${serve.url}/healthz`, { dispatcher: health });
            await res.body.text();
            if (!done) latencies.push(performance.now() - started);
            await new Promise((r) => setTimeout(r, 5));
          }
        })();
        const started = performance.now();
        const preview = await admin('POST', '/v1/organization/certificates/preview', { action: 'activate', certificate_ids: [ca1Id], project_id: project });
        const took = performance.now() - started;
        done = true;
        await poll;
        assert.equal(preview.status, 200, JSON.stringify(preview.body));
        const worst = Math.max(...latencies);
        assert.ok(latencies.length >= 1, `no /healthz was answered during the preview (${took.toFixed(0)} ms)`);
        assert.ok(worst < 100, `/healthz took ${worst.toFixed(1)} ms during a preview of ${took.toFixed(0)} ms (${latencies.length} answered)`);

        // right: the padded clients and the one without a certificate would be refused, ca1's clients admitted
        assert.equal(preview.body.would_admit, PER_GROUP);
        assert.equal(preview.body.unjudged, 1);
        const named = preview.body.would_refuse.map((c: any) => c.fingerprint);
        assert.deepEqual(named.sort(), [...padded.map(fingerprint), null].sort());
        const b3 = preview.body.would_refuse.find((c: any) => c.fingerprint === fingerprint(padded[3]!));
        assert.equal(b3.subject, 'CN=b-3');
        assert.equal(b3.project_id, project);
      } finally {
        await health.close();
      }
    });
  });
}
