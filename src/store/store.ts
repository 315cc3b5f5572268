import type { AuditEntry } from '../domain/audit.js';
import type {
  ActivationRecord,
  Actor,
  AdminKeyRecord,
  CertificateRecord,
  CrlRecord,
  MtlsMode,
  ObservedClient,
  Observations,
  OrganizationPatch,
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
  /** The admin key with this hash, unless it was deleted. */
  adminKeyByHash(keyHash: string): Promise<{ organizationId: string; key: AdminKeyRecord } | undefined>;
  projectKeyOwner(keyHash: string): Promise<ProjectKeyOwner | undefined>;
  /** The organization's admin keys that were not deleted, by id ascending. */
  adminKeys(organizationId: string): Promise<AdminKeyRecord[]>;
  /** Notes when keys were last used; apart from the organization's revision (no snapshot reload). */
  touchAdminKeys(ids: readonly string[], now: number): Promise<void>;
  /** One page of the audit log, newest first: at most `limit + 1` entries, so the caller can tell whether more follow. */
  auditLogs(organizationId: string, query: AuditQuery): Promise<AuditEntry[]>;
  /** Deletes at most `batch` of the organization's oldest audit events that took effect before `olderThan`; returns how many. */
  pruneAuditLogs(organizationId: string, olderThan: number, batch: number): Promise<number>;
  /** Every organization's id. */
  organizationIds(): Promise<string[]>;

  loadOrganization(organizationId: string): Promise<OrganizationState>;
  /**
   * The organization's revision as committed now (0: it has none), read from the store itself: one indexed read,
   * answered without a promise where the engine can (SQLite outside a transaction). Every commit acknowledged before
   * the call is counted in it.
   */
  revision(organizationId: string): number | Promise<number>;
  /** The rows changed since a revision, read in one transaction; null when the feed no longer reaches back that far. */
  catchUp(organizationId: string, fromRevision: number): Promise<OrganizationPatch | null>;
  /** Adds a gateway's counts for a scope in observe mode; counted apart from the organization's revision (no snapshot reload). */
  addObservations(organizationId: string, scope: string, wouldRefuse: number, admitted: number, now: number): Promise<void>;
  observations(organizationId: string, scope: string): Promise<Observations>;
  /**
   * Adds sightings of clients (merged with what other gateways saw), each chain kept only as far as sightingChain
   * allows, and forgets those not seen since `forgetBefore` and, past `maxPerOrganization`, the longest unseen.
   */
  recordClients(organizationId: string, sightings: readonly ObservedClient[], forgetBefore: number, maxPerOrganization: number): Promise<void>;
  /**
   * The clients seen since `seenSince`, in key order (project, service account, fingerprint): a page of at most
   * `limit` after the key `after`, of one project when `projectId` is given. Readers of many take them page by page.
   */
  observedClients(organizationId: string, seenSince: number, page?: SightingsPage): Promise<ObservedClient[]>;
  /** A write transaction for the actor's organization; every change it makes keeps its audit event through `tx.appendAudit`. */
  write<T>(actor: Actor, now: number, work: (tx: WriteTransaction) => Promise<T>): Promise<T>;

  /** Called when another connection or process may have committed a change. */
  onExternalChange(listener: () => void): () => void;

  /** False while the store cannot hear of other processes' changes (PostgreSQL: its LISTEN connection is down). */
  ready(): boolean;
}

/**
 * The one classification of store outages, shared by both servers: an error
 * that says the database cannot be reached, cannot be used, or cannot answer
 * now, rather than that a query was wrong. The gateway goes on enforcing what
 * it last knew through these; writes answer 503 database_unavailable.
 */
const UNAVAILABLE_CODES = new Set([
  // the network
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  // PostgreSQL (SQLSTATE)
  '3D000', // invalid_catalog_name: the database was dropped or renamed
  '28000', // invalid_authorization_specification: the role may not log in (NOLOGIN, pg_hba)
  '28P01', // invalid_password: credentials rotated
  '57P01', // admin_shutdown, and pg_terminate_backend
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, or in recovery
  '57P04', // database_dropped
  '57P05', // idle_session_timeout
  '57014', // query_canceled (statement timeout)
  '25006', // read_only_sql_transaction: a standby, or default_transaction_read_only
  '55000', // object_not_in_prerequisite_state (the database does not allow connections)
  '55006', // object_in_use (the database is being dropped)
]);

