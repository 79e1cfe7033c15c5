// The UI's entry point: sign-in, the session header, the tenant list, and a hash router
// (#/signin, #/tenants, #/tenants/<id>?period=..., #/incidents for admins). Routes live in the hash so the server only
// ever serves the same few files, and nothing in a route is secret.
import { ApiError, forgetToken, getJson, storeToken, storedToken } from './api.js';
import { badge, el, replace, table } from './dom.js';
import { renderTenant } from './tenant.js';
import { renderIncidents } from './incidents.js';

const main = document.getElementById('main');
const sessionBox = document.getElementById('session');

/** The signed-in caller and its tenants (GET /api/v1/tenants), or null. */
let session = null;
/** Bumped on every render, so an answer arriving after the user moved on is dropped. */
let generation = 0;

function setView(view, state) {
  main.dataset.view = view;
  main.dataset.state = state;
  main.setAttribute('aria-busy', state === 'loading' ? 'true' : 'false');
}

function renderSession() {
  if (!session) {
    replace(sessionBox);
    return;
  }
  const signOut = el('button', { type: 'button', class: 'link-button', id: 'sign-out' }, 'Sign out');
  signOut.addEventListener('click', () => signOutWith('You are signed out.'));
  replace(sessionBox, el('span', { class: 'caller', 'data-figure': 'caller' }, session.caller.name), ' ', badge(session.caller.kind, 'caller-kind'), ' ', signOut);
}

function signOutWith(message) {
  forgetToken();
  session = null;
  renderSession();
  if (location.hash !== '#/signin') history.replaceState(null, '', '#/signin');
  renderSignIn(message, 'info');
}

/** Why a sign-in failed, in words a user can act on. */
function signInError(e) {
  if (!(e instanceof ApiError)) return `Sign-in failed: ${e instanceof Error ? e.message : String(e)}`;
  if (e.status === 401) return `Sign-in failed: this token is not recognised (401 ${e.code}).`;
  if (e.status === 403) return `Sign-in refused: this token cannot read reports; use a read, auditor or admin token (403 ${e.code}).`;
  if (e.status === 0) return `Sign-in failed: ${e.message}.`;
  return `Sign-in failed: ${e.message} (${e.status}${e.code ? ` ${e.code}` : ''}).`;
}

function renderSignIn(message = '', tone = 'error', next = '#/tenants') {
  generation++;
  setView('signin', 'ready');
  // No name attribute: even if the script failed and the form submitted natively, the token
  // would not be sent anywhere.
  const input = el('input', { type: 'password', id: 'token', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'signin-message' });
  const button = el('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const note = el('p', { id: 'signin-message', class: message ? `notice ${tone}` : 'notice', role: tone === 'error' ? 'alert' : 'status' }, message);
  const form = el(
    'form',
    { id: 'signin', class: 'card signin', method: 'post', action: '#' },
    el('h1', {}, 'Sign in'),
    el('p', { class: 'muted' }, 'Paste a tenantscope read, auditor or admin token. It is kept in this browser tab only, and sent only to this server.'),
    el('label', { for: 'token' }, 'Token'),
    input,
    button,
    note,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    button.disabled = true;
    replace(note, 'Checking the token…');
    note.className = 'notice';
    try {
      const list = await getJson('/api/v1/tenants', token);
      storeToken(token);
      session = list;
      renderSession();
      const target = next.startsWith('#/tenants') ? next : '#/tenants';
      // Assigning the hash it already has fires no hashchange, so route by hand then.
      if (location.hash === target) void route();
      else location.hash = target;
    } catch (e) {
      replace(note, signInError(e));
      note.className = 'notice error';
      note.setAttribute('role', 'alert');
      button.disabled = false;
      input.select();
    }
  });
  replace(main, form);
  input.focus();
}

function renderTenantList() {
  generation++;
  setView('tenants', 'ready');
  const rows = session.tenants.map((t) =>
    el(
      'tr',
      { 'data-tenant': t.id },
      el('td', {}, el('a', { href: `#/tenants/${encodeURIComponent(t.id)}` }, t.name)),
      el('td', {}, el('code', {}, t.id)),
      el('td', {}, badge(t.tier)),
      el('td', {}, t.region),
    ),
  );
  replace(
    main,
    el('h1', {}, 'Tenants'),
    el('p', { class: 'muted' }, `The tenants ${session.caller.name} may read: ${session.tenants.length}.`),
    // Only an admin may read the platform's incidents; for anyone else the link would lead to a refusal.
    session.caller.kind === 'admin' ? el('p', {}, el('a', { href: '#/incidents', id: 'incidents-link' }, 'Platform incidents'), ': who each SLO incident hit, and the SLA credit it exposes.') : null,
    el('div', { class: 'card' }, session.tenants.length ? table(['Tenant', 'ID', 'Tier', 'Region'], rows, { id: 'tenant-list' }) : el('p', { class: 'notice' }, 'This token may read no tenant.')),
  );
}

/** The current route from the hash: its path segments and query. */
function parseHash() {
  const raw = location.hash.replace(/^#/, '');
  const [path, query = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeSegment), query: new URLSearchParams(query) };
}

function decodeSegment(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

async function route() {
  const { parts, query } = parseHash();
  const token = storedToken();
  if (!token || parts[0] === 'signin') {
    if (token && parts[0] === 'signin') return signOutWith('');
    session = null;
    renderSession();
    return renderSignIn('', 'error', parts[0] === 'signin' ? '#/tenants' : location.hash || '#/tenants');
  }
  if (!session) {
    // A reload keeps the token (sessionStorage) but not the caller: ask the API again, which
    // also notices a token that was revoked meanwhile.
    const mine = ++generation;
    setView('loading', 'loading');
    replace(main, el('p', { class: 'muted' }, 'Loading…'));
    try {
      const list = await getJson('/api/v1/tenants', token);
      if (mine !== generation) return;
      session = list;
      renderSession();
    } catch (e) {
      if (mine !== generation) return;
      // A refused token is dropped; an unreachable server is no reason to forget it.
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) forgetToken();
      return renderSignIn(signInError(e));
    }
  }
  if (parts[0] === 'tenants' && parts[1]) {
    const mine = ++generation;
    return renderTenant(main, {
      id: parts[1],
      known: session.tenants.find((t) => t.id === parts[1]),
      query,
      current: () => mine === generation,
      setView,
      expired: () => signOutWith('Your token is no longer accepted (401); sign in again.'),
    });
  }
  if (parts[0] === 'incidents') {
    const mine = ++generation;
    return renderIncidents(main, { query, current: () => mine === generation, setView, expired: () => signOutWith('Your token is no longer accepted (401); sign in again.') });
  }
  if (parts[0] !== 'tenants') history.replaceState(null, '', '#/tenants');
  renderTenantList();
}

window.addEventListener('hashchange', () => void route());
void route();
