// Shared bits of the views: form fields, error boxes, status badges, buttons that show progress.

import { h } from '../dom.js';

export const STAGES = ['Provisioning', 'Seeding', 'Building', 'Simulating', 'Analyzing', 'Reporting'];
export const TERMINAL = new Set(['COMPLETED', 'FAILED', 'REFUNDED']);
export const LIVE = new Set(['PENDING', 'PROVISIONING', 'RUNNING', 'REPORTING']);

export function badge(status) {
  return h('span', { class: ['badge', `status-${String(status).toLowerCase()}`], 'data-status': status }, status);
}

export function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), input, hint ? h('small', { class: 'hint' }, hint) : null);
}

/** A box for an ApiError (message, field problems, Retry-After); empty when `err` is null. */
export function errorBox(err) {
  if (!err) return h('div', { class: 'alert error', hidden: true, role: 'alert' });
  const fields = Object.entries(err.fields || {});
  return h(
    'div',
    { class: 'alert error', role: 'alert' },
    h('p', {}, err.message || String(err)),
    fields.length ? h('ul', {}, fields.map(([k, v]) => h('li', {}, h('code', {}, k), ': ', v))) : null,
    err.retryAfter ? h('p', { class: 'muted' }, `Try again in ${err.retryAfter} s.`) : null,
    err.errorId ? h('p', { class: 'muted' }, `Error id ${err.errorId}`) : null,
  );
}

export function notice(text, kind = 'info') {
  return h('div', { class: ['alert', kind], role: 'status' }, text);
}

/**
 * Wires a <form>: on submit disables its buttons, runs `action(values)`, and shows an ApiError in
 * the form's error box. `values` maps input names to values (checkboxes → booleans).
 */
export function handleSubmit(form, action) {
  let box = errorBox(null);
  form.prepend(box);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const buttons = [...form.querySelectorAll('button')];
    buttons.forEach((b) => (b.disabled = true));
    box.hidden = true;
    const values = {};
    for (const el of form.elements) {
      if (!el.name) continue;
      values[el.name] = el.type === 'checkbox' ? el.checked : el.value;
    }
    try {
      await action(values, ev.submitter);
    } catch (err) {
      const fresh = errorBox(err);
      box.replaceWith(fresh);
      box = fresh;
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });
}

/** Runs a button's action with the button disabled; a failure is shown in a dialog. */
export async function runAction(button, action) {
  button.disabled = true;
  try {
    await action();
  } catch (err) {
    window.alert(err?.message || String(err));
  } finally {
    button.disabled = false;
  }
}

export async function confirmAndRun(question, button, action) {
  if (window.confirm(question)) await runAction(button, action);
}
