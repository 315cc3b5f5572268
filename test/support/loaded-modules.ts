// Loaded into a certgate process with `node --import` (NODE_OPTIONS): on SIGUSR2, writes what the process has loaded
// to the file named by CERTGATE_TEST_LOADED_MODULES, as { commonjs, esm }: the CommonJS modules (require.cache) and
// the ES module URLs, which a module hook (loaded-modules-hooks.ts) appends to a second file as they load. (A signal
// of its own, not exit: a SIGTERM that comes before the server has set its handlers ends the process without an exit
// event.) certgate runs as a bundle, so the ES modules are mostly the bundle's chunks; which packages a chunk holds
// is in dist/bundle-meta.json.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const require = createRequire(import.meta.url);
const file = process.env.CERTGATE_TEST_LOADED_MODULES;
if (file) {
  const esm = `${file}.esm`;
  writeFileSync(esm, '');
  register('./loaded-modules-hooks.js', import.meta.url, { data: { file: esm } });
  process.on('SIGUSR2', () => {
    const urls = readFileSync(esm, 'utf8').split('\n').filter(Boolean);
    writeFileSync(`${file}.tmp`, JSON.stringify({ commonjs: Object.keys(require.cache), esm: [...new Set(urls)] }));
    renameSync(`${file}.tmp`, file); // whole or not at all, for the test that waits for it
  });
}
