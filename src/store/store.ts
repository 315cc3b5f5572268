import type {
  ActivationRecord,
  CertificateRecord,
  KeyOwner,
  OrganizationState,
  ProjectKeyOwner,
  ProjectRecord,
  ServiceAccountRecord,
} from '../domain/model.js';

/**
 * The one storage interface. Every engine gives the same guarantees through
 * transactions: `write` runs its work holding the organization's write lock,
 * so rules checked inside it (the 50-certificate limit, the delete guard)
 * hold across processes.
 */
export interface Store {
  migrate(): Promise<void>;
  close(): Promise<void>;

  ensureOrganization(id: string, name: string, now: number): Promise<void>;
  adminKeyOwner(keyHash: string): Promise<KeyOwner | undefined>;
  projectKeyOwner(keyHash: string): Promise<ProjectKeyOwner | undefined>;
  countAdminKeys(organizationId: string): Promise<number>;
  /** Inserts the key unless one with the same hash exists. */
  addAdminKey(key: { id: string; organizationId: string; name: string; keyHash: string; redactedValue: string; createdAt: number }): Promise<void>;

  loadOrganization(organizationId: string): Promise<OrganizationState>;
  write<T>(organizationId: string, work: (tx: WriteTransaction) => Promise<T>): Promise<T>;

  /** Called when another connection or process may have committed a change. */
  onExternalChange(listener: () => void): () => void;

  /** False while the store cannot hear of other processes' changes (PostgreSQL: its LISTEN connection is down). */
  ready(): boolean;
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57014', // query_canceled (statement timeout)
  '53300', // too_many_connections
  '55000', // object_not_in_prerequisite_state (database does not allow connections)
]);

/** True when an error means the database could not be reached or answered in time, not that a query was wrong. */
export function isStoreUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(err.message);
}

export interface WriteTransaction {
  certificateCount(): Promise<number>;
  certificate(id: string): Promise<CertificateRecord | undefined>;
  certificateByFingerprint(fingerprint: string): Promise<CertificateRecord | undefined>;
  insertCertificate(record: CertificateRecord): Promise<void>;
  renameCertificate(id: string, name: string | null): Promise<void>;
  setFilter(id: string, expression: string | null, now: number): Promise<void>;
  deleteCertificate(id: string): Promise<void>;

  activations(certificateIds: readonly string[]): Promise<ActivationRecord[]>;
  activate(scope: string, certificateIds: readonly string[], now: number): Promise<void>;
  deactivate(scope: string, certificateIds: readonly string[]): Promise<void>;
  deactivateScope(scope: string): Promise<void>;

  project(id: string): Promise<ProjectRecord | undefined>;
  insertProject(record: ProjectRecord): Promise<void>;
  updateProject(id: string, patch: { name?: string; externalKeyId?: string | null; archivedAt?: number }): Promise<void>;

  serviceAccount(id: string): Promise<ServiceAccountRecord | undefined>;
  insertServiceAccount(record: ServiceAccountRecord, key: { id: string; keyHash: string; redactedValue: string } | null): Promise<void>;
  updateServiceAccount(id: string, patch: { name?: string; role?: string }): Promise<void>;
  deleteServiceAccount(id: string): Promise<void>;
}
