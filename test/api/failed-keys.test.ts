// The flood of wrong admin keys (issue 17, item 8), replayed at small scale against `certgate serve` as a process:
// after a burst from one address its requests are answered 429 with Retry-After, another address is not
// affected, and the burst is logged once, without a key. bench/hostile/failed-keys.mjs replays it at 2,000/s.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { ADMIN_KEY, tempDir } from '../support/server.js';
import { spawnCertgate } from '../support/processes.js';

/** A GET from a chosen loopback source address (Linux routes all of 127/8 to lo). */
function get(url: string, path: string, key: string, localAddress: string): Promise<{ status: number; retryAfter: string | undefined; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(url + path, { headers: { authorization: `Bearer ${key}` }, localAddress, agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON (a /metrics page): kept as text, for the assertion to report
        }
        resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const WRONG = 'sk-admin-wrong-0123456789abcdefghijklmnopqrstuv';

describe('wrong admin keys from one address', () => {
  it('throttles the address after a burst (429, Retry-After), leaves another address alone, and logs the burst once without the key', async () => {
    const dir = tempDir();
    // one process: the wrong-key budget is each process's own (with N workers an address has N bursts, one per
    // worker its connections land on), and this test counts one burst
    const serve = await spawnCertgate('serve', ['--data-dir', dir.path, '--workers', '1']);
    try {
      const path = '/v1/organization/certificates';
      const answers: number[] = [];
      let throttled: Awaited<ReturnType<typeof get>> | undefined;
      for (let i = 0; i < 60; i++) {
        const res = await get(serve.url, path, `${WRONG}${i}`, '127.0.0.1');
        answers.push(res.status);
        if (res.status === 429) throttled ??= res;
      }
      const first429 = answers.indexOf(429);
      assert.ok(first429 >= 20 && first429 <= 22, `the burst is allowed, then throttled: ${answers.join(' ')}`);
      assert.ok(answers.slice(0, 20).every((s) => s === 401));
      assert.ok(answers.filter((s) => s === 429).length >= 35, answers.join(' '));
      assert.equal(throttled!.retryAfter, '1');
      assert.deepEqual(Object.keys(throttled!.body.error).sort(), ['code', 'message', 'param', 'type']);
      assert.equal(throttled!.body.error.code, 'rate_limit_exceeded');
      assert.equal(throttled!.body.error.type, 'requests');

      // the budget refills one key a second, and a busy machine may take that long between two requests: each check
      // below is made right after the bucket was seen empty again
      const drained = async () => {
        for (let i = 0; i < 10 && (await get(serve.url, path, WRONG, '127.0.0.1')).status !== 429; i++);
      };
      // the throttled address is refused even with the right key: its keys are not looked at (decided: as fail2ban)
      await drained();
      assert.equal((await get(serve.url, path, ADMIN_KEY, '127.0.0.1')).status, 429);
      // another address: its right key works and its wrong key is an ordinary 401
      assert.equal((await get(serve.url, path, ADMIN_KEY, '127.0.0.2')).status, 200);
      assert.equal((await get(serve.url, path, WRONG, '127.0.0.2')).status, 401);
      // /metrics is behind the same throttle
      await drained();
      assert.equal((await get(serve.url, '/metrics', ADMIN_KEY, '127.0.0.1')).status, 429);

      // after Retry-After, the address's right key works again
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await get(serve.url, path, ADMIN_KEY, '127.0.0.1')).status, 200);

      const log = serve.output();
      const lines = log.split('\n').filter((l) => l.includes('too many wrong admin keys'));
      assert.equal(lines.length, 1, log);
      const line = JSON.parse(lines[0]!);
      assert.equal(line.level, 40);
      assert.equal(line.source, '127.0.0.1');
      assert.ok(line.failedKeys >= 20);
      assert.ok(!log.includes(WRONG) && !log.includes(ADMIN_KEY), 'no key in the log');
    } finally {
      await serve.stop();
      dir.remove();
    }
  });
});
