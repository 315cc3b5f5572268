import type { Kysely } from 'kysely';
import * as initial from './001_initial.js';
import * as certificateFilters from './002_certificate_filters.js';

export interface Migration {
  readonly name: string;
  readonly up: (db: Kysely<any>) => Promise<void>;
}

/** In the order they apply. Never edit a migration that has shipped: add the next one. */
export const migrations: readonly Migration[] = [
  { name: '001_initial', up: initial.up },
  { name: '002_certificate_filters', up: certificateFilters.up },
];
