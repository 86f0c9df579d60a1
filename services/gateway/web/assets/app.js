// The single-page app: a small history router, the top navigation and the view lifecycle.

import { api, session } from './api.js';
import { h, replace } from './dom.js';
import { accountView } from './views/account.js';
import { adminView } from './views/admin.js';
import { forgotView, loginView, resetView, signupView, verifyView } from './views/auth.js';
import { jobView } from './views/job.js';
import { jobsView } from './views/jobs.js';
import { newJobView } from './views/new.js';
import { shareView } from './views/share.js';
import { trackRecordView } from './views/track.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');

// [pattern, view, needs sign-in]
const ROUTES = [
  [/^\/$/, null, false],
  [/^\/login$/, loginView, false],
  [/^\/signup$/, signupView, false],
  [/^\/forgot-password$/, forgotView, false],
  [/^\/reset-password$/, resetView, false],
  [/^\/verify-email$/, verifyView, false],
  [/^\/share\/([A-Za-z0-9_-]+)$/, shareView, false],
  [/^\/jobs$/, jobsView, true],
  [/^\/jobs\/new$/, newJobView, true],
  [/^\/jobs\/(\d+)$/, jobView, true],
  [/^\/track-record$/, trackRecordView, true],
  [/^\/account$/, accountView, true],
  [/^\/admin$/, adminView, true],
];

let current = null; // {controller} of the view on screen
let renderedPath = null; // path + query of the view on screen

export function navigate(path, { replace: replaceState = false } = {}) {
  if (replaceState) history.replaceState({}, '', path);
  else history.pushState({}, '', path);
  render();
}

function renderNav() {
  const user = session.user;
  const link = (href, text) => h('a', { href, 'data-link': true, class: location.pathname === href ? 'active' : null }, text);
  if (!session.signedIn) {
    replace(nav, link('/login', 'Log in'), link('/signup', 'Sign up'));
    return;
  }
  replace(
    nav,
    link('/jobs', 'Simulations'),
    link('/jobs/new', 'New simulation'),
    link('/track-record', 'Track record'),
    user?.roles?.includes('operator') ? link('/admin', 'Admin') : null,
    link('/account', user?.email || 'Account'),
    h('button', { type: 'button', class: 'link', id: 'logout', onclick: logout }, 'Log out'),
  );
}

async function logout() {
  const refreshToken = session.get()?.refresh_token;
  if (refreshToken) {
    try {
      await api('POST', '/api/auth/logout', { body: { refresh_token: refreshToken }, auth: false });
    } catch {
      // the local session ends either way
    }
  }
  session.clear();
  navigate('/login');
}

async function render({ hashOnly = false } = {}) {
  // A link to a section (#report) changes only the hash: scroll there, keep the view.
  if (hashOnly && renderedPath === location.pathname + location.search && current) {
    if (location.hash) document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView();
    return;
  }
  renderedPath = location.pathname + location.search;
  current?.controller.abort();
  const controller = new AbortController();
  current = { controller };
  renderNav();
  const path = location.pathname;
  const route = ROUTES.find(([re]) => re.test(path));
  if (!route) {
    replace(main, h('section', { class: 'card' }, h('h1', {}, 'Not found'), h('p', {}, 'There is no page here. '), h('a', { href: '/', 'data-link': true }, 'Go home')));
    return;
  }
  const [re, view, needsSession] = route;
  if (!view) return navigate(session.signedIn ? '/jobs' : '/login', { replace: true });
  if (needsSession && !session.signedIn) {
    sessionStorage.setItem('swarmcast.after-login', path + location.search);
    return navigate('/login', { replace: true });
  }
  const params = path.match(re).slice(1);
  replace(main, h('p', { class: 'muted loading' }, 'Loading…'));
  try {
    await view(main, { params, query: new URLSearchParams(location.search), signal: controller.signal, navigate });
  } catch (err) {
    if (controller.signal.aborted) return;
    if (err?.status === 401) return navigate('/login', { replace: true });
    replace(main, h('section', { class: 'card' }, h('h1', {}, 'Something went wrong'), h('p', { class: 'error' }, err?.message || String(err))));
  }
  main.focus({ preventScroll: true });
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest?.('a[data-link]');
  if (!a || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.button !== 0) return;
  ev.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', () => render({ hashOnly: true }));
window.addEventListener('session-changed', renderNav);
render();
