// A real WSGI upstream (Python's wsgiref, which folds `x_forwarded_client_cert` and `x-forwarded-client-cert` into
// the same HTTP_X_FORWARDED_CLIENT_CERT, as CGI-style servers do): a forged underscore header must not show up as an
// identity the gateway did not verify, and with a verified certificate the gateway's value is the only one.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { engines } from '../support/engines.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { makeCa, makeClient, type Issued } from '../support/pki.js';
import { rawRequest } from '../support/raw-http.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { within } from '../support/wait.js';

const WSGI_APP = `
import json, sys
from wsgiref.simple_server import make_server, WSGIRequestHandler

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

def app(environ, start_response):
    seen = {k: v for k, v in environ.items() if k.startswith('HTTP_')}
    seen['PATH_INFO'] = environ['PATH_INFO']
    body = json.dumps(seen).encode()
    start_response('200 OK', [('Content-Type', 'application/json'), ('Content-Length', str(len(body)))])
    return [body]

server = make_server('127.0.0.1', 0, app, handler_class=Quiet)
print(server.server_port, flush=True)
server.serve_forever()
`;

async function startWsgi(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn('python3', ['-c', WSGI_APP], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: `http://127.0.0.1:${Number(chunk.toString().trim())}`, child };
}

const FORGED = [
  'x_forwarded_client_cert: Hash=forged;Subject="CN=admin"',
  'x_certgate_project_id: proj_other',
  'x_certgate_certificate_id: cert_forged',
  'x_mtls_client_id: admin',
];

for (const engine of engines) {
  describe(`a WSGI upstream behind the gateway (${engine.name})`, () => {
    let place: Awaited<ReturnType<typeof engine.fresh>>;
    let admin: TestServer;
    let wsgi: Awaited<ReturnType<typeof startWsgi>>;
    let gateway: TestGateway;
    let client: Issued;
    let openKey = '';
    let anchoredKey = '';
    let anchored = '';

    before(async () => {
      place = await engine.fresh();
      admin = await startTestServer(place);
      wsgi = await startWsgi();
      gateway = await startTestGateway(place, wsgi.url, undefined, ['--client-id-header', 'x-mtls-client-id', '--client-id-from', 'cn']);
      const org = admin.sdk.admin.organization;
      const open = (await org.projects.create({ name: 'open' })).id;
      openKey = (await org.projects.serviceAccounts.create(open, { name: 'svc' })).api_key!.value;
      anchored = (await org.projects.create({ name: 'anchored' })).id;
      anchoredKey = (await org.projects.serviceAccounts.create(anchored, { name: 'svc' })).api_key!.value;
      const ca = await makeCa({ name: 'wsgi CA' });
      client = await makeClient(ca, { name: 'w1' });
      const caId = (await org.certificates.create({ certificate: ca.pem })).id;
      await org.projects.certificates.activate(anchored, { certificate_ids: [caId] });
      await within(2000, async () => (await get(anchoredKey)).status === 403);
    });
    after(async () => {
      await gateway?.close().catch(() => undefined);
      wsgi?.child.kill();
      await admin?.close().catch(() => undefined);
      await place?.drop();
    });

    const get = (key: string, cert?: Issued) =>
      rawRequest(gateway, ['GET /v1/whoami HTTP/1.1', 'Host: localhost', `Authorization: Bearer ${key}`, ...FORGED], cert ? { client: cert } : {});

    it('shows no identity for a client without a certificate that forges one with underscores', async () => {
      const res = await get(openKey);
      assert.equal(res.status, 200, res.body);
      const environ = JSON.parse(res.body) as Record<string, string>;
      assert.equal(environ.PATH_INFO, '/v1/whoami');
      for (const name of ['HTTP_X_FORWARDED_CLIENT_CERT', 'HTTP_X_CERTGATE_PROJECT_ID', 'HTTP_X_CERTGATE_CERTIFICATE_ID', 'HTTP_X_MTLS_CLIENT_ID']) {
        assert.equal(environ[name], undefined, name);
      }
    });

    it("shows only the gateway's identity for a verified client that forges another", async () => {
      const res = await get(anchoredKey, client);
      assert.equal(res.status, 200, res.body);
      const environ = JSON.parse(res.body) as Record<string, string>;
      assert.match(environ.HTTP_X_FORWARDED_CLIENT_CERT!, /^Hash=[0-9a-f]{64};Subject="CN=w1"$/);
      assert.equal(environ.HTTP_X_CERTGATE_PROJECT_ID, anchored);
      assert.match(environ.HTTP_X_CERTGATE_CERTIFICATE_ID!, /^cert_/);
      assert.equal(environ.HTTP_X_MTLS_CLIENT_ID, 'w1');
      assert.equal(environ.HTTP_X_FORWARDED_FOR, '127.0.0.1');
    });
  });
}
