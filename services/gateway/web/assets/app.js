// The single-page app: a small history router, the top navigation and the view lifecycle.

import { api, session } from './api.js';
import { h, replace } from './dom.js';
import { accountView } from './views/account.js';
import { adminView } from './views/admin.js';
import { landingView } from './views/landing.js';
import { forgotView, loginView, resetView, signupView, verifyView } from './views/auth.js';
import { jobView } from './views/job.js';
import { jobsView } from './views/jobs.js';
import { newJobView } from './views/new.js';
import { shareView } from './views/share.js';
import { trackRecordView } from './views/track.js';
import { sentence } from './views/ui.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');

// [pattern, view, needs sign-in, page title (null: the page's h1)]
const ROUTES = [
  [/^\/$/, landingView, false, 'Forecasts from simulated debate'],
  [/^\/login$/, loginView, false, 'Log in'],
  [/^\/signup$/, signupView, false, 'Sign up'],
  [/^\/forgot-password$/, forgotView, false, 'Forgot password'],
  [/^\/reset-password$/, resetView, false, 'Choose a new password'],
  [/^\/verify-email$/, verifyView, false, 'Email verification'],
  [/^\/share\/([A-Za-z0-9_-]+)$/, shareView, false, null],
  [/^\/jobs$/, jobsView, true, 'Simulations'],
  [/^\/jobs\/new$/, newJobView, true, null],
  [/^\/jobs\/(\d+)$/, jobView, true, null],
  [/^\/track-record$/, trackRecordView, true, 'Track record'],
  [/^\/account$/, accountView, true, 'Account'],
  [/^\/admin$/, adminView, true, 'Operations'],
];
const SITE = 'swarmcast';

let current = null; // {controller} of the view on screen
let renderedPath = null; // path + query of the view on screen
let firstRender = true;

function setTitle(text) {
  document.title = text ? `${text} · ${SITE}` : SITE;
}

export function navigate(path, { replace: replaceState = false } = {}) {
  if (replaceState) history.replaceState({}, '', path);
  else history.pushState({}, '', path);
  render();
}

/**
 * Changes the URL for state a view keeps itself (the job list's filters) without rendering the
 * view again; back and forward then render the view from that URL.
 */
function updateUrl(path, { push = false } = {}) {
  if (push) history.pushState({}, '', path);
  else history.replaceState({}, '', path);
  renderedPath = location.pathname + location.search;
}

function renderNav() {
  const user = session.user;
  const here = location.pathname;
  const link = (href, text, attrs = {}) => h('a', { href, 'data-link': true, class: here === href ? 'active' : null, 'aria-current': here === href ? 'page' : null, ...attrs }, text);
  if (!session.signedIn) {
    replace(nav, h('div', { class: 'nav-links open' }, link('/login', 'Log in'), link('/signup', 'Sign up')));
    return;
  }
  // On a phone the links fold behind one button, so the bar stays one row.
  const links = h(
    'div',
    { class: 'nav-links', id: 'nav-links' },
    link('/jobs', 'Simulations'),
    link('/jobs/new', 'New simulation'),
    link('/track-record', 'Track record'),
    user?.roles?.includes('operator') ? link('/admin', 'Admin') : null,
    link('/account', user?.email || 'Account', { class: ['account-link', here === '/account' ? 'active' : null], title: user?.email ? `Account (${user.email})` : null }),
    h('button', { type: 'button', class: 'link', id: 'logout', onclick: logout }, 'Log out'),
  );
  const toggle = h('button', { type: 'button', class: 'menu-toggle', id: 'menu-toggle', 'aria-expanded': 'false', 'aria-controls': 'nav-links' }, 'Menu');
  const setOpen = (open) => {
    toggle.setAttribute('aria-expanded', String(open));
    links.classList.toggle('open', open);
  };
  toggle.addEventListener('click', () => setOpen(toggle.getAttribute('aria-expanded') !== 'true'));
  nav.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && links.classList.contains('open')) {
      setOpen(false);
      toggle.focus();
    }
  });
  replace(nav, toggle, links);
}

// Closes the phone menu when a click lands outside it.
document.addEventListener('click', (ev) => {
  const toggle = document.getElementById('menu-toggle');
  if (toggle?.getAttribute('aria-expanded') === 'true' && !nav.contains(ev.target)) {
    toggle.setAttribute('aria-expanded', 'false');
    document.getElementById('nav-links')?.classList.remove('open');
  }
});

function notFoundView() {
  setTitle('Page not found');
  replace(
    main,
    h('section', { class: 'card not-found', id: 'not-found' },
      h('h1', {}, 'Page not found'),
      h('p', {}, 'There is no page at this address. It may have moved, or the link may be mistyped.'),
      h('p', { class: 'not-found-links' },
        h('a', { href: '/', 'data-link': true, class: 'button primary' }, 'Go to the home page'),
        h('a', { href: '/jobs', 'data-link': true, class: 'button secondary' }, 'Your simulations')),
    ),
  );
}

function missingJobView() {
  setTitle('Simulation not found');
  replace(
    main,
    h('section', { class: 'card not-found', id: 'missing' },
      h('h1', {}, 'Simulation not found'),
      h('p', {}, 'This simulation does not exist (or was deleted).'),
      h('p', { class: 'not-found-links' }, h('a', { href: '/jobs', 'data-link': true, class: 'button primary' }, 'Back to your simulations')),
    ),
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
  // Focus moves to the new page after a navigation inside the app; on the first load it stays at
  // the top, so the first Tab reaches "Skip to content".
  const moveFocus = !firstRender;
  const path = location.pathname;
  const route = ROUTES.find(([re]) => re.test(path));
  if (!route) {
    firstRender = false;
    notFoundView();
    if (moveFocus) main.focus({ preventScroll: true });
    return;
  }
  const [re, view, needsSession, title] = route;
  if (needsSession && !session.signedIn) {
    sessionStorage.setItem('swarmcast.after-login', path + location.search);
    return navigate('/login', { replace: true });
  }
  firstRender = false;
  const params = path.match(re).slice(1);
  setTitle(title);
  const preset = document.title;
  replace(main, h('p', { class: 'muted loading' }, 'Loading…'));
  try {
    await view(main, { params, query: new URLSearchParams(location.search), signal: controller.signal, navigate, updateUrl });
    if (controller.signal.aborted) return;
    // A page named by its content (a job's goal): its heading, unless the view set a title itself.
    if (!title && document.title === preset) {
      const heading = main.querySelector('h1')?.textContent.trim();
      if (heading) setTitle(heading);
    }
  } catch (err) {
    if (controller.signal.aborted) return;
    if (err?.status === 401) return navigate('/login', { replace: true });
    if (err?.status === 404) missingJobView();
    else {
      setTitle('Something went wrong');
      replace(main, h('section', { class: 'card' }, h('h1', {}, 'Something went wrong'), h('p', { class: 'error' }, sentence(err?.message || String(err)))));
    }
  }
  if (moveFocus) main.focus({ preventScroll: true });
}

// "Skip to content": focus the main region without touching the URL (a hash would stay in it).
document.querySelector('.skip-link')?.addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});

document.addEventListener('click', (ev) => {
  const a = ev.target.closest?.('a[data-link]');
  if (!a || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.button !== 0) return;
  ev.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', () => render({ hashOnly: true }));
window.addEventListener('session-changed', renderNav);
render();
