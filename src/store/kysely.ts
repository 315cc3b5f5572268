// Kysely, from one place. `certgate` runs as one bundle (scripts/bundle.mjs), in which Kysely's ES build is a part of
// one file. The compiled tree (dist/src), which the tests import, loads Kysely's ES build module by module (some 260
// files, about 0.2 CPU-s more at start on Node 20); only the tests pay that.
export { Kysely, SqliteDialect, PostgresDialect, sql } from 'kysely';
