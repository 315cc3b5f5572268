import type { Generated } from 'kysely';

// Table shapes shared by every engine. Times are Unix seconds.

export interface OrganizationsTable {
  id: string;
  name: string;
  /** bumped by every write transaction: the lock that serializes writes, and the snapshot's version */
  revision: Generated<number>;
  created_at: number;
  /** the change feed holds every change of the revisions after this one */
  changes_from: Generated<number>;
}

export interface OrganizationChangesTable {
  organization_id: string;
  revision: number;
  /** what was touched (see ChangeKind) */
  kind: string;
  ref: string;
}

export interface AdminApiKeysTable {
  id: string;
  organization_id: string;
  name: string;
  key_hash: string;
  redacted_value: string;
  created_at: number;
  /** JSON array of permission names; null: an owner key (all of them) */
  permissions: string | null;
  expires_at: number | null;
  last_used_at: number | null;
  deleted_at: number | null;
}

export interface AuditLogsTable {
  id: string;
  organization_id: string;
  type: string;
  effective_at: number;
  /** the admin key that acted, null for a local operator */
  actor_id: string | null;
  project_id: string | null;
  /** the event as the API returns it (JSON) */
  body: string;
}

export interface AuditLogResourcesTable {
  audit_log_id: string;
  resource_id: string;
}

export interface ProjectsTable {
  id: string;
  organization_id: string;
  name: string;
  external_key_id: string | null;
  created_at: number;
  archived_at: number | null;
}

export interface CertificatesTable {
  id: string;
  organization_id: string;
  name: string | null;
  fingerprint: string;
  content: string;
  valid_at: number;
  expires_at: number;
  created_at: number;
  filter_expression: string | null;
  filter_updated_at: number | null;
}

export interface CertificateCrlsTable {
  certificate_id: string;
  organization_id: string;
  content: string;
  this_update: number;
  next_update: number | null;
  revoked_count: number;
  updated_at: number;
}

export interface MtlsSettingsTable {
  organization_id: string;
  scope: string;
  mode: string;
  updated_at: number;
}

export interface MtlsObservationsTable {
  organization_id: string;
  scope: string;
  would_refuse: number;
  admitted: number;
  since: number;
}

export interface ObservedClientsTable {
  organization_id: string;
  project_id: string;
  service_account_id: string;
  fingerprint: string;
  subject: string | null;
  issuer: string | null;
  /** base64 DER of each certificate kept (domain/sightings.ts), leaf first, joined with ',' ('' when none) */
  chain: string;
  certificate_id: string | null;
  first_seen: number;
  last_seen: number;
  requests: number;
}

/** scope is 'organization' or a project id */
export interface ActivationsTable {
  organization_id: string;
  certificate_id: string;
  scope: string;
  created_at: number;
}

export interface ServiceAccountsTable {
  id: string;
  organization_id: string;
  project_id: string;
  name: string;
  role: string;
  created_at: number;
}

export interface ProjectApiKeysTable {
  id: string;
  organization_id: string;
  project_id: string;
  service_account_id: string;
  key_hash: string;
  redacted_value: string;
  created_at: number;
}

export interface SchemaMigrationsTable {
  name: string;
  applied_at: number;
}

export interface Database {
  organizations: OrganizationsTable;
  organization_changes: OrganizationChangesTable;
  admin_api_keys: AdminApiKeysTable;
  audit_logs: AuditLogsTable;
  audit_log_resources: AuditLogResourcesTable;
  projects: ProjectsTable;
  certificates: CertificatesTable;
  certificate_crls: CertificateCrlsTable;
  mtls_settings: MtlsSettingsTable;
  mtls_observations: MtlsObservationsTable;
  observed_clients: ObservedClientsTable;
  activations: ActivationsTable;
  service_accounts: ServiceAccountsTable;
  project_api_keys: ProjectApiKeysTable;
  certgate_migrations: SchemaMigrationsTable;
}
