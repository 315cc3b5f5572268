// The upstream both proxies forward to: a tiny node:http server answering every
// request with the same small JSON body (an OpenAI-style model list).
// Prints {"port":N} once listening; exits when its stdin closes (its parent is gone).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const UPSTREAM_BODY = Buffer.from(
  JSON.stringify({ object: 'list', data: [{ id: 'bench-model', object: 'model', created: 0, owned_by: 'certgate-bench' }] }),
);

const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': UPSTREAM_BODY.length });
  res.end(UPSTREAM_BODY);
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
