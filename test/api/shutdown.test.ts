import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { it } from 'node:test';
import { ADMIN_KEY, startTestServer } from '../support/server.js';

// While the admin API drains (SIGTERM → app.close()), a request already in flight finishes; one that then arrives
// on the same kept-alive connection is answered 503 in OpenAI's envelope with the connection closed, never with
// Fastify's own body ({"error":"Service Unavailable","statusCode":503}).
it('a request arriving while the admin API shuts down gets 503 shutting_down in the envelope, and its connection is closed', async () => {
  const server = await startTestServer();
  const { port } = new URL(server.url);
  const socket = connect(Number(port), '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const body = JSON.stringify({ name: 'in flight' });
  // the first request's head and half its body: it is in flight when the server starts closing
  socket.write(`POST /v1/organization/projects HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${ADMIN_KEY}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
  await new Promise((r) => setTimeout(r, 100));
  const closing = server.close();
  await new Promise((r) => setTimeout(r, 100));
  // the rest of the body, and a second request on the same connection
  socket.write(`${body.slice(5)}GET /v1/organization/projects HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${ADMIN_KEY}\r\n\r\n`);
  await ended;
  await closing;
  const responses = received.split(/(?=HTTP\/1\.1 )/);
  assert.equal(responses.length, 2, received);
  assert.match(responses[0]!, /^HTTP\/1\.1 200 /, 'the request in flight was finished');
  assert.match(responses[0]!, /"name":"in flight"/);
  assert.match(responses[1]!, /^HTTP\/1\.1 503 /);
  assert.match(responses[1]!, /\r\nconnection: close\r\n/i);
  const envelope = JSON.parse(responses[1]!.slice(responses[1]!.indexOf('\r\n\r\n') + 4));
  assert.deepEqual(Object.keys(envelope), ['error']);
  assert.equal(envelope.error.code, 'shutting_down');
  assert.equal(envelope.error.type, 'server_error');
});
