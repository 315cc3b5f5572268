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
  readonly engine: 'sqlite' | 'postgres';
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
}

export interface WriteTransaction {
  certificateCount(): Promise<number>;
  certificate(id: string): Promise<CertificateRecord | undefined>;
  certificateByFingerprint(fingerprint: string): Promise<CertificateRecord | undefined>;
  insertCertificate(record: CertificateRecord): Promise<void>;
  renameCertificate(id: string, name: string | null): Promise<void>;
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
  deleteServiceAccount(id: string): Promise<void>;
}
