// Certificates: the trust anchors with their expiry at a glance; upload, rename, delete and the CEL filter.

import { api } from './api.js';
import { loadInventory, ORGANIZATION, projectName } from './inventory.js';
import { button, daysLeft, emptyState, expiryBadge, formatDate, h, notice, openDialog, replace } from './ui.js';

const path = (id) => `/organization/certificates/${encodeURIComponent(id)}`;

export async function certificatesView(root) {
  const listError = notice('error');
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'loading', text: 'Loading certificates…' }));
  replace(
    root,
    h('header', { class: 'view-header' },
      h('div', {}, h('h1', { text: 'Certificates' }), h('p', { class: 'lede', text: 'Trust anchors (CA certificates) that client certificates must chain to once active in a scope.' })),
    ),
    h('section', { class: 'panel', 'aria-labelledby': 'anchors-title' }, h('h2', { id: 'anchors-title', text: 'Trust anchors' }), listError.el, body),
    uploadPanel(() => refresh()),
  );

  async function refresh() {
    listError.clear();
    let inventory;
    try {
      inventory = await loadInventory();
    } catch (err) {
      replace(body);
      listError.show(err.message);
      return;
    }
    replace(body, certificateTable(inventory, refresh));
  }
  await refresh();
}

function uploadPanel(done) {
  const result = notice('error');
  const name = h('input', { type: 'text', id: 'upload-name', maxlength: 256, placeholder: 'e.g. Production clients CA', autocomplete: 'off' });
  const pem = h('textarea', { id: 'upload-pem', rows: 6, spellcheck: 'false', placeholder: '-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----' });
  const file = h('input', { type: 'file', id: 'upload-file', accept: '.pem,.crt,.cer,application/x-pem-file', class: 'file-input' });
  file.addEventListener('change', async () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    pem.value = await chosen.text();
    if (!name.value) name.value = chosen.name.replace(/\.(pem|crt|cer)$/i, '');
  });
  const submit = button('Upload', async () => {
    result.clear();
    if (!pem.value.trim()) return result.show('Paste a PEM certificate or choose a .pem file first.');
    submit.disabled = true;
    try {
      const created = await api('POST', '/organization/certificates', { certificate: pem.value, ...(name.value.trim() ? { name: name.value.trim() } : {}) });
      pem.value = '';
      name.value = '';
      file.value = '';
      result.show(`Uploaded ${created.name ?? created.id}. It is not active anywhere yet: activate it under Access.`, 'success');
      await done();
    } catch (err) {
      result.show(err.message);
    } finally {
      submit.disabled = false;
    }
  }, 'primary', { id: 'upload-submit' });
  return h('section', { class: 'panel', 'aria-labelledby': 'upload-title' },
    h('h2', { id: 'upload-title', text: 'Upload a CA certificate' }),
    h('div', { class: 'form-grid' },
      h('label', { for: 'upload-name', text: 'Name (optional)' }), name,
      h('label', { for: 'upload-pem', text: 'PEM' }), h('div', { class: 'stack' }, pem, h('div', { class: 'row' }, h('label', { class: 'file-label', for: 'upload-file', text: 'Choose a .pem file…' }), file)),
    ),
    h('div', { class: 'actions' }, submit),
    result.el,
  );
}

