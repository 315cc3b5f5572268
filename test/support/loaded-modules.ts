// Loaded into a certgate process with `node --import` (NODE_OPTIONS): on SIGUSR2, writes the CommonJS modules the
// process has loaded (require.cache) to the file named by CERTGATE_TEST_LOADED_MODULES. (A signal of its own, not
// exit: a SIGTERM that comes before the server has set its handlers ends the process without an exit event.) Every heavy dependency
// certgate keeps off a start-up path (Fastify, Ajv, prom-client, @peculiar/x509, the CEL libraries, undici's
// index, Kysely's builds) is CommonJS, or loaded through require(), so it shows there.
import { renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const file = process.env.CERTGATE_TEST_LOADED_MODULES;
if (file) {
  process.on('SIGUSR2', () => {
    writeFileSync(`${file}.tmp`, JSON.stringify(Object.keys(require.cache)));
    renameSync(`${file}.tmp`, file); // whole or not at all, for the test that waits for it
  });
}
