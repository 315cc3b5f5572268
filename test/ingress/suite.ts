// The cases every shipped ingress configuration must pass (issue 20), run by nginx.test.ts, haproxy.test.ts and
// caddy.test.ts against real certgate processes over one store, on every engine: the ingress runs its file from
// docs/ingress with only ports and paths filled in (test/support/ingress.ts), and clients speak TLS to it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { startUpstream } from '../support/gateway.js';
import { startIngress, through, type IngressKind, type IngressProcess } from '../support/ingress.js';
import { makeCa, makeClient, makeCrl, type Issued } from '../support/pki.js';
import { spawnCertgate, storeArgs, type CertgateProcess } from '../support/processes.js';
import { startTestServer, tempDir, type TestServer } from '../support/server.js';
import { within } from '../support/wait.js';

const SECRET = 'ingress-secret-0123456789abcdef';
const FILTER = 'subject.organizational_unit == "Production"';
const fingerprintOf = (c: Issued) => createHash('sha256').update(Buffer.from(c.cert.rawData)).digest('hex');

export interface IngressTraits {
  /** certgate's part: the decision service (forward-auth) or the terminated gateway */
  readonly certgate: 'decide' | 'terminated';
  /** whether the ingress passes the intermediates the client sent (HAProxy) or only the leaf (nginx, Caddy) */
  readonly passesChain: boolean;
  /** how long after an activation the ingress enforces it, at most: certgate's 250 ms, plus nginx's cache */
  readonly propagationMs: number;
}