function certificateTable(inventory, refresh) {
  const { certificates, activeIn, unusable } = inventory;
  if (certificates.length === 0) return emptyState('No certificates yet.', 'Upload the CA that issues your clients’ certificates to get started.');
  const unreadable = certificates.filter((c) => unusable.has(c.id) && activeIn.get(c.id).length > 0);
  const soon = certificates.filter((c) => activeIn.get(c.id).length > 0 && daysLeft(c.certificate_details.expires_at) < 30);
  const rows = certificates.map((c) => {
    const scopes = activeIn.get(c.id);
    const inUse = scopes.length > 0;
    const reason = inUse ? `Active in: ${scopes.join(', ')}. Deactivate it everywhere before deleting it.` : null;
    return h('tr', { 'data-certificate-id': c.id },
      h('td', {},
        h('div', { class: 'name' }, c.name ?? h('span', { class: 'muted', text: 'unnamed' }), unusable.has(c.id) ? unusableBadge(unusable.get(c.id)) : null),
        h('div', { class: 'mono muted', text: c.id }),
      ),
      h('td', { class: 'num' }, expiryBadge(c.certificate_details.expires_at)),
      h('td', { class: 'nowrap' }, formatDate(c.certificate_details.expires_at)),
      h('td', {}, inUse ? scopes.map((s) => h('span', { class: ['chip', s === ORGANIZATION && 'org'], title: s, text: s === ORGANIZATION ? 'organization' : projectName(inventory, s) })) : h('span', { class: 'muted', text: 'Not active' })),
      h('td', { class: 'row-actions' },
        button('Rename', () => rename(c, refresh), 'ghost', { 'data-action': 'rename' }),
        button('Filter', () => editFilter(c), 'ghost', { 'data-action': 'filter' }),
        button('Delete', () => remove(c, refresh), 'ghost danger', { 'data-action': 'delete', disabled: inUse, title: reason ?? undefined, 'aria-describedby': inUse ? `reason-${c.id}` : undefined }),
        inUse ? h('div', { class: 'reason', id: `reason-${c.id}`, text: `In use: active in ${scopes.join(', ')}` }) : null,
      ),
    );
  });
  return h('div', {},
    inventory.projectsError ? h('div', { class: 'notice info', role: 'status', text: `Activations in projects are not shown: ${inventory.projectsError}` }) : null,
    unreadable.length ? h('div', { class: 'notice error', role: 'status', id: 'unusable-notice', text: `${unreadable.length === 1 ? '1 active anchor' : `${unreadable.length} active anchors`} cannot be read by this version of certgate and admit nothing: upload ${unreadable.length === 1 ? 'it' : 'them'} again in a form this version reads, activate ${unreadable.length === 1 ? 'it' : 'them'}, then deactivate the old ${unreadable.length === 1 ? 'one' : 'ones'}. Hover the badge for why.` }) : null,
    soon.length ? h('div', { class: 'notice warning', role: 'status', text: `${soon.length} active ${soon.length === 1 ? 'anchor expires' : 'anchors expire'} within 30 days: upload and activate a successor before clients are cut off.` }) : null,
    h('div', { class: 'scroll' }, h('table', { class: 'table', id: 'certificates-table' },
      h('thead', {}, h('tr', {}, h('th', { text: 'Certificate' }), h('th', { class: 'num', text: 'Days left' }), h('th', { text: 'Expires' }), h('th', { text: 'Active in' }), h('th', { class: 'row-actions', text: '' }))),
      h('tbody', {}, rows),
    )),
  );
}

/** A certificate this version of certgate cannot read: the badge says so, its title why. */
function unusableBadge(problem) {
  return h('span', { class: 'badge danger unusable', title: `This version of certgate cannot read this certificate: ${problem}`, text: 'unusable' });
}

async function rename(c, refresh) {
  const input = h('input', { type: 'text', value: c.name ?? '', maxlength: 256, id: 'rename-input', autocomplete: 'off' });
  const done = await openDialog({
    title: 'Rename certificate',
    body: [h('label', { for: 'rename-input', text: `New name for ${c.id}` }), input],
    actions: [{ label: 'Save', run: () => api('POST', path(c.id), { name: input.value.trim() || null }) }],
  });
  if (done) await refresh();
}

async function remove(c, refresh) {
  const done = await openDialog({
    title: 'Delete certificate',
    body: [h('p', { text: `Delete ${c.name ?? c.id}? Its filter and CRL go with it. This cannot be undone.` })],
    actions: [{ label: 'Delete', kind: 'danger', run: () => api('DELETE', path(c.id)) }],
  });
  if (done) await refresh();
}

async function editFilter(c) {
  const status = h('p', { class: 'muted', text: 'Loading the current filter…' });
  const input = h('textarea', { id: 'filter-input', rows: 4, spellcheck: 'false', class: 'mono', placeholder: 'e.g. subject.organizational_unit == "Production"' });
  const body = [
    h('p', { text: 'A CEL expression over the client certificate. When set, a chain this anchor accepts is admitted only if the expression is true.' }),
    status,
    h('label', { for: 'filter-input', text: `Filter for ${c.name ?? c.id}` }),
    input,
  ];
  const loading = api('GET', `${path(c.id)}/filter`).then(
    (f) => {
      input.value = f.expression ?? '';
      status.textContent = f.expression ? `Last changed ${formatDate(f.updated_at)}.` : 'No filter set: every chain this anchor accepts is admitted.';
    },
    (err) => {
      status.textContent = err.message;
      status.className = 'notice error';
    },
  );
  await openDialog({
    title: 'Certificate filter',
    body,
    actions: [
      { label: 'Remove filter', kind: 'secondary', run: () => api('DELETE', `${path(c.id)}/filter`) },
      { label: 'Save filter', run: async () => {
        await loading;
        if (!input.value.trim()) throw new Error('Write an expression, or use Remove filter.');
        await api('PUT', `${path(c.id)}/filter`, { expression: input.value });
      } },
    ],
  });
}
