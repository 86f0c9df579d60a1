// Shared bits of the views: form fields with their own error line, error boxes, status badges,
// buttons that show progress.

import { ApiError } from '../api.js';
import { h } from '../dom.js';

export const STAGES = ['Provisioning', 'Seeding', 'Building', 'Simulating', 'Analyzing', 'Reporting'];
export const TERMINAL = new Set(['COMPLETED', 'FAILED', 'REFUNDED']);
export const LIVE = new Set(['PENDING', 'PROVISIONING', 'RUNNING', 'REPORTING']);

/** "Cancelled" for a job its owner stopped (the service records it as FAILED), else the status. */
export function statusOf(job) {
  // The jobs service records an owner's cancel as FAILED with "cancelled by user"; matched loosely so
  // a reworded reason still reads right.
  return job?.status === 'FAILED' && /\bcancell?ed by (?:the )?(?:user|owner)\b/i.test(String(job.error_message || '')) ? 'CANCELLED' : job?.status;
}

const STATUS_WORDS = { CANCELLED: 'Cancelled' };

export function badge(status) {
  return h('span', { class: ['badge', `status-${String(status).toLowerCase()}`], 'data-status': status }, STATUS_WORDS[status] || status);
}

let fieldSeq = 0;
// Each input's problem line (found before the form is on the page, too).
const problemLines = new WeakMap();

/** Adds `id` to the element's aria-describedby list (once), or removes it. */
function describedBy(el, id, on) {
  const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter((x) => x && x !== id);
  if (on) ids.unshift(id);
  if (ids.length) el.setAttribute('aria-describedby', ids.join(' '));
  else el.removeAttribute('aria-describedby');
}

/**
 * A labelled field: the label, the input, its problem line (hidden until a problem is shown, then
 * announced and tied to the input by aria-describedby) and an optional hint. `errorId` names the
 * problem line (default `<input id>-error`).
 */
export function field(label, input, hint, { errorId } = {}) {
  if (!input.id) input.id = `field-${++fieldSeq}`;
  const problem = h('p', { class: 'field-problem', id: errorId || input.dataset.errorId || `${input.id}-error`, role: 'alert', hidden: true });
  input.dataset.errorId = problem.id;
  problemLines.set(input, problem);
  let hintEl = null;
  if (hint) {
    // A hint the view keeps updating (a counter) comes as its own .hint element.
    hintEl = hint instanceof Element && hint.classList.contains('hint') ? hint : h('small', { class: 'hint' }, hint);
    hintEl.id ||= `${input.id}-hint`;
    if (!input.hasAttribute('aria-describedby')) input.setAttribute('aria-describedby', hintEl.id);
  }
  return h('div', { class: 'field' }, h('label', { class: 'field-label', for: input.id }, label), input, problem, hintEl);
}

/** A checkbox with its label beside it, its problem line and an optional hint. */
export function checkField(label, input, hint) {
  if (!input.id) input.id = `field-${++fieldSeq}`;
  const problem = h('p', { class: 'field-problem', id: `${input.id}-error`, role: 'alert', hidden: true });
  input.dataset.errorId = problem.id;
  problemLines.set(input, problem);
  let hintEl = null;
  if (hint) {
    hintEl = h('small', { class: 'hint', id: `${input.id}-hint` }, hint);
    if (!input.hasAttribute('aria-describedby')) input.setAttribute('aria-describedby', hintEl.id);
  }
  return h('div', { class: 'field checkbox' }, input, h('label', { for: input.id }, label), hintEl, problem);
}

/** A choice among radio cards (whole labels, wrapping at any width) with its problem line. */
export function radioCards(legend, name, options, value) {
  const problem = h('p', { class: 'field-problem', id: `${name}-error`, role: 'alert', hidden: true });
  const cards = options.map(([v, title, detail]) => {
    const input = h('input', { type: 'radio', name, value: v, id: `${name}-${v}`, checked: v === value, 'data-error-id': problem.id });
    problemLines.set(input, problem);
    return h('label', { class: 'radio-card', for: input.id }, input, h('span', { class: 'radio-card-text' }, h('strong', {}, title), detail ? h('span', { class: 'radio-card-detail' }, detail) : null));
  });
  return h('fieldset', { class: 'field radio-cards', id: `${name}-field` }, h('legend', { class: 'field-label' }, legend), h('div', { class: 'radio-card-row' }, cards), problem);
}