/** Whole SQLSTATE classes that mean "the server cannot serve now". */
const UNAVAILABLE_CLASSES = [
  '08', // connection exception
  '53', // insufficient resources: disk full, out of memory, too many connections
  '58', // system error: I/O
  'XX', // internal error, data or index corrupted
];

/** better-sqlite3's codes (primary and extended) for a file that cannot be used now. */
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|CANTOPEN|CORRUPT|NOTADB|IOERR|FULL|READONLY|PERM|PROTOCOL|NOMEM|AUTH)/;

/** True when an error means the database could not be reached or used, not that a query was wrong. */
export function isStoreUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (UNAVAILABLE_CODES.has(code) || SQLITE_UNAVAILABLE.test(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && UNAVAILABLE_CLASSES.includes(code.slice(0, 2))) return true;
  }
  if (err instanceof StoreUnavailable) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly/i.test(err.message);
}

/** A store migrated by a newer certgate than this one: it is not served (see migrate). */
export class StoreTooNew extends Error {}

/** Asked to open a store that must already exist (verify, backup, the offline key command), where there is none. */
export class StoreMissing extends Error {}

/** Raised by a store that knows it cannot be used (its file was moved away, say). */
export class StoreUnavailable extends Error {}

/** A page of sightings: see Store.observedClients. */
export interface SightingsPage {
  readonly projectId?: string | null;
  /** the key of the last sighting of the page before */
  readonly after?: { readonly projectId: string; readonly serviceAccountId: string; readonly fingerprint: string } | null;
  readonly limit?: number;
}

export interface AuditQuery {
  readonly effectiveAt: { readonly gt?: number; readonly gte?: number; readonly lt?: number; readonly lte?: number };
  readonly types: readonly string[];
  readonly projectIds: readonly string[];
  readonly actorIds: readonly string[];
  readonly resourceIds: readonly string[];
  /** matched by the service, not the store: no certgate actor has an email */
  readonly actorEmails?: readonly string[];
  readonly limit: number;
  /** entries older than this one (the next page) */
  readonly after?: string | undefined;
  /** entries newer than this one (the previous page) */
  readonly before?: string | undefined;
}

/**
 * An audit event as the services composed it (src/services/audit-logs.ts): the entry the API returns, kept as is, and
 * what it is filtered by. The store keeps it; it neither builds nor numbers it.
 */
export interface AuditRecord {
  readonly entry: AuditEntry;
  /** the admin key that made the change (the actor filter), null for a local actor */
  readonly actorId: string | null;
  /** the project the change was scoped to (the project filter) */
  readonly projectId: string | null;
  /** every resource the change touched, each once (the resource filter) */
  readonly resourceIds: readonly string[];
}

export interface WriteTransaction {
  /** whom the transaction writes for (its organization's write lock is held) */
  readonly actor: Actor;
  /** the time every change in it is stamped with (Unix seconds) */
  readonly now: number;
  /** Keeps the audit event of a change made in this transaction: it commits or rolls back with it. */
  appendAudit(record: AuditRecord): Promise<void>;

  adminKey(id: string): Promise<AdminKeyRecord | undefined>;
  /** Whether a key with this hash was ever stored, deleted or not. */
  adminKeyHashKnown(keyHash: string): Promise<boolean>;
  adminKeys(): Promise<AdminKeyRecord[]>;
  insertAdminKey(record: AdminKeyRecord, keyHash: string): Promise<void>;
  deleteAdminKey(id: string, now: number): Promise<void>;

  certificateCount(): Promise<number>;
  certificate(id: string): Promise<CertificateRecord | undefined>;
  certificateByFingerprint(fingerprint: string): Promise<CertificateRecord | undefined>;
  insertCertificate(record: CertificateRecord): Promise<void>;
  renameCertificate(id: string, name: string | null): Promise<void>;
  setFilter(id: string, expression: string | null, now: number): Promise<void>;
  crl(certificateId: string): Promise<CrlRecord | undefined>;
  setCrl(certificateId: string, crl: CrlRecord | null): Promise<void>;
  /** Sets a scope's own mode (null: follow the parent) and restarts its counts. */
  setMode(scope: string, mode: MtlsMode | null, now: number): Promise<void>;
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
