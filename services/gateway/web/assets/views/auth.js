// Sign up, log in, forgotten password, password reset and email verification.

import { api, session } from '../api.js';
import { h, replace } from '../dom.js';
import { field, handleSubmit, notice } from './ui.js';

function afterLogin(navigate) {
  const next = sessionStorage.getItem('swarmcast.after-login');
  sessionStorage.removeItem('swarmcast.after-login');
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
      h('input', { type: 'password', name: 'password', required: true, autocomplete, id: 'password', minlength: 8 }),
      autocomplete === 'new-password' ? '8 to 128 characters' : null,
    ),
    h('button', { type: 'submit', class: 'primary', id: 'submit' }, submitLabel),
  );
}

export async function loginView(main, { navigate }) {
  const form = credentialsForm('Log in', 'current-password');
  handleSubmit(form, async ({ email, password }) => {
    saveSession(await api('POST', '/api/auth/login', { body: { email, password }, auth: false }));
    afterLogin(navigate);
  });
  replace(
    main,
    h('h1', { class: 'center' }, 'Log in'),
    form,
    h('p', { class: 'center' }, 'No account yet? ', h('a', { href: '/signup', 'data-link': true }, 'Sign up'), ' · ', h('a', { href: '/forgot-password', 'data-link': true }, 'Forgot your password?')),
  );
}

export async function signupView(main, { navigate }) {
  const form = credentialsForm('Create account', 'new-password');
  handleSubmit(form, async ({ email, password }) => {
    const data = await api('POST', '/api/auth/register', { body: { email, password }, auth: false });
    saveSession(data);
    sessionStorage.setItem('swarmcast.notice', `Welcome! We sent a verification link to ${data.user.email}.`);
    navigate('/jobs/new');
  });
  replace(
    main,
    h('h1', { class: 'center' }, 'Create your account'),
    h('p', { class: 'center muted' }, 'Turn a document and a question into a simulated debate and a forecast.'),
    form,
    h('p', { class: 'center' }, 'Already have an account? ', h('a', { href: '/login', 'data-link': true }, 'Log in')),
  );
}

export async function forgotView(main) {
  const form = h(
    'form',
    { class: 'card narrow' },
    field('Email', h('input', { type: 'email', name: 'email', required: true, autocomplete: 'email' })),
    h('button', { type: 'submit', class: 'primary' }, 'Send reset link'),
  );
  handleSubmit(form, async ({ email }) => {
    const data = await api('POST', '/api/auth/forgot-password', { body: { email }, auth: false });
    form.replaceWith(notice(data.message, 'success'));
  });
  replace(main, h('h1', { class: 'center' }, 'Reset your password'), form);
}

export async function resetView(main, { query }) {
  const token = query.get('token') || '';
  const form = h(
    'form',
    { class: 'card narrow' },
    field('New password', h('input', { type: 'password', name: 'new_password', required: true, autocomplete: 'new-password', minlength: 8 }), '8 to 128 characters'),
    h('button', { type: 'submit', class: 'primary' }, 'Set new password'),
  );
  handleSubmit(form, async ({ new_password }) => {
    const data = await api('POST', '/api/auth/reset-password', { body: { token, new_password }, auth: false });
    session.clear();
    form.replaceWith(h('div', {}, notice(data.message, 'success'), h('p', { class: 'center' }, h('a', { href: '/login', 'data-link': true }, 'Log in'))));
  });
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
