// Small DOM helpers. Text always goes in as text (textContent), never as markup, so nothing the server or a
// certificate says can become part of the page; and no inline style is ever set (the policy forbids it).

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (name === 'text') el.textContent = value;
    else if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'value') el.value = value;
    else if (name === 'checked' || name === 'disabled' || name === 'hidden' || name === 'selected') el[name] = Boolean(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A message box near an action: error, success or info. Empty hides it. */
export function notice(kind = 'error') {
  const el = h('div', { class: ['notice', kind], role: kind === 'error' ? 'alert' : 'status', hidden: true });
  return {
    el,
    show(message, as = kind) {
      el.className = `notice ${as}`;
      el.setAttribute('role', as === 'error' ? 'alert' : 'status');
      el.textContent = message;
      el.hidden = !message;
    },
    clear() {
      el.textContent = '';
      el.hidden = true;
    },
  };
}

const DAY = 86400;

export function daysLeft(expiresAt, now = Date.now() / 1000) {
  return Math.floor((expiresAt - now) / DAY);
}

/** Days until expiry, coloured: warning under 30 days, danger under 7, and expired. */
export function expiryBadge(expiresAt) {
  const days = daysLeft(expiresAt);
  if (expiresAt * 1000 <= Date.now()) return h('span', { class: 'badge expired', text: 'Expired' });
  const kind = days < 7 ? 'danger' : days < 30 ? 'warning' : 'ok';
  return h('span', { class: ['badge', kind], text: days === 1 ? '1 day' : `${days} days` });
}

const dateFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

export const formatDate = (seconds) => dateFormat.format(new Date(seconds * 1000));
const pad = (n) => String(n).padStart(2, '0');
/** Local time as 2026-05-04 13:07:21: compact, sortable, and the same in every locale. */
export function formatTime(seconds) {
  const d = new Date(seconds * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function emptyState(title, detail) {
  return h('div', { class: 'empty' }, h('p', { class: 'empty-title', text: title }), detail ? h('p', { text: detail }) : null);
}

export function button(label, onclick, kind = 'secondary', extra = {}) {
  return h('button', { type: 'button', class: ['button', kind], onclick, ...extra }, label);
}

/**
 * A modal dialog. Each action's handler may be async; if it throws, the dialog stays open and shows the
 * server's message. Resolves with the label of the action that closed it, or null when cancelled.
 */
export function openDialog({ title, body = [], actions = [], cancelLabel = 'Cancel', wide = false }) {
  return new Promise((resolve) => {
    const error = notice('error');
    const dialog = h('dialog', { class: ['dialog', wide && 'wide'], 'aria-label': title });
    const buttons = actions.map((action) =>
      button(action.label, async () => {
        error.clear();
        for (const b of buttons) b.disabled = true;
        try {
          await action.run?.();
          close(action.label);
        } catch (err) {
          error.show(err.message);
        } finally {
          for (const b of buttons) b.disabled = false;
        }
      }, action.kind ?? 'primary'),
    );
    const cancel = button(cancelLabel, () => close(null));
    function close(result) {
      dialog.close();
      dialog.remove();
      resolve(result);
    }
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      close(null);
    });
    replace(dialog, h('h2', { text: title }), h('div', { class: 'dialog-body' }, body), error.el, h('div', { class: 'dialog-actions' }, cancel, buttons));
    document.body.append(dialog);
    dialog.showModal();
  });
}

