// Sign up, log in, forgotten password, password reset and email verification.
// A visitor who chose a sample on the home page (?sample=ID) lands on its pre-filled form afterwards.

import { api, session } from '../api.js';
import { h, replace } from '../dom.js';
import { checkEmail, checkNewPassword, field, handleSubmit, notice, problems } from './ui.js';

/** The sample a visitor chose before signing up or in ("" when none). */
function sampleOf(query) {
  const id = query?.get('sample') || '';
  return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : '';
}

function afterLogin(navigate, sample) {
  const next = sessionStorage.getItem('swarmcast.after-login');
  sessionStorage.removeItem('swarmcast.after-login');
  if (sample) return navigate(`/jobs/new?sample=${encodeURIComponent(sample)}`);
  navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/jobs');
}

function saveSession(data) {
  session.set({ access_token: data.access_token, refresh_token: data.refresh_token, user: data.user });
}

function credentialsForm(submitLabel, autocomplete) {
  return h(
    'form',
    { class: 'card narrow', novalidate: true },
    field('Email', h('input', { type: 'email', name: 'email', required: true, autocomplete: 'email', id: 'email' })),
    field(
      'Password',
      h('input', { type: 'password', name: 'password', required: true, autocomplete, id: 'password', minlength: autocomplete === 'new-password' ? 8 : null }),
      autocomplete === 'new-password' ? '8 to 128 characters' : null,
    ),
    h('button', { type: 'submit', class: 'primary', id: 'submit' }, submitLabel),
  );
}

const withSample = (path, sample) => (sample ? `${path}?sample=${encodeURIComponent(sample)}` : path);

export async function loginView(main, { navigate, query }) {
  const sample = sampleOf(query);
  const form = credentialsForm('Log in', 'current-password');
  handleSubmit(
    form,
    async ({ email, password }) => {
      saveSession(await api('POST', '/api/auth/login', { body: { email: email.trim(), password }, auth: false }));
      afterLogin(navigate, sample);
    },
    { validate: ({ email, password }) => problems({ email: checkEmail(email), password: password ? null : 'Enter your password.' }) },
  );
  replace(
    main,
    h('h1', { class: 'center' }, 'Log in'),
    sample ? h('p', { class: 'center muted' }, 'Log in to run the sample you picked.') : null,
    form,
    h('p', { class: 'center' }, 'No account yet? ', h('a', { href: withSample('/signup', sample), 'data-link': true }, 'Sign up'), ' · ', h('a', { href: '/forgot-password', 'data-link': true }, 'Forgot your password?')),
  );
}

export async function signupView(main, { navigate, query }) {
  const sample = sampleOf(query);
  const form = credentialsForm('Create account', 'new-password');
  handleSubmit(
    form,
    async ({ email, password }) => {
      const data = await api('POST', '/api/auth/register', { body: { email: email.trim(), password }, auth: false });
      saveSession(data);
      sessionStorage.setItem('swarmcast.notice', `Welcome! We sent a verification link to ${data.user.email}.`);
      navigate(withSample('/jobs/new', sample));
    },
    { validate: ({ email, password }) => problems({ email: checkEmail(email), password: checkNewPassword(password) }) },
  );
  replace(
    main,
    h('h1', { class: 'center' }, 'Create your account'),
    h('p', { class: 'center muted' }, sample ? 'Create an account to run the sample: its form opens next, filled in.' : 'Turn a document and a question into a simulated debate and a forecast.'),
    form,
    h('p', { class: 'center' }, 'Already have an account? ', h('a', { href: withSample('/login', sample), 'data-link': true }, 'Log in')),
  );
}

export async function forgotView(main) {
  const form = h(
    'form',
    { class: 'card narrow', id: 'forgot-form' },
    field('Email', h('input', { type: 'email', name: 'email', id: 'email', required: true, autocomplete: 'email' })),
    h('button', { type: 'submit', class: 'primary', id: 'submit' }, 'Send reset link'),
  );
  handleSubmit(
    form,
    async ({ email }) => {
      const data = await api('POST', '/api/auth/forgot-password', { body: { email: email.trim() }, auth: false });
      form.replaceWith(notice(data.message, 'success'));
    },
    { validate: ({ email }) => problems({ email: checkEmail(email) }) },
  );
  replace(main, h('h1', { class: 'center' }, 'Reset your password'), form);
}

export async function resetView(main, { query }) {
  const token = query.get('token') || '';
  const form = h(
    'form',
    { class: 'card narrow', id: 'reset-form' },
    field('New password', h('input', { type: 'password', name: 'new_password', id: 'new_password', required: true, autocomplete: 'new-password', minlength: 8 }), '8 to 128 characters'),
    h('button', { type: 'submit', class: 'primary', id: 'submit' }, 'Set new password'),
  );
  handleSubmit(
    form,
    async ({ new_password }) => {
      const data = await api('POST', '/api/auth/reset-password', { body: { token, new_password }, auth: false });
      session.clear();
      form.replaceWith(h('div', {}, notice(data.message, 'success'), h('p', { class: 'center' }, h('a', { href: '/login', 'data-link': true }, 'Log in'))));
    },
    { validate: ({ new_password }) => problems({ new_password: checkNewPassword(new_password) }) },
  );
  replace(main, h('h1', { class: 'center' }, 'Choose a new password'), token ? form : notice('This link has no reset token; request a new one.', 'error'));
}

export async function verifyView(main, { query }) {
  const token = query.get('token') || '';
  replace(main, h('h1', { class: 'center' }, 'Email verification'), h('p', { class: 'muted' }, 'Checking your link…'));
  try {
    const data = await api('GET', `/api/auth/verify?token=${encodeURIComponent(token)}`, { auth: false });
    if (session.user && session.user.id === data.user.id) session.set({ user: data.user });
    replace(main, h('h1', { class: 'center' }, 'Email verification'), notice(`${data.user.email} is verified. Thank you!`, 'success'), h('p', { class: 'center' }, h('a', { href: '/', 'data-link': true }, 'Continue')));
  } catch (err) {
    replace(main, h('h1', { class: 'center' }, 'Email verification'), notice(err.message, 'error'));
  }
}
