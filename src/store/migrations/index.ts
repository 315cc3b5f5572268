import type { Kysely } from 'kysely';
import * as initial from './001_initial.js';
import * as certificateFilters from './002_certificate_filters.js';
import * as certificateCrls from './003_certificate_crls.js';
import * as mtlsSettings from './004_mtls_settings.js';
import * as observedClients from './005_observed_clients.js';
import * as adminKeysAndAuditLog from './006_admin_keys_and_audit_log.js';
import * as organizationChanges from './007_organization_changes.js';
import * as writePathIndexes from './008_write_path_indexes.js';
import * as auditRetention from './009_audit_retention.js';
import * as boundedSightings from './010_bounded_sightings.js';

export interface Migration {
  readonly name: string;
  readonly up: (db: Kysely<any>) => Promise<void>;
}

/** In the order they apply. Never edit a migration that has shipped: add the next one. */
export const migrations: readonly Migration[] = [
  { name: '001_initial', up: initial.up },
  { name: '002_certificate_filters', up: certificateFilters.up },
  { name: '003_certificate_crls', up: certificateCrls.up },
  { name: '004_mtls_settings', up: mtlsSettings.up },
  { name: '005_observed_clients', up: observedClients.up },
  { name: '006_admin_keys_and_audit_log', up: adminKeysAndAuditLog.up },
  { name: '007_organization_changes', up: organizationChanges.up },
  { name: '008_write_path_indexes', up: writePathIndexes.up },
  { name: '009_audit_retention', up: auditRetention.up },
  { name: '010_bounded_sightings', up: boundedSightings.up },
];