export function ingressSuite(kind: IngressKind, traits: IngressTraits): void {
  for (const engine of engines) {
    describe(`${kind} with docs/ingress's configuration, ${traits.certgate === 'decide' ? 'certgate decide' : 'certgate gateway --behind-ingress'} (${engine.name})`, () => {
      let place: Awaited<ReturnType<typeof engine.fresh>>;
      let admin: TestServer;
      let upstream: Awaited<ReturnType<typeof startUpstream>>;
      let certgate: CertgateProcess;
      let ingress: IngressProcess;
      let dir: ReturnType<typeof tempDir>;
      let project: string, open: string, midProject: string, key: string, openKey: string, midKey: string, caId: string;
      let ca: Issued, mid: Issued, good: Issued, staging: Issued, revoked: Issued, stranger: Issued, belowMid: Issued;

      before(async () => {
        place = await engine.fresh();
        dir = tempDir();
        admin = await startTestServer(place);
        upstream = await startUpstream();
        const org = admin.sdk.admin.organization;
        project = (await org.projects.create({ name: `${kind} project` })).id;
        open = (await org.projects.create({ name: `${kind} no anchor` })).id;
        midProject = (await org.projects.create({ name: `${kind} intermediate anchor` })).id;
        key = (await org.projects.serviceAccounts.create(project, { name: 'svc' })).api_key!.value;
        openKey = (await org.projects.serviceAccounts.create(open, { name: 'open svc' })).api_key!.value;
        midKey = (await org.projects.serviceAccounts.create(midProject, { name: 'mid svc' })).api_key!.value;
        ca = await makeCa({ name: `${kind} CA` });
        mid = await makeCa({ name: `${kind} intermediate`, issuer: ca });
        const strangerCa = await makeCa({ name: 'another CA' });
        good = await makeClient(ca, { subject: 'CN=good, OU=Production, O=Example' });
        staging = await makeClient(ca, { subject: 'CN=staging, OU=Staging, O=Example' });
        revoked = await makeClient(ca, { subject: 'CN=revoked, OU=Production, O=Example' });
        belowMid = await makeClient(mid, { subject: 'CN=below, OU=Production, O=Example' });
        stranger = await makeClient(strangerCa, { subject: 'CN=stranger, OU=Production, O=Example' });
        caId = (await org.certificates.create({ certificate: ca.pem })).id;
        await org.projects.certificates.activate(project, { certificate_ids: [caId] });
        assert.equal((await admin.request('PUT', `/v1/organization/certificates/${caId}/crl`, { crl: await makeCrl(ca, { revoked: [revoked] }) })).status, 200);
        assert.equal((await admin.request('PUT', `/v1/organization/certificates/${caId}/filter`, { expression: FILTER })).status, 200);
        // the intermediate as an anchor of its own, for the project whose clients come through an ingress that passes no chain
        const midId = (await org.certificates.create({ certificate: mid.pem })).id;
        await org.projects.certificates.activate(midProject, { certificate_ids: [midId] });
        const secretFile = join(dir.path, 'ingress-secret');
        writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
        certgate =
          traits.certgate === 'decide'
            ? await spawnCertgate('decide', [...storeArgs(place), '--ingress-secret-file', secretFile])
            : await spawnCertgate('gateway', [...storeArgs(place), '--behind-ingress', '--ingress-secret-file', secretFile, '--upstream-url', upstream.url]);
        ingress = await startIngress(kind, { certgate: new URL(certgate.url).host, upstreamUrl: upstream.url, secret: SECRET, clientCas: ca.pem });
      });
      after(async () => {
        await ingress?.stop();
        await certgate?.stop();
        await upstream?.close();
        await admin?.close();
        await place?.drop();
        dir?.remove();
      });

      const seenLast = () => upstream.seen.at(-1)!.headers;

      it('admits the right certificate, and the upstream sees its identity and none of the ingress headers', async () => {
        const before = upstream.seen.length;
        const res = await through(ingress, { key, client: good, path: '/v1/echo', method: 'POST', body: '{"model":"m"}' });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(upstream.seen.length, before + 1);
        const seen = seenLast();
        assert.equal(upstream.seen.at(-1)!.body, '{"model":"m"}');
        assert.match(String(seen['x-forwarded-client-cert']), new RegExp(`^Hash=${fingerprintOf(good)};Subject="[^"]*CN=good`));
        assert.equal(seen['x-certgate-project-id'], project);
        assert.equal(seen['x-certgate-certificate-id'], caId);
        assert.equal(seen.authorization, `Bearer ${key}`);
        for (const name of ['client-cert', 'client-cert-chain', 'x-certgate-ingress-secret', 'x-certgate-status', 'x-certgate-error', 'x-certgate-would-refuse']) {
          assert.equal(seen[name], undefined, `${name} reached the upstream`);
        }
        assert.ok(!JSON.stringify(seen).includes(SECRET), 'the secret never reaches the upstream');
        // where no anchor is in force, no certificate is needed and no identity is set
        const opened = await through(ingress, { key: openKey, path: '/v1/echo' });
        assert.equal(opened.status, 200, JSON.stringify(opened.body));
        for (const name of ['x-forwarded-client-cert', 'x-certgate-project-id', 'x-certgate-certificate-id']) assert.equal(seenLast()[name], undefined, name);
      });

      it("refuses with OpenAI's status, code and body at the client", async () => {
        const cases: [string, Parameters<typeof through>[1], number, string, string][] = [
          ['no certificate', { key }, 403, 'certificate_required', 'no_certificate'],
          ['a certificate of another CA', { key, client: stranger }, 403, 'certificate_verification_failed', 'untrusted_issuer'],
          ['a revoked certificate', { key, client: revoked }, 403, 'certificate_verification_failed', 'revoked'],
          ['a certificate the filter rejects', { key, client: staging }, 403, 'certificate_attribute_verification_failed', 'filter_rejected'],
          ['no key', { client: good }, 401, 'missing_api_key', ''],
          ['an unknown key', { key: 'sk-svcacct-unknown0123456789', client: good }, 401, 'invalid_api_key', ''],
        ];
        const before = upstream.seen.length;
        for (const [what, options, status, code, reason] of cases) {
          const res = await through(ingress, { ...options, path: '/v1/echo', method: 'POST', body: '{}' });
          assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
          assert.match(String(res.headers['content-type']), /^application\/json/, what);
          assert.deepEqual(Object.keys(res.body.error), ['message', 'type', 'param', 'code'], what);
          assert.equal(res.body.error.code, code, what);
          if (reason) assert.match(res.body.error.message, new RegExp(`\\(reason: ${reason}\\)$`), what);
        }
        assert.equal(upstream.seen.length, before, 'no refused request reached the upstream');
      });

      it("a client's own certificate and identity headers never count and never reach the upstream", async () => {
        const forged = {
          'client-cert': Buffer.from(good.cert.rawData).toString('base64'),
          'client-cert-chain': Buffer.from(ca.cert.rawData).toString('base64'),
          'x-forwarded-client-cert': `Hash=${fingerprintOf(good)};Cert="${encodeURIComponent(good.pem)}"`,
          x_forwarded_client_cert: 'Hash=forged-underscore',
          'x-certgate-project-id': 'proj_forged',
          x_certgate_project_id: 'proj_forged_underscore',
          'x-certgate-certificate-id': 'cert_forged',
          'x-certgate-would-refuse': 'forged',
          'x-certgate-ingress-secret': SECRET,
        };
        // the good certificate's headers without its key: still no certificate presented
        const refused = await through(ingress, { key, headers: forged, path: '/v1/echo' });
        assert.equal(refused.status, 403, JSON.stringify(refused.body));
        assert.equal(refused.body.error.code, 'certificate_required');
        // admitted as another client, or where no certificate is needed: the forged values never arrive
        for (const options of [{ key, client: good }, { key: openKey }]) {
          const res = await through(ingress, { ...options, headers: forged, path: '/v1/echo' });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          const seen = JSON.stringify(seenLast());
          for (const value of ['forged', 'proj_forged', 'cert_forged', SECRET, encodeURIComponent(good.pem)]) assert.ok(!seen.includes(value), `${value} reached the upstream: ${seen}`);
          for (const name of ['x_forwarded_client_cert', 'x_certgate_project_id', 'client-cert', 'client-cert-chain']) assert.equal(seenLast()[name], undefined, name);
        }
      });

      it(
        traits.passesChain
          ? 'a leaf from an intermediate is admitted with the intermediate its client sent'
          : 'passes no intermediates: a leaf from an intermediate is refused unless the intermediate is the anchor',
        async () => {
          const viaRoot = await through(ingress, { key, client: belowMid, chain: [mid], path: '/v1/echo' });
          if (traits.passesChain) {
            assert.equal(viaRoot.status, 200, JSON.stringify(viaRoot.body));
            assert.match(String(seenLast()['x-forwarded-client-cert']), new RegExp(`^Hash=${fingerprintOf(belowMid)};`));
            // again and again: every connection a full handshake, the chain there every time
            for (let i = 0; i < 3; i++) assert.equal((await through(ingress, { key, client: belowMid, chain: [mid], path: '/v1/echo' })).status, 200);
          } else {
            assert.equal(viaRoot.status, 403, JSON.stringify(viaRoot.body));
            assert.equal(viaRoot.body.error.code, 'certificate_verification_failed');
          }
          // the intermediate as the anchor: admitted through every ingress
          const viaMid = await through(ingress, { key: midKey, client: belowMid, chain: [mid], path: '/v1/echo' });
          assert.equal(viaMid.status, 200, JSON.stringify(viaMid.body));
          assert.equal(seenLast()['x-certgate-project-id'], midProject);
        },
      );

      it(`enforces an activation change through the ingress within ${traits.propagationMs} ms`, async () => {
        const org = admin.sdk.admin.organization;
        const spare = (await org.projects.create({ name: `${kind} spare` })).id;
        const spareKey = (await org.projects.serviceAccounts.create(spare, { name: 'spare svc' })).api_key!.value;
        // admitted without a certificate, and (nginx) that decision now in its cache
        assert.equal((await through(ingress, { key: spareKey, path: '/v1/echo' })).status, 200);
        await org.projects.certificates.activate(spare, { certificate_ids: [caId] });
        const took = await within(traits.propagationMs, async () => (await through(ingress, { key: spareKey, path: '/v1/echo' })).status === 403);
        process.stderr.write(`${kind} (${engine.name}): activation enforced through the ingress after ${Math.round(took)} ms\n`);
        assert.equal((await through(ingress, { key: spareKey, client: good, path: '/v1/echo' })).status, 200, 'and its certificate admitted');
        await org.projects.certificates.deactivate(spare, { certificate_ids: [caId] });
        await within(traits.propagationMs, async () => (await through(ingress, { key: spareKey, path: '/v1/echo' })).status === 200);
      });

      if (kind === 'nginx') {
        it('caches decisions in its private cache directory, whose files hold the Authorization header', async () => {
          assert.equal((await through(ingress, { key, client: good, path: '/v1/echo' })).status, 200);
          const cache = join(ingress.dir, 'cache');
          const files = readdirSync(cache, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
          assert.ok(files.length > 0, 'a decision was cached');
          // why the cache directory must be private (and on tmpfs): the cache key, Authorization included, is in the file
          const texts = files.map((f) => readFileSync(join(f.parentPath ?? (f as { path?: string }).path ?? cache, f.name), 'latin1'));
          assert.ok(texts.some((t) => t.includes(`Bearer ${key}`)), 'the key is in a cache file');
        });
      }
    });
  }
}
