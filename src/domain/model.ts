// The records certgate keeps, as the rest of the code sees them (plain, immutable).

export const ORGANIZATION_SCOPE = 'organization';

export interface CertificateRecord {
  readonly id: string;
  readonly name: string | null;
  readonly fingerprint: string;
  readonly content: string;
  readonly validAt: number;
  readonly expiresAt: number;
  readonly createdAt: number;
  /** the anchor's CEL filter (a certgate extension), null when none */
  readonly filterExpression: string | null;
  /** when the filter was last set or removed, null when never */
  readonly filterUpdatedAt: number | null;
  /** the anchor's CRL (a certgate extension), null when none */
  readonly crl: CrlRecord | null;
}

export interface CrlRecord {
  /** PEM */
  readonly content: string;
  readonly thisUpdate: number;
  readonly nextUpdate: number | null;
  readonly revokedCount: number;
  readonly updatedAt: number;
}

export interface ProjectRecord {
  readonly id: string;
  readonly name: string;
  readonly externalKeyId: string | null;
  readonly createdAt: number;
  readonly archivedAt: number | null;
}

export interface ActivationRecord {
  readonly certificateId: string;
  /** ORGANIZATION_SCOPE or a project id */
  readonly scope: string;
}

export interface ServiceAccountRecord {
  readonly id: string;
  readonly projectId: string;
  readonly name: string;
  readonly role: string;
  readonly createdAt: number;
}

/** Everything about one organization that reads need; loaded in one go. */
export interface OrganizationState {
  readonly organizationId: string;
  readonly revision: number;
  readonly certificates: readonly CertificateRecord[];
  readonly projects: readonly ProjectRecord[];
  readonly activations: readonly ActivationRecord[];
  readonly serviceAccounts: readonly ServiceAccountRecord[];
  /** ids of the admin keys not deleted (what a key may do is fixed when it is made: only whether it exists changes) */
  readonly adminKeyIds: readonly string[];
  /** each scope's own mTLS mode (ORGANIZATION_SCOPE or a project id); a scope without one follows its parent */
  readonly modes: readonly { readonly scope: string; readonly mode: MtlsMode; readonly updatedAt: number }[];
}

/** What a write touched, as the change feed records it: the kind of row and its id (a scope for 'mode' and 'scope'). */
export type ChangeKind = 'certificate' | 'activations' | 'scope' | 'project' | 'service_account' | 'mode' | 'admin_key';

/**
 * What changed in an organization since a revision: each touched row as it now is (null: gone). Applied to a
 * snapshot of that revision, it gives the snapshot of `revision`.
 */
export interface OrganizationPatch {
  readonly revision: number;
  readonly certificates: ReadonlyMap<string, CertificateRecord | null>;
  /** certificates whose activations changed: every scope each is now active in */
  readonly activationsOf: ReadonlyMap<string, readonly string[]>;
  /** scopes whose activations were replaced as a whole (an archived project): the certificates now active there */
  readonly activationsIn: ReadonlyMap<string, readonly string[]>;
  readonly projects: ReadonlyMap<string, ProjectRecord | null>;
  readonly serviceAccounts: ReadonlyMap<string, ServiceAccountRecord | null>;
  readonly modes: ReadonlyMap<string, { readonly mode: MtlsMode; readonly updatedAt: number } | null>;
  /** admin keys made (true) or deleted (null); a project key lives and dies with its service account */
  readonly adminKeys: ReadonlyMap<string, true | null>;
}

/** enforce: refuse what fails admission; observe: let it through, marked, and count it */
export type MtlsMode = 'enforce' | 'observe';

export interface Observations {
  readonly wouldRefuse: number;
  readonly admitted: number;
  readonly since: number | null;
}

export interface KeyOwner {
  readonly organizationId: string;
  readonly keyId: string;
}

/** Who makes a change, as the audit log names them. */
export interface Actor {
  readonly organizationId: string;
  /** the admin key that acted; null for a local operator (the server seeding its first key, the CLI writing to the store) */
  readonly key: { readonly id: string; readonly name: string; readonly redactedValue: string } | null;
  /** for a local operator: what acted (e.g. 'certgate serve') */
  readonly local?: string;
  /** what an admin key may do (every permission it grants); a local operator, holding the store itself, may do all */
  readonly permissions?: ReadonlySet<Permission>;
}

export interface AdminKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly redactedValue: string;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly lastUsedAt: number | null;
  /** null: an owner key, with every permission */
  readonly permissions: readonly Permission[] | null;
}

/** An admin key, resolved from its bearer value: the actor of what it does, and what it may do. */
export interface AdminKeyOwner extends Actor {
  readonly key: { readonly id: string; readonly name: string; readonly redactedValue: string };
  readonly permissions: ReadonlySet<Permission>;
  readonly expiresAt: number | null;
}

/** The permissions an admin key may hold, named as OpenAI names its scopes. */
export const PERMISSIONS = ['api.mtls.read', 'api.mtls.write', 'api.management.read', 'api.management.write', 'api.audit_logs.read'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export interface ProjectKeyOwner extends KeyOwner {
  readonly projectId: string;
  readonly serviceAccountId: string;
}

/** The organization a single-tenant certgate serves. */
export const DEFAULT_ORGANIZATION_ID = 'org-default';

/** A client a gateway has seen: a project's service account, with the certificate chain it presented (none: empty). */
export interface ObservedClient {
  readonly projectId: string;
  readonly serviceAccountId: string;
  /** SHA-256 of the leaf, '' when no certificate was presented */
  readonly fingerprint: string;
  /** the leaf's subject and issuer (RFC 4514), null when none was presented or it could not be read */
  readonly subject: string | null;
  readonly issuer?: string | null;
  /** what is kept of the chain it presented (domain/sightings.ts): the leaf and the intermediates above it, bounded */
  readonly chain: readonly Buffer[];
  /** the anchor that accepted it when last seen, null when none did */
  readonly certificateId: string | null;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly requests: number;
}
