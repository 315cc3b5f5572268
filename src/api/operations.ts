// What the OpenAPI document says of each operation beyond its schemas: an operationId (OpenAI's own where
// OpenAI has the endpoint), a one-line summary, a tag, and whether it is a certgate extension. Keyed by
// "METHOD path" in OpenAPI's {param} syntax. The schemas themselves come from the routes (src/api/openapi.ts);
// a route may also carry its own `schema.summary` or `config.summary`, which wins over this table.
// test/api/openapi.test.ts fails when a registered route has no summary, here or on the route.

export interface OperationInfo {
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  /** a certgate extension: OpenAI's API has no such operation */
  readonly extension?: boolean;
  /** whether a bearer admin key is needed; by default, for every path under /v1 */
  readonly adminKey?: boolean;
}

const CERTS = 'Certificates';
const PROJECTS = 'Projects';

export const operations: Record<string, OperationInfo> = {
  // OpenAI's Certificates API
  'GET /v1/organization/certificates': { operationId: 'listOrganizationCertificates', summary: 'List the certificates uploaded to the organization.', tag: CERTS },
  'POST /v1/organization/certificates': { operationId: 'uploadCertificate', summary: 'Upload a CA certificate (it is not activated).', tag: CERTS },
  'GET /v1/organization/certificates/{certificate_id}': { operationId: 'getCertificate', summary: 'Retrieve a certificate; include[]=content adds its PEM.', tag: CERTS },
  'POST /v1/organization/certificates/{certificate_id}': { operationId: 'modifyCertificate', summary: 'Rename a certificate (only its name can change).', tag: CERTS },
  'DELETE /v1/organization/certificates/{certificate_id}': { operationId: 'deleteCertificate', summary: 'Delete a certificate that is not active anywhere.', tag: CERTS },
  'POST /v1/organization/certificates/activate': { operationId: 'activateOrganizationCertificates', summary: 'Activate 1-10 certificates for the whole organization, all or nothing.', tag: CERTS },
  'POST /v1/organization/certificates/deactivate': { operationId: 'deactivateOrganizationCertificates', summary: 'Deactivate 1-10 certificates for the organization, all or nothing.', tag: CERTS },
  'GET /v1/organization/projects/{project_id}/certificates': { operationId: 'listProjectCertificates', summary: "List every certificate with its activation in a project.", tag: CERTS },
  'POST /v1/organization/projects/{project_id}/certificates/activate': { operationId: 'activateProjectCertificates', summary: 'Activate 1-10 certificates for one project, all or nothing.', tag: CERTS },
  'POST /v1/organization/projects/{project_id}/certificates/deactivate': { operationId: 'deactivateProjectCertificates', summary: 'Deactivate 1-10 certificates for one project, all or nothing.', tag: CERTS },

  // OpenAI's Projects and service accounts
  'GET /v1/organization/projects': { operationId: 'list-projects', summary: 'List the projects, oldest first.', tag: PROJECTS },
  'POST /v1/organization/projects': { operationId: 'create-project', summary: 'Create a project.', tag: PROJECTS },
  'GET /v1/organization/projects/{project_id}': { operationId: 'retrieve-project', summary: 'Retrieve a project.', tag: PROJECTS },
  'POST /v1/organization/projects/{project_id}': { operationId: 'modify-project', summary: 'Modify a project.', tag: PROJECTS },
  'POST /v1/organization/projects/{project_id}/archive': { operationId: 'archive-project', summary: 'Archive a project and remove its activations.', tag: PROJECTS },
  'GET /v1/organization/projects/{project_id}/service_accounts': { operationId: 'list-project-service-accounts', summary: "List a project's service accounts.", tag: PROJECTS },
  'POST /v1/organization/projects/{project_id}/service_accounts': { operationId: 'create-project-service-account', summary: 'Create a service account; its project key is returned once.', tag: PROJECTS },
  'GET /v1/organization/projects/{project_id}/service_accounts/{service_account_id}': { operationId: 'retrieve-project-service-account', summary: 'Retrieve a service account.', tag: PROJECTS },
  'POST /v1/organization/projects/{project_id}/service_accounts/{service_account_id}': { operationId: 'update-project-service-account', summary: "Change a service account's name or role.", tag: PROJECTS },
  'DELETE /v1/organization/projects/{project_id}/service_accounts/{service_account_id}': { operationId: 'delete-project-service-account', summary: 'Delete a service account and its key.', tag: PROJECTS },

  // OpenAI's admin API keys and audit log (the routes land with issue 9's first parts)
  'GET /v1/organization/admin_api_keys': { operationId: 'admin-api-keys-list', summary: 'List the admin API keys (redacted).', tag: 'Admin API Keys' },
  'POST /v1/organization/admin_api_keys': { operationId: 'admin-api-keys-create', summary: 'Create an admin API key; its value is returned once.', tag: 'Admin API Keys' },
  'GET /v1/organization/admin_api_keys/{key_id}': { operationId: 'admin-api-keys-get', summary: 'Retrieve an admin API key (redacted).', tag: 'Admin API Keys' },
  'DELETE /v1/organization/admin_api_keys/{key_id}': { operationId: 'admin-api-keys-delete', summary: 'Delete an admin API key (never the last owner key).', tag: 'Admin API Keys' },
  'GET /v1/organization/audit_logs': { operationId: 'list-audit-logs', summary: 'List audit events, newest first.', tag: 'Audit Logs' },

  // certgate's extensions
  'POST /v1/organization/certificates/verify': { operationId: 'verifyClientCertificate', summary: "Would this client chain be admitted? The gateway's verdict, check by check.", tag: CERTS, extension: true },
  'GET /v1/organization/certificates/unusable': { operationId: 'listUnusableCertificates', summary: 'List the stored certificates this version of certgate cannot read, with why and where each is active.', tag: CERTS, extension: true },
  'POST /v1/organization/certificates/preview': { operationId: 'previewCertificateChange', summary: 'Which clients seen would an activation or deactivation lock out.', tag: CERTS, extension: true },
  'GET /v1/organization/certificates/{certificate_id}/filter': { operationId: 'getCertificateFilter', summary: "Read the anchor's CEL filter.", tag: CERTS, extension: true },
  'PUT /v1/organization/certificates/{certificate_id}/filter': { operationId: 'setCertificateFilter', summary: "Set the anchor's CEL filter (compiled and checked first).", tag: CERTS, extension: true },
  'DELETE /v1/organization/certificates/{certificate_id}/filter': { operationId: 'deleteCertificateFilter', summary: "Remove the anchor's filter.", tag: CERTS, extension: true },
  'GET /v1/organization/certificates/{certificate_id}/crl': { operationId: 'getCertificateCrl', summary: "Describe the anchor's revocation list.", tag: CERTS, extension: true },
  'PUT /v1/organization/certificates/{certificate_id}/crl': { operationId: 'setCertificateCrl', summary: 'Store a CRL signed by the anchor (not older than the one stored).', tag: CERTS, extension: true },
  'DELETE /v1/organization/certificates/{certificate_id}/crl': { operationId: 'deleteCertificateCrl', summary: "Remove the anchor's CRL.", tag: CERTS, extension: true },
  'GET /v1/organization/mtls_settings': { operationId: 'getOrganizationMtlsSettings', summary: "The organization's mode (enforce or observe) and its counts.", tag: CERTS, extension: true },
  'POST /v1/organization/mtls_settings': { operationId: 'setOrganizationMtlsSettings', summary: "Set the organization's mode: enforce or observe.", tag: CERTS, extension: true },
  'GET /v1/organization/projects/{project_id}/mtls_settings': { operationId: 'getProjectMtlsSettings', summary: "A project's mode, its own or inherited, and its counts.", tag: CERTS, extension: true },
  'POST /v1/organization/projects/{project_id}/mtls_settings': { operationId: 'setProjectMtlsSettings', summary: "Set a project's mode; null returns it to the organization's.", tag: CERTS, extension: true },

  // the service itself
  'GET /v1/openapi.json': { operationId: 'getOpenapiDocument', summary: 'This document (no key needed).', tag: 'Service', extension: true, adminKey: false },
  'GET /healthz': { operationId: 'getHealth', summary: 'Liveness: 200 once the process serves.', tag: 'Service', extension: true },
  'GET /readyz': { operationId: 'getReadiness', summary: 'Readiness: 503 while the database connection is down.', tag: 'Service', extension: true },
  'GET /metrics': { operationId: 'getMetrics', summary: 'Prometheus metrics (any admin key as a bearer).', tag: 'Service', extension: true, adminKey: true },
};
