// Account: who is signed in, verification, password change, account deletion.

import { api, session } from '../api.js';
import { h, replace } from '../dom.js';
import { checkField, checkNewPassword, field, handleSubmit, notice, problems, runAction } from './ui.js';

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
    field('Current password', h('input', { type: 'password', name: 'current_password', id: 'current_password', required: true, autocomplete: 'current-password' })),
    field('New password', h('input', { type: 'password', name: 'new_password', id: 'new_password', required: true, autocomplete: 'new-password', minlength: 8 }), '8 to 128 characters; other devices are signed out'),
    h('button', { type: 'submit', class: 'primary', id: 'change-password-submit' }, 'Change password'),
  );
  let changed = null;
  handleSubmit(
    password,
    async (values) => {
      changed?.remove();
      const tokens = await api('PUT', '/api/profile/password', { body: values });
      session.set({ access_token: tokens.access_token, refresh_token: tokens.refresh_token });
      password.reset();
      changed = notice('Password changed.', 'success');
      password.append(changed);
    },
    {
      validate: (v) => problems({
        current_password: v.current_password ? null : 'Enter your current password.',
        new_password: checkNewPassword(v.new_password),
      }),
    },
  );

  const remove = h(
    'form',
    { class: 'card danger-zone', id: 'delete-account' },
    h('h2', {}, 'Delete account'),
    h('p', {}, 'Deletes your account, every simulation and all their results. This cannot be undone.'),
    field('Password', h('input', { type: 'password', name: 'password', id: 'delete_password', required: true, autocomplete: 'current-password' })),
    checkField('I understand', h('input', { type: 'checkbox', name: 'confirm', id: 'delete_confirm', required: true })),
    h('button', { type: 'submit', class: 'danger', id: 'delete-account-submit' }, 'Delete my account'),
  );
  handleSubmit(
    remove,
    async ({ password: pw }) => {
      await api('DELETE', '/api/profile/account', { body: { password: pw } });
      session.clear();
      navigate('/signup');
    },
    {
      validate: (v) => problems({
        password: v.password ? null : 'Enter your password to confirm.',
        confirm: v.confirm ? null : 'Tick “I understand” to delete the account.',
      }),
    },
  );

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
