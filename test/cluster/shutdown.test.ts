// SIGTERM: stop accepting, finish what is in flight, exit cleanly.
import { it } from 'node:test';
import { Agent, request } from 'undici';
import { startUpstream } from '../support/gateway.js';
import { assertStreamOutlivesSigterm, gatewayTlsFiles, spawnCertgate } from '../support/processes.js';
import { ADMIN_KEY, tempDir } from '../support/server.js';

it('a gateway finishes an in-flight streamed response after SIGTERM, then exits 0', async () => {
  const dir = tempDir();
  const upstream = await startUpstream();
  const serve = await spawnCertgate('serve', ['--data-dir', dir.path]);
  const tls = await gatewayTlsFiles(dir.path);
  const gateway = await spawnCertgate('gateway', ['--data-dir', dir.path, ...tls.args, '--upstream-url', upstream.url]);
  const agent = new Agent({ connect: { ca: tls.ca, servername: 'localhost' } });
  try {
    const post = (path: string, body: unknown) =>
      fetch(serve.url + path, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
        (r) => r.json() as Promise<any>,
      );
    const project = (await post('/v1/organization/projects', { name: 'shutdown' })).id;
    const key = (await post(`/v1/organization/projects/${project}/service_accounts`, { name: 'svc' })).api_key.value;

    const res = await request(`${gateway.url}/v1/stream`, { headers: { authorization: `Bearer ${key}` }, dispatcher: agent });
    await assertStreamOutlivesSigterm(gateway, res, upstream.release);
  } finally {
    await agent.close();
    await serve.stop();
    await upstream.close();
    dir.remove();
  }
});
