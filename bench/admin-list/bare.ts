// The baseline for bench/admin-list: a bare node:http server answering every
// request with the very bytes certgate's admin API returned for the list.
// usage: node bare.js PORT BODY_FILE CONTENT_TYPE
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [port, bodyFile, contentType] = process.argv.slice(2);
const body = readFileSync(bodyFile!);
const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': contentType!, 'content-length': body.length, 'x-request-id': 'req_bare' });
  res.end(body);
});
server.keepAliveTimeout = 72_000;
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