function problemLine(input) {
  const id = input?.dataset?.errorId;
  return problemLines.get(input) || (id ? input.ownerDocument.getElementById(id) : null);
}

function radioGroup(input) {
  return input.type === 'radio' && input.form ? [...input.form.querySelectorAll(`input[type=radio][name="${CSS.escape(input.name)}"]`)] : [input];
}

/** Shows `message` at the input's own problem line (false when the input has none). */
export function showFieldError(input, message) {
  const line = problemLine(input);
  if (!line) return false;
  line.textContent = message;
  line.hidden = false;
  for (const el of radioGroup(input)) {
    el.setAttribute('aria-invalid', 'true');
    describedBy(el, line.id, true);
  }
  return true;
}

export function clearFieldError(input) {
  const line = problemLine(input);
  if (line) {
    line.textContent = '';
    line.hidden = true;
  }
  for (const el of radioGroup(input)) {
    el.removeAttribute('aria-invalid');
    if (line) describedBy(el, line.id, false);
  }
}

// What each API field is called in words ("seed_text" never reaches the screen).
const FIELD_WORDS = {
  email: 'the email address',
  password: 'the password',
  new_password: 'the new password',
  current_password: 'the current password',
  seed_text: 'the seed',
  goal: 'the question',
  tier: 'the tier',
  forecast_days: 'the forecast horizon',
  enrich_web: 'the web search choice',
  token: 'the link',
  refresh_token: 'the sign-in',
};

function fieldWords(name) {
  return FIELD_WORDS[name] || `the ${String(name).replace(/[_.]+/g, ' ')}`;
}

/** A sentence: capital first letter and a full stop. */
export function sentence(text) {
  const t = String(text || '').trim();
  if (!t) return t;
  const s = t[0].toUpperCase() + t.slice(1);
  return /[.!?…]$/.test(s) ? s : `${s}.`;
}

const number = (n) => Number(n).toLocaleString('en-US');

/**
 * A field's problem as the API put it, in plain words: the framework's own wording ("String should
 * have at least 8 characters") becomes a sentence about the field, and a raw field name in the
 * services' sentences ("seed_text is too short…") becomes its name in words.
 */
