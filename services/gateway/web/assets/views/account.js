// Account: who is signed in, verification, password change, account deletion.

import { api, session } from '../api.js';
import { h, replace } from '../dom.js';
import { field, handleSubmit, notice, runAction } from './ui.js';

export async function accountView(main, { navigate }) {
  const { user } = await api('GET', '/api/profile');
  session.set({ user });
  const resend = h('button', { type: 'button', class: 'secondary small' }, 'Send the verification email again');
  resend.addEventListener('click', () => runAction(resend, async () => {
    const data = await api('POST', '/api/profile/resend-verification');
    resend.replaceWith(notice(data.message, 'success'));
  }));

  const password = h(
    'form',
    { class: 'card', id: 'change-password' },
    h('h2', {}, 'Change password'),
    field('Current password', h('input', { type: 'password', name: 'current_password', required: true, autocomplete: 'current-password' })),
    field('New password', h('input', { type: 'password', name: 'new_password', required: true, autocomplete: 'new-password', minlength: 8 }), '8 to 128 characters; other devices are signed out'),
    h('button', { type: 'submit', class: 'primary' }, 'Change password'),
  );
  handleSubmit(password, async (values) => {
    const tokens = await api('PUT', '/api/profile/password', { body: values });
    session.set({ access_token: tokens.access_token, refresh_token: tokens.refresh_token });
    password.reset();
    password.append(notice('Password changed.', 'success'));
  });

  const remove = h(
    'form',
    { class: 'card danger-zone', id: 'delete-account' },
    h('h2', {}, 'Delete account'),
    h('p', {}, 'Deletes your account, every simulation and all their results. This cannot be undone.'),
    field('Password', h('input', { type: 'password', name: 'password', required: true, autocomplete: 'current-password' })),
    h('label', { class: 'field checkbox' }, h('input', { type: 'checkbox', name: 'confirm', required: true }), h('span', {}, 'I understand')),
    h('button', { type: 'submit', class: 'danger' }, 'Delete my account'),
  );
  handleSubmit(remove, async ({ password: pw }) => {
    await api('DELETE', '/api/profile/account', { body: { password: pw } });
    session.clear();
    navigate('/signup');
  });

  replace(
    main,
    h('h1', {}, 'Account'),
    h('section', { class: 'card' },
      h('dl', { class: 'kv' },
        h('dt', {}, 'Email'), h('dd', { id: 'account-email' }, user.email),
        h('dt', {}, 'Verified'), h('dd', {}, user.email_verified ? 'yes' : h('span', {}, 'not yet · ', resend)),
        h('dt', {}, 'Member since'), h('dd', {}, user.created_at ? new Date(user.created_at).toLocaleDateString() : '—'),
        user.roles?.length ? [h('dt', {}, 'Roles'), h('dd', {}, user.roles.join(', '))] : null,
      ),
    ),
    password,
    remove,
  );
}
