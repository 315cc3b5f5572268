import type { Kysely } from 'kysely';
import * as initial from './001_initial.js';

export interface Migration {
  readonly name: string;
  readonly up: (db: Kysely<any>) => Promise<void>;
}

/** In the order they apply. Never edit a migration that has shipped: add the next one. */
export const migrations: readonly Migration[] = [{ name: '001_initial', up: initial.up }];