export function friendlyMessage(name, message) {
  const label = fieldWords(name);
  let text = String(message || '').trim().replace(/^Value error,\s*/i, '');
  let m;
  if (!text || /^field required$/i.test(text) || /^missing\b/i.test(text)) return sentence(`${label} is required`);
  if ((m = text.match(/^String should have at least (\d+) characters?/i))) return sentence(`${label} must be at least ${number(m[1])} characters`);
  if ((m = text.match(/^String should have at most (\d+) characters?/i))) return sentence(`${label} must be at most ${number(m[1])} characters`);
  if ((m = text.match(/^Input should be (greater|less) than or equal to (-?[\d.]+)/i))) return sentence(`${label} must be ${m[1].toLowerCase() === 'greater' ? 'at least' : 'at most'} ${number(m[2])}`);
  if ((m = text.match(/^Input should be (greater|less) than (-?[\d.]+)/i))) return sentence(`${label} must be ${m[1].toLowerCase() === 'greater' ? 'more' : 'less'} than ${number(m[2])}`);
  if (/^Input should be a valid (integer|number)/i.test(text)) return sentence(`${label} must be a whole number`);
  if (/^value is not a valid email/i.test(text)) return 'Enter an email address like name@example.com.';
  if (/^(Input should|String should|value is not|Value error)/i.test(text)) return sentence(`${label} is not valid`);
  // An identifier ("seed_text") anywhere, or a plain name opening the sentence ("email must …"):
  // prose that merely uses the word ("The goal asks…") is left alone.
  const escaped = String(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (/[_.]/.test(name)) text = text.replace(new RegExp(`(\\bthe\\s+)?\\b${escaped}\\b`, 'g'), label);
  else text = text.replace(new RegExp(`^${escaped}\\b`), label);
  return sentence(text);
}

/** A box for an ApiError (message or field problems in words, Retry-After); empty when `err` is null. */
export function errorBox(err) {
  if (!err) return h('div', { class: 'alert error', hidden: true, role: 'alert' });
  const fields = Object.entries(err.fields || {});
  const problems = fields.map(([k, v]) => friendlyMessage(k, v));
  return h(
    'div',
    { class: 'alert error', role: 'alert' },
    // With field problems the API's summary only repeats them with raw names: say each once, in words.
    problems.length === 1 ? h('p', {}, problems[0]) : null,
    problems.length > 1 ? h('ul', {}, problems.map((p) => h('li', {}, p))) : null,
    problems.length ? null : h('p', {}, sentence(err.message || String(err))),
    err.retryAfter ? h('p', { class: 'muted' }, `Try again in ${err.retryAfter} s.`) : null,
    err.errorId ? h('p', { class: 'muted' }, `Error id ${err.errorId}`) : null,
  );
}

export function notice(text, kind = 'info') {
  return h('div', { class: ['alert', kind], role: 'status' }, text);
}

/** The form's named control (the first of a radio group), or null. */
function control(form, name) {
  const found = form.elements.namedItem(name);
  if (!found) return null;
  return found instanceof RadioNodeList ? found[0] || null : found;
}

/**
 * Shows each problem ({name: sentence}) at its field; focuses the first. Returns the problems that
 * have no field in this form.
 */
export function showFieldErrors(form, problems) {
  const rest = {};
  let first = null;
  for (const [name, message] of Object.entries(problems)) {
    const input = control(form, name);
    if (input && showFieldError(input, message)) first ??= input;
    else rest[name] = message;
  }
  first?.focus();
  return rest;
}

function clearFieldErrors(form) {
  for (const el of form.elements) if (el.dataset?.errorId) clearFieldError(el);
}

/**
 * Wires a <form>: on submit runs `validate(values)` (→ {name: problem} shown at the fields, nothing
 * sent), else disables its buttons and runs `action(values, submitter)`. An API refusal of fields
 * (422) is shown at those fields, in words; anything else in the form's error box. A problem is
 * said once: at its field, or in the box when it concerns no field here. Typing in a field clears
 * its problem. `values` maps input names to values (checkboxes → booleans).
 */
export function handleSubmit(form, action, { validate } = {}) {
  let box = errorBox(null);
  form.prepend(box);
  form.noValidate = true; // the browser's own bubbles would speak before (and instead of) ours
  // Capture: cleared before the field's own listeners, which may show a fresh problem.
  const clear = (ev) => {
    if (ev.target?.dataset?.errorId && ev.target.getAttribute('aria-invalid') === 'true') clearFieldError(ev.target);
  };
  form.addEventListener('input', clear, true);
  form.addEventListener('change', clear, true);
  const showBox = (err) => {
    const fresh = errorBox(err);
    box.replaceWith(fresh);
    box = fresh;
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const values = {};
    for (const el of form.elements) {
      if (!el.name) continue;
      if (el.type === 'radio') {
        if (el.checked) values[el.name] = el.value;
        continue;
      }
      values[el.name] = el.type === 'checkbox' ? el.checked : el.value;
    }
    box.hidden = true;
    clearFieldErrors(form);
    const problems = validate?.(values, ev.submitter) || {};
    if (Object.keys(problems).length) {
      const rest = showFieldErrors(form, problems);
      if (Object.keys(rest).length) showBox({ message: '', fields: rest });
      return;
    }
    const buttons = [...form.querySelectorAll('button')];
    buttons.forEach((b) => (b.disabled = true));
    try {
      await action(values, ev.submitter);
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && Object.keys(err.fields).length) {
        const friendly = Object.fromEntries(Object.entries(err.fields).map(([k, v]) => [k, friendlyMessage(k, v)]));
        const rest = showFieldErrors(form, friendly);
        if (Object.keys(rest).length) showBox({ message: '', fields: rest, retryAfter: err.retryAfter });
      } else {
        showBox(err);
      }
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
    window.alert(sentence(err?.message || String(err)));
  } finally {
    button.disabled = false;
  }
}

export async function confirmAndRun(question, button, action) {
  if (window.confirm(question)) await runAction(button, action);
}

// Simple client-side checks, said the same way on every form.
export function checkEmail(value) {
  const v = String(value || '').trim();
  if (!v) return 'Enter your email address.';
  if (!/^[^\s@]+@[^\s@]+$/.test(v)) return 'Enter an email address like name@example.com.';
  return null;
}

export function checkNewPassword(value, min = 8, max = 128) {
  const v = String(value || '');
  if (!v) return 'Choose a password.';
  if (v.length < min) return `Use at least ${min} characters for your password (this one has ${v.length}).`;
  if (v.length > max) return `Use at most ${max} characters for your password.`;
  return null;
}

/** Only the problems that are there: {name: message} without the nulls. */
export function problems(map) {
  return Object.fromEntries(Object.entries(map).filter(([, v]) => v));
}
