// Test a client certificate: the gateway's own admission decision for a chain, check by check.

import { api, listAll } from './api.js';
import { h, notice, replace } from './ui.js';

export async function verifyView(root) {
  const error = notice('error');
  const result = h('div', { id: 'verify-result' });
  const chain = h('textarea', { id: 'verify-pem', rows: 8, spellcheck: 'false', placeholder: 'The client certificate, then any intermediates, as PEM' });
  const file = h('input', { type: 'file', id: 'verify-file', accept: '.pem,.crt,.cer', class: 'file-input' });
  file.addEventListener('change', async () => {
    const chosen = file.files?.[0];
    if (chosen) chain.value = await chosen.text();
  });
  const scope = h('select', { id: 'verify-project' }, h('option', { value: '', text: 'Organization (no project)' }));
  listAll('/organization/projects').then(
    (projects) => scope.append(...projects.map((p) => h('option', { value: p.id, text: `${p.name ?? p.id} (${p.id})` }))),
    (err) => error.show(`Projects could not be listed: ${err.message}`),
  );
  const run = h('button', { type: 'submit', class: 'button primary', id: 'verify-submit', text: 'Test certificate' });
  const form = h('form', { class: 'form-grid', novalidate: true },
    h('label', { for: 'verify-pem', text: 'Certificate chain' }), h('div', { class: 'stack' }, chain, h('div', { class: 'row' }, h('label', { class: 'file-label', for: 'verify-file', text: 'Choose a .pem file…' }), file)),
    h('label', { for: 'verify-project', text: 'As seen in' }), scope,
    h('span', {}), h('div', { class: 'actions' }, run),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.clear();
    replace(result);
    if (!chain.value.trim()) return error.show('Paste a client certificate chain first.');
    run.disabled = true;
    try {
      const body = { certificate: chain.value };
      if (scope.value) body.project_id = scope.value;
      replace(result, verdict(await api('POST', '/organization/certificates/verify', body)));
    } catch (err) {
      error.show(err.message);
    } finally {
      run.disabled = false;
    }
  });
  replace(
    root,
    h('header', { class: 'view-header' },
      h('div', {}, h('h1', { text: 'Test a certificate' }), h('p', { class: 'lede', text: 'Runs the gateway’s admission checks on a client certificate without sending a request. Only public certificates are sent; never paste a private key.' })),
    ),
    h('section', { class: 'panel' }, form, error.el),
    result,
  );
}

function verdict(v) {
  const headline = !v.required
    ? { kind: 'info', text: 'No certificate required', detail: 'No trust anchor is active in this scope: requests are admitted on their key alone.' }
    : v.accepted
      ? { kind: 'success', text: 'Accepted', detail: `Admitted by ${v.certificate_id ?? 'an active anchor'} (${v.scope ?? 'organization'}).` }
      : { kind: 'error', text: `Refused: ${v.refusal?.code ?? 'refused'}`, detail: v.refusal?.message ?? '' };
  return h('section', { class: 'panel', 'aria-labelledby': 'verdict-title' },
    h('div', { class: ['verdict', headline.kind], id: 'verdict' }, h('h2', { id: 'verdict-title', text: headline.text }), h('p', { text: headline.detail })),
    h('div', { class: 'scroll' }, h('table', { class: 'table', id: 'checks' },
      h('thead', {}, h('tr', {}, h('th', { class: 'center', text: 'Result' }), h('th', { text: 'Check' }), h('th', { text: 'Detail' }))),
      h('tbody', {}, v.checks.map((c) => h('tr', { class: c.passed ? 'pass' : 'fail', 'data-check': c.name },
        h('td', { class: 'center' }, h('span', { class: ['badge', c.passed ? 'ok' : 'danger'], text: c.passed ? 'pass' : 'fail' })),
        h('td', { class: 'mono', text: c.name }),
        h('td', { text: c.message }),
      ))),
    )),
  );
}
