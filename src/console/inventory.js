// What the certificates and access views show: every certificate, every project, where each certificate is
// active, and which ones this version of certgate cannot read (`unusable`: id → why). An organization holds at most 50 certificates, so one page of each list holds them all.

import { api, listAll } from './api.js';

export const ORGANIZATION = 'organization';

/**
 * Listing projects takes a management permission that an mTLS-only key lacks: without it the organization's
 * column is still shown, with the server's message saying why the projects are not (`projectsError`).
 */
export async function loadInventory() {
  let projectsError = null;
  const [certificates, projects, unusable] = await Promise.all([
    listAll('/organization/certificates'),
    listAll('/organization/projects').catch((err) => {
      if (!err.forbidden) throw err;
      projectsError = err.message;
      return [];
    }),
    // certgate's extension: the certificates this version cannot read, each with why (OpenAI's object has no field
    // for it). The list is still shown when it cannot be had.
    api('GET', '/organization/certificates/unusable').then(
      (list) => new Map(list.data.map((u) => [u.id, u.problem])),
      () => new Map(),
    ),
  ]);
  const activeIn = new Map(certificates.map((c) => [c.id, []]));
  const mark = (list, scope) => {
    for (const c of list) if (c.active) activeIn.get(c.id)?.push(scope);
  };
  mark(certificates, ORGANIZATION);
  const perProject = await Promise.all(projects.map((p) => listAll(`/organization/projects/${encodeURIComponent(p.id)}/certificates`)));
  projects.forEach((p, i) => mark(perProject[i], p.id));
  return { certificates, projects, activeIn, projectsError, unusable };
}

export function projectName(inventory, id) {
  return inventory.projects.find((p) => p.id === id)?.name ?? id;
}

export async function toggle(scope, certificateId, active) {
  const verb = active ? 'activate' : 'deactivate';
  const path = scope === ORGANIZATION ? `/organization/certificates/${verb}` : `/organization/projects/${encodeURIComponent(scope)}/certificates/${verb}`;
  return api('POST', path, { certificate_ids: [certificateId] });
}

export async function preview(scope, certificateId, active) {
  const body = { action: active ? 'activate' : 'deactivate', certificate_ids: [certificateId] };
  if (scope !== ORGANIZATION) body.project_id = scope;
  return api('POST', '/organization/certificates/preview', body);
}
