// Bundles the compiled CLI (dist/src/cli.js) into dist/bin/, which is what `certgate` and `npm start` run.
//
// Why: Node 20 resolves, reads, compiles and links every module file on its own. Unbundled, the gateway loaded some
// 400 files at start (Kysely alone 264) and spent most of its start-up CPU doing so. One file per command path:
// code splitting keeps each command's dynamic import() its own chunk, so the gateway still loads nothing of the
// admin API (test/commands/footprint.test.ts reads dist/bundle-meta.json to check which packages each loaded chunk holds).
//
// Left outside the bundle: native addons (better-sqlite3) and pg (it requires the optional pg-native), and whatever
// the code loads with createRequire() on purpose (the CEL libraries, @peculiar/x509, undici's Pool): those stay
// ordinary packages in node_modules.
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';

const outdir = 'dist/bin';
rmSync(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: { cli: 'dist/src/cli.js' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'pg', 'pg-native'],
  // CommonJS packages inside an ES bundle call require(); give them one
  banner: { js: "import { createRequire as __certgateCreateRequire } from 'node:module'; const require = __certgateCreateRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
});
// beside the bundle, not in it (the package ships dist/bin only)
writeFileSync('dist/bundle-meta.json', JSON.stringify(result.metafile));
