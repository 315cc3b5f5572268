// Access: the certificates × scopes matrix. Ticking a box activates an anchor in the organization or a project;
// before any change, the lockout preview says which clients the gateways have seen would be refused, and asks.

import { loadInventory, ORGANIZATION, preview, projectName, toggle } from './inventory.js';
import { emptyState, expiryBadge, formatTime, h, notice, openDialog, replace } from './ui.js';

export async function accessView(root) {
  const status = notice('error');
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'loading', text: 'Loading…' }));
  replace(
    root,
    h('header', { class: 'view-header' },
      h('div', {}, h('h1', { text: 'Access' }), h('p', { class: 'lede', text: 'Where each trust anchor is active. In a scope with an active anchor, every request must present a client certificate it issued.' })),
    ),
    h('section', { class: 'panel', 'aria-labelledby': 'matrix-title' }, h('h2', { id: 'matrix-title', text: 'Certificates × scopes' }), status.el, body),
  );

  let inventory = null;
  async function refresh() {
    try {
      inventory = await loadInventory();
      replace(body, matrix(inventory, change));
    } catch (err) {
      replace(body);
      status.show(err.message);
    }
  }

  async function change(box, certificate, scope, scopeName) {
    const active = box.checked;
    box.checked = !active; // until the server says so
    box.disabled = true;
    status.clear();
    const label = `${certificate.name ?? certificate.id} in ${scopeName}`;
    try {
      const outcome = await preview(scope, certificate.id, active);
      if (outcome.would_refuse.length > 0 && !(await confirmLockout(outcome, active, label, inventory))) {
        box.disabled = false;
        return;
      }
      await toggle(scope, certificate.id, active);
      await refresh();
      status.show(`${active ? 'Activated' : 'Deactivated'} ${label}.`, 'success');
    } catch (err) {
      box.disabled = false;
      status.show(err.message);
    }
  }

  await refresh();
}

function matrix(inventory, change) {
  const { certificates, projects, activeIn } = inventory;
  if (certificates.length === 0) return emptyState('No certificates to activate.', 'Upload a CA certificate under Certificates first.');
  const scopes = [{ id: ORGANIZATION, name: 'Organization', detail: 'all projects' }, ...projects.map((p) => ({ id: p.id, name: p.name ?? p.id, detail: p.id }))];
  return h('div', { class: 'scroll' },
    h('table', { class: 'table matrix', id: 'matrix' },
      h('thead', {}, h('tr', {}, h('th', { text: 'Certificate' }), h('th', { class: 'num', text: 'Days left' }),
        scopes.map((s) => h('th', { class: ['center', s.id === ORGANIZATION && 'org-col'], scope: 'col' }, h('div', { text: s.name }), h('div', { class: 'mono muted small', text: s.detail }))))),
      h('tbody', {}, certificates.map((c) => h('tr', { 'data-certificate-id': c.id },
        h('th', { scope: 'row' }, h('div', { class: 'name', text: c.name ?? 'unnamed' }), h('div', { class: 'mono muted small', text: c.id })),
        h('td', { class: 'num' }, expiryBadge(c.certificate_details.expires_at)),
        scopes.map((s) => {
          const box = h('input', { type: 'checkbox', checked: activeIn.get(c.id).includes(s.id), 'data-scope': s.id, 'aria-label': `${c.name ?? c.id} active in ${s.name}` });
          box.addEventListener('change', () => change(box, c, s.id, s.id === ORGANIZATION ? 'the organization' : s.name));
          return h('td', { class: ['center', s.id === ORGANIZATION && 'org-col'] }, h('label', { class: 'cell' }, box));
        }),
      ))),
    ),
    inventory.projectsError
      ? h('div', { class: 'notice info', role: 'status', text: `Projects are not shown: ${inventory.projectsError}` })
      : projects.length === 0 ? h('p', { class: 'muted small', text: 'No projects yet: create one through the API to activate anchors per project.' }) : null,
  );
}

function confirmLockout(outcome, active, label, inventory) {
  const clients = outcome.would_refuse;
  return openDialog({
    title: `${clients.length} ${clients.length === 1 ? 'client' : 'clients'} would be locked out`,
    body: [
      h('p', { text: `${active ? 'Activating' : 'Deactivating'} ${label} would refuse these clients, which the gateways admitted in the last 7 days${outcome.would_admit ? ` (${outcome.would_admit} other clients would still be admitted)` : ''}:` }),
      h('div', { class: 'scroll' }, h('table', { class: 'table compact', id: 'lockout' },
        h('thead', {}, h('tr', {}, h('th', { text: 'Client' }), h('th', { text: 'Project' }), h('th', { text: 'Service account' }), h('th', { text: 'Last seen' }), h('th', { class: 'num', text: 'Requests' }))),
        h('tbody', {}, clients.map((c) => h('tr', {},
          h('td', {}, h('div', { text: c.subject ?? 'no certificate' }), c.fingerprint ? h('div', { class: 'mono muted small', text: `${c.fingerprint.slice(0, 16)}…` }) : null),
          h('td', {}, h('div', { text: projectName(inventory, c.project_id) }), h('div', { class: 'mono muted small', text: c.project_id })),
          h('td', { class: 'mono', text: c.service_account_id }),
          h('td', { class: 'nowrap', text: formatTime(c.last_seen_at) }),
          h('td', { class: 'num', text: String(c.requests) }),
        ))),
      )),
    ],
    wide: true,
    actions: [{ label: active ? 'Activate anyway' : 'Deactivate anyway', kind: 'danger' }],
  }).then((result) => result !== null);
}
