// SIGTERM: stop accepting, finish what is in flight, exit cleanly.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Agent, request } from 'undici';
import { startUpstream } from '../support/gateway.js';
import { gatewayTlsFiles, spawnCertgate } from '../support/processes.js';
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
    assert.equal(res.statusCode, 200);
    const reader = res.body[Symbol.asyncIterator]();
    assert.match(Buffer.from((await reader.next()).value).toString(), /"n":1/);

    const exited = gateway.stop(); // SIGTERM while the response is still open
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(gateway.child.exitCode, null, 'still running while a response is in flight');
    upstream.release();
    let rest = '';
    for (let next = await reader.next(); !next.done; next = await reader.next()) rest += Buffer.from(next.value).toString();
    assert.match(rest, /"n":2[\s\S]*\[DONE\]/, 'the in-flight response completed');
    assert.equal(await exited, 0);
  } finally {
    await agent.close();
    await serve.stop();
    await upstream.close();
    dir.remove();
  }
});
