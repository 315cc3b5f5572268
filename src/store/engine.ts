import type { Kysely, Transaction } from 'kysely';
import { sql } from './kysely.js';
import type { Database } from './schema.js';

/** What differs between engines; everything else is SQL shared by both (sql-store.ts and the files of each role). */
export interface Engine {
  readonly db: Kysely<Database>;
  /** Opens a transaction that will write: it must wait for, not fail on, a concurrent writer. */
  readonly beginWrite: string;
  /** Opens a read-only transaction whose statements all see one committed state. */
  readonly beginRead: string;
  /** Runs first inside the migration transaction, so that concurrent starts apply migrations once. */
  lockMigrations(conn: Kysely<Database>): Promise<void>;
  /** The organization's committed revision read at once, or undefined when it cannot be (a transaction is open on the one connection). */
  revisionNow?(organizationId: string): number | undefined;
  /** Runs before every transaction begins; throws when the engine knows it cannot be used now. */
  beforeTransaction?(): void;
  /** Runs last inside every write transaction (PostgreSQL announces the change to other processes). */
  beforeCommit(conn: Kysely<Database>, organizationId: string): Promise<void>;
  watch(listener: () => void): () => void;
  ready(): boolean;
  close(): Promise<void>;
}

/** A connection, or one inside a transaction: what the statements of every role run on. */
export type Conn = Kysely<Database> | Transaction<Database>;

/** Runs `work` in one transaction on one connection, opened with `begin` (the engine's beginRead or beginWrite). */
export async function inTransaction<T>(engine: Engine, begin: string, work: (conn: Kysely<Database>) => Promise<T>): Promise<T> {
  engine.beforeTransaction?.();
  return engine.db.connection().execute(async (conn) => {
    await sql.raw(begin).execute(conn);
    let result: T;
    try {
      result = await work(conn);
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw err;
    }
    await sql`commit`.execute(conn);
    return result;
  });
}
