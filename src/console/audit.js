// The audit log: every change, newest first, with filters; more pages on demand (the `after` cursor).

import { api, listAll, query } from './api.js';
import { button, emptyState, formatTime, h, notice, replace } from './ui.js';

const EVENT_TYPES = [
  'certificate.created', 'certificate.updated', 'certificate.deleted', 'certificates.activated', 'certificates.deactivated',
  'certificate.filter.updated', 'certificate.filter.deleted', 'certificate.crl.updated', 'certificate.crl.deleted', 'mtls_settings.updated',
  'project.created', 'project.updated', 'project.archived',
  'service_account.created', 'service_account.updated', 'service_account.deleted',
  'api_key.created', 'api_key.deleted',
];

export async function auditView(root) {
  const error = notice('error');
  const type = h('select', { id: 'audit-type' }, h('option', { value: '', text: 'All events' }), EVENT_TYPES.map((t) => h('option', { value: t, text: t })));
  const project = h('select', { id: 'audit-project' }, h('option', { value: '', text: 'All projects' }));
  const resource = h('input', { type: 'text', id: 'audit-resource', placeholder: 'cert_…, proj_…', autocomplete: 'off', spellcheck: 'false' });
  listAll('/organization/projects', { include_archived: true }).then(
    (projects) => project.append(...projects.map((p) => h('option', { value: p.id, text: p.name ?? p.id }))),
    () => {}, // the filter still works by id without the names
  );
  const rows = h('tbody', {});
  const table = h('table', { class: 'table audit', id: 'audit-table', hidden: true },
    h('thead', {}, h('tr', {}, h('th', { text: 'Time' }), h('th', { text: 'Event' }), h('th', { text: 'Actor' }), h('th', { text: 'Project' }), h('th', { text: 'Details' }))),
    rows,
  );
  const empty = h('div', {});
  const more = button('Load older events', () => load(true), 'secondary', { id: 'audit-more', hidden: true });
  let after = null;

  async function load(next = false) {
    error.clear();
    more.disabled = true;
    try {
      const page = await api('GET', `/organization/audit_logs${query({
        limit: 25,
        after: next ? after : undefined,
        event_types: type.value ? [type.value] : undefined,
        project_ids: project.value ? [project.value] : undefined,
        resource_ids: resource.value.trim() ? resource.value.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
      })}`);
      if (!next) rows.replaceChildren();
      rows.append(...page.data.map(eventRow));
      after = page.last_id;
      more.hidden = !page.has_more;
      table.hidden = rows.children.length === 0;
      replace(empty, rows.children.length === 0 ? emptyState('No events match.', 'Changes made through the API appear here as they happen.') : null);
    } catch (err) {
      error.show(err.message);
    } finally {
      more.disabled = false;
    }
  }

  const filters = h('form', { class: 'filters', novalidate: true },
    h('label', {}, h('span', { text: 'Event type' }), type),
    h('label', {}, h('span', { text: 'Project' }), project),
    h('label', {}, h('span', { text: 'Resource id' }), resource),
    h('button', { type: 'submit', class: 'button primary', id: 'audit-apply', text: 'Apply' }),
  );
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  replace(
    root,
    h('header', { class: 'view-header' }, h('div', {}, h('h1', { text: 'Audit log' }), h('p', { class: 'lede', text: 'Who changed what, newest first. Every change is recorded in the same transaction as the change itself.' }))),
    h('section', { class: 'panel' }, filters, error.el, h('div', { class: 'scroll' }, table), empty, h('div', { class: 'actions' }, more)),
  );
  await load();
}

function eventRow(event) {
  const session = event.actor?.type === 'session' ? { name: `certgate${event.actor.session?.local ? ` (${event.actor.session.local})` : ''}` } : null;
  const actor = event.actor?.api_key ?? session;
  return h('tr', { 'data-event-type': event.type },
    h('td', { class: 'nowrap', text: formatTime(event.effective_at) }),
    h('td', {}, h('span', { class: 'chip', text: event.type })),
    h('td', {}, actor ? [h('div', { text: actor.name ?? actor.id ?? 'api key' }), actor.redacted_value ? h('div', { class: 'mono muted small', text: actor.redacted_value }) : null] : h('span', { class: 'muted', text: '—' })),
    h('td', {}, event.project ? [h('div', { text: event.project.name ?? event.project.id }), h('div', { class: 'mono muted small', text: event.project.id })] : h('span', { class: 'muted', text: 'organization' })),
    h('td', {}, details(event[event.type])),
  );
}

function details(payload) {
  if (!payload || typeof payload !== 'object') return h('span', { class: 'muted', text: '—' });
  if (Array.isArray(payload.certificates)) return payload.certificates.map((c) => h('div', {}, c.name ? `${c.name} ` : '', h('span', { class: 'mono muted small', text: c.id })));
  const parts = [];
  if (payload.name) parts.push(h('div', { text: payload.name }));
  if (payload.id) parts.push(h('div', { class: 'mono muted small', text: payload.id }));
  const rest = Object.entries(payload).filter(([k, v]) => !['id', 'name', 'content', 'certificate'].includes(k) && v !== null && typeof v !== 'object');
  for (const [k, v] of rest) parts.push(h('div', { class: 'muted small', text: `${k}: ${v}` }));
  const changes = payload.changes_requested;
  if (changes && typeof changes === 'object') for (const [k, v] of Object.entries(changes)) parts.push(h('div', { class: 'muted small', text: `${k} → ${typeof v === 'object' ? JSON.stringify(v) : v}` }));
  return parts.length ? parts : h('span', { class: 'muted', text: '—' });
}
