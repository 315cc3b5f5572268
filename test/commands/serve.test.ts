// certgate serve, as an operator starts it twice on one data directory.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServer } from '../../src/commands/serve.js';
import { serveConfig } from '../../src/config.js';
import { tempDir } from '../support/server.js';

describe('certgate serve', () => {
  it('prints a new key at first start to a terminal, and at a restart says how to get another one, showing no key', async () => {
    const dir = tempDir();
    try {
      const config = serveConfig(['--port', '0', '--host', '127.0.0.1', '--data-dir', dir.path], {});
      const first: string[] = [];
      const one = await startServer(config, { logger: false, announce: (text) => first.push(text), terminal: true });
      await one.close();
      const key = /\b(sk-admin-\S+)/.exec(first.join(''))?.[1];
      assert.ok(key, first.join(''));

      const second: string[] = [];
      const two = await startServer(config, { logger: false, announce: (text) => second.push(text) });
      await two.close();
      const said = second.join('');
      assert.match(said, /Admin keys exist; the first one was printed at first start/);
      assert.ok(said.includes(`certgate admin-keys create --data-dir ${dir.path}`), said);
      assert.match(said, /CERTGATE_ADMIN_KEY/);
      assert.ok(!said.includes('sk-admin-'), 'no key is shown at a restart');
    } finally {
      dir.remove();
    }
  });
});
