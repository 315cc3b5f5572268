// The console's shell: sign in and out, the navigation, and which view is shown.

import { api, session, whenKeyRefused } from './api.js';
import { accessView } from './access.js';
import { auditView } from './audit.js';
import { certificatesView } from './certificates.js';
import { h, notice, replace } from './ui.js';
import { verifyView } from './verify.js';

const VIEWS = {
  certificates: { label: 'Certificates', render: certificatesView },
  access: { label: 'Access', render: accessView },
  verify: { label: 'Test a certificate', render: verifyView },
  audit: { label: 'Audit log', render: auditView },
};

const signInError = notice('error');

function currentView() {
  const name = location.hash.replace(/^#\/?/, '');
  return VIEWS[name] ? name : 'certificates';
}

function showSignIn(message) {
  document.getElementById('app').hidden = true;
  const screen = document.getElementById('signin');
  screen.hidden = false;
  const key = h('input', { type: 'password', id: 'signin-key', autocomplete: 'off', spellcheck: 'false', placeholder: 'sk-admin-…', required: true });
  const submit = h('button', { type: 'submit', class: 'button primary wide', id: 'signin-submit', text: 'Sign in' });
  const form = h('form', { class: 'signin-card', novalidate: true },
    h('div', { class: 'brand large' }, h('img', { src: 'icon.svg', alt: '', width: 28, height: 28 }), h('span', { text: 'certgate' })),
    h('p', { class: 'muted', text: 'Sign in with an admin API key. It is kept in this tab only and forgotten when the tab closes or you sign out.' }),
    h('label', { for: 'signin-key', text: 'Admin API key' }), key,
    signInError.el,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    signInError.clear();
    const value = key.value.trim();
    if (!value) return signInError.show('Enter an admin API key.');
    submit.disabled = true;
    try {
      await api('GET', '/organization/certificates?limit=1', undefined, value);
    } catch (err) {
      // A valid key without the certificates permission may still sign in; its views say what it lacks.
      if (!err.forbidden) {
        submit.disabled = false;
        return signInError.show(err.message);
      }
    }
    key.value = '';
    session.signIn(value);
    showApp();
  });
  replace(screen, form);
  if (message) signInError.show(message);
  key.focus();
}

function showApp() {
  document.getElementById('signin').hidden = true;
  const app = document.getElementById('app');
  app.hidden = false;
  const key = session.key();
  const nav = h('nav', { class: 'nav', 'aria-label': 'Sections' },
    Object.entries(VIEWS).map(([name, view]) => h('a', { href: `#/${name}`, 'data-view': name, text: view.label })),
  );
  const signOut = h('button', { type: 'button', class: 'button ghost wide', id: 'signout', text: 'Sign out' });
  signOut.addEventListener('click', () => {
    session.signOut();
    location.hash = '';
    showSignIn();
  });
  replace(app,
    h('aside', { class: 'sidebar' },
      h('div', { class: 'brand' }, h('img', { src: 'icon.svg', alt: '', width: 22, height: 22 }), h('span', { text: 'certgate' })),
      nav,
      h('div', { class: 'sidebar-foot' }, h('div', { class: 'muted small', text: 'Signed in with' }), h('div', { class: 'mono small key', text: `${key.slice(0, 8)}…${key.slice(-4)}` }), signOut),
    ),
    h('main', { id: 'view', class: 'view', tabindex: '-1' }),
  );
  render();
}

async function render() {
  if (!session.key()) return;
  const name = currentView();
  for (const link of document.querySelectorAll('.nav a')) link.classList.toggle('current', link.dataset.view === name);
  for (const link of document.querySelectorAll('.nav a')) link.toggleAttribute('aria-current', link.dataset.view === name);
  const root = document.getElementById('view');
  if (root) await VIEWS[name].render(root);
}

whenKeyRefused((err) => {
  session.signOut();
  showSignIn(`Signed out: ${err.message}`);
});
window.addEventListener('hashchange', render);
if (session.key()) showApp();
else showSignIn();
