import { createRequire } from 'node:module';
import type * as K from 'kysely';

// Kysely's CommonJS build, not its ES module build: the ES build is some 260 modules, each resolved, compiled and
// linked on its own by Node's ESM loader, which costs a process about 0.2 CPU-s more at start (measured: 250-350
// against 80-100 CPU-ms on Node 20) and 8 MiB. The two builds are the same code. Values come from here; types
// still come from 'kysely' (`import type`), which the compiler erases.
const kysely = createRequire(import.meta.url)('kysely') as typeof K;

export const { Kysely, SqliteDialect, PostgresDialect, sql } = kysely;
