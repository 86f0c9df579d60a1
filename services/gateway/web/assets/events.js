// Scheduled events (news on a day of the forecast horizon): the editor the new-simulation form and
// the what-if form share, and the words for an event wherever one is shown. The limits are the
// jobs service's (services/common/scheduled_events.py): at most 10 events, a headline of 1–200
// characters, text up to 2,000, favouring YES, NO or neither.

import { h } from './dom.js';
import { clearFieldError, field, friendlyMessage, sentence, showFieldError } from './views/ui.js';

export const MAX_EVENTS = 10;
export const HEADLINE_MAX = 200;
export const TEXT_MAX = 2000;
const FAVOURS = [
  ['', 'Neither side (neutral news)'],
  ['yes', 'YES (makes the goal more likely)'],
  ['no', 'NO (makes the goal less likely)'],
];

const fmt = (n) => Number(n).toLocaleString('en-US');

/** "favours YES", "favours NO" or "neutral" for an event's `favours`. */
export function favoursText(favours) {
  const side = String(favours || '').toLowerCase();
  return side === 'yes' ? 'favours YES' : side === 'no' ? 'favours NO' : 'neutral';
}

/** The events of a job or a result as a list: [{day, headline, text, favours, round?}]. */
export function eventList(value) {
  return (Array.isArray(value) ? value : []).filter((e) => e && typeof e === 'object' && e.headline);
}

let editorSeq = 0;

/**
 * An editor of up to 10 events: rows of day, headline, text and the side it favours, an "Add event"
 * button, and each row's "Remove". `minDay` / `maxDay` bound the day (`setMaxDay` moves the upper
 * bound, e.g. when the horizon changes); `dayHint` explains the day. Every field has its own problem
 * line: `check()` shows what can be told here and returns false when something is wrong;
 * `showApiProblems(fields)` places a refusal's field problems (`events.0.headline`, or `events`
 * with "event 2 needs a headline") at their rows and returns the ones it could not place.
 */
export function eventEditor({ legend, hint, minDay = 1, maxDay = 30, dayHint, dayProblem, addLabel = 'Add an event' }) {
  const prefix = `ev${++editorSeq}`;
  let upper = maxDay;
  let seq = 0;
  const rows = [];
  const list = h('ol', { class: 'event-rows', id: `${prefix}-rows` });
  const problem = h('p', { class: 'field-problem', id: `${prefix}-error`, role: 'alert', hidden: true });
  const add = h('button', { type: 'button', class: 'secondary small event-add', id: `${prefix}-add` }, addLabel);
  const count = h('p', { class: 'hint event-count', 'aria-live': 'polite' });
  const root = h(
    'fieldset',
    { class: 'field event-editor', id: `${prefix}-editor` },
    h('legend', { class: 'field-label' }, legend),
    hint ? h('p', { class: 'hint' }, hint) : null,
    list,
    problem,
    h('div', { class: 'event-actions' }, add, count),
  );

  const renumber = () => {
    rows.forEach((row, k) => {
      row.legend.textContent = `Event ${k + 1}`;
      row.remove.setAttribute('aria-label', `Remove event ${k + 1}`);
    });
    add.disabled = rows.length >= MAX_EVENTS;
    count.textContent = rows.length
      ? `${rows.length} of at most ${MAX_EVENTS} events${rows.length >= MAX_EVENTS ? ' (the limit)' : ''}.`
      : 'No events: the simulation runs on the seed alone.';
  };

  // `dayHint` may be a function: the hint follows what it depends on (a branch's round).
  const dayHintText = () => (typeof dayHint === 'function' ? dayHint() : dayHint) || `A day from ${minDay} to ${upper} of the forecast horizon.`;

  const addRow = (event = {}) => {
    if (rows.length >= MAX_EVENTS) return null;
    const n = ++seq;
    const id = (name) => `${prefix}-${name}-${n}`;
    const day = h('input', { type: 'number', id: id('day'), name: id('day'), min: minDay, max: upper, step: 1, inputmode: 'numeric', class: 'event-day', value: String(event.day ?? minDay) });
    const favours = h('select', { id: id('favours'), name: id('favours'), class: 'event-favours' }, FAVOURS.map(([v, text]) => h('option', { value: v, selected: v === (event.favours || '') }, text)));
    const headline = h('input', { type: 'text', id: id('headline'), name: id('headline'), class: 'event-headline', placeholder: 'e.g. Court blocks the levy’s ballot wording', value: event.headline || '' });
    const text = h('textarea', { id: id('text'), name: id('text'), rows: 2, class: 'event-text', placeholder: 'What the news says, in a sentence or two.' });
    text.value = event.text || '';
    const dayHintEl = h('small', { class: 'hint', id: id('day-hint') }, dayHintText());
    const legendEl = h('legend', { class: 'event-legend' });
    const remove = h('button', { type: 'button', class: 'link event-remove' }, 'Remove');
    const item = h(
      'li',
      { class: 'event-row', 'data-row': n },
      h(
        'fieldset',
        { class: 'event-fields' },
        legendEl,
        h('div', { class: 'event-grid' },
          field('Day', day, dayHintEl),
          field('Favours', favours),
        ),
        field('Headline', headline, `1 to ${HEADLINE_MAX} characters.`),
        field('Text (optional)', text, `Up to ${fmt(TEXT_MAX)} characters.`),
        remove,
      ),
    );
    const row = { item, legend: legendEl, remove, day, favours, headline, text, dayHint: dayHintEl };
    remove.addEventListener('click', () => {
      const at = rows.indexOf(row);
      rows.splice(at, 1);
      item.remove();
      renumber();
      // Focus stays in the editor: the next row's first field, or the add button.
      (rows[at]?.day || rows[at - 1]?.day || add).focus();
    });
    for (const input of [day, favours, headline, text]) input.addEventListener('input', () => clearFieldError(input));
    rows.push(row);
    list.append(item);
    renumber();
    return row;
  };

  add.addEventListener('click', () => {
    const row = addRow();
    row?.day.focus();
  });
  renumber();

  const rowProblems = (row) => {
    const out = [];
    const dayText = row.day.value.trim();
    const day = Number(dayText);
    if (!dayText || !Number.isInteger(day) || day < minDay || day > upper) out.push([row.day, `The day is a whole number from ${minDay} to ${upper}.`]);
    else if (dayProblem?.(day)) out.push([row.day, dayProblem(day)]);
    const headline = row.headline.value.trim();
    if (!headline) out.push([row.headline, 'Write a headline for this event, or remove it.']);
    else if (headline.length > HEADLINE_MAX) out.push([row.headline, `The headline is ${fmt(headline.length)} characters; the limit is ${HEADLINE_MAX}. Shorten it by ${fmt(headline.length - HEADLINE_MAX)}.`]);
    const text = row.text.value.trim();
    if (text.length > TEXT_MAX) out.push([row.text, `The text is ${fmt(text.length)} characters; the limit is ${fmt(TEXT_MAX)}. Shorten it by ${fmt(text.length - TEXT_MAX)}.`]);
    return out;
  };

  const clearAll = () => {
    problem.hidden = true;
    problem.textContent = '';
    for (const row of rows) for (const input of [row.day, row.favours, row.headline, row.text]) clearFieldError(input);
  };

  const showEditorProblem = (message) => {
    problem.textContent = message;
    problem.hidden = false;
  };

  // Which input of a row a problem is about, from its words.
  const inputFor = (row, words) => {
    const text = String(words).toLowerCase();
    if (/headline/.test(text)) return row.headline;
    if (/\bday\b|round|horizon/.test(text)) return row.day;
    if (/favour/.test(text)) return row.favours;
    if (/text/.test(text)) return row.text;
    return row.headline;
  };

  return {
    root,
    get count() {
      return rows.length;
    },
    addRow,
    /** The events as the API takes them. */
    values() {
      return rows.map((row) => ({
        day: Number(row.day.value),
        headline: row.headline.value.trim(),
        text: row.text.value.trim(),
        favours: row.favours.value,
      }));
    },
    /** Rewrites every row's day hint (after what a function `dayHint` reads has changed). */
    refreshHints() {
      for (const row of rows) row.dayHint.textContent = dayHintText();
    },
    setMaxDay(value) {
      upper = Math.max(minDay, Number(value) || upper);
      for (const row of rows) {
        row.day.max = String(upper);
        row.dayHint.textContent = dayHintText();
      }
    },
    clear: clearAll,
    /** The problems found here by input name ({name: message}), shown nowhere yet. */
    problems() {
      return Object.fromEntries(rows.flatMap(rowProblems).map(([input, message]) => [input.name, message]));
    },
    /** Shows every problem found here at its field; false when there was one. */
    check() {
      clearAll();
      const found = rows.flatMap(rowProblems);
      for (const [input, message] of found) showFieldError(input, message);
      found[0]?.[0].focus();
      return !found.length;
    },
    showProblem(message) {
      showEditorProblem(message);
      add.focus();
    },
    /** Places the API's field problems about events at their rows; returns the others. */
    showApiProblems(fields) {
      const rest = {};
      let first = null;
      const place = (input, message) => {
        if (input && showFieldError(input, message)) first ??= input;
        else {
          showEditorProblem(message);
          first ??= add;
        }
      };
      for (const [name, message] of Object.entries(fields || {})) {
        const path = /^events(?:[.[](\d+)\]?(?:\.(\w+))?)?$/.exec(name);
        if (!path) {
          rest[name] = message;
          continue;
        }
        const [, index, sub] = path;
        if (index !== undefined) {
          const row = rows[Number(index)];
          const input = row ? { day: row.day, headline: row.headline, text: row.text, favours: row.favours }[sub] || inputFor(row, message) : null;
          place(input, friendlyMessage(sub || 'event', message));
          continue;
        }
        // The jobs service names each event in its sentence: "event 2 needs a headline; event 3: …".
        for (const part of String(message).split(/;\s*(?=event \d)/i)) {
          const m = /^\s*event (\d+)(:?)\s*(.*)$/i.exec(part);
          const row = m ? rows[Number(m[1]) - 1] : null;
          // "event 1: day 3 falls in round 2, …" → "Day 3 falls in round 2, …";
          // "event 2 needs a headline" → "This event needs a headline."
          if (row) place(inputFor(row, m[3]), sentence(m[2] ? m[3] : `this event ${m[3]}`));
          else place(null, sentence(part));
        }
      }
      first?.focus();
      return rest;
    },
  };
}

/** One event as a line: "Day 12 · favours YES · Headline", the text beneath. */
export function eventItem(event, { round } = {}) {
  return h(
    'li',
    { class: 'event-item' },
    h('span', { class: 'event-when' }, Number(event.day) === 0 ? 'Right after the branch round' : `Day ${event.day ?? '?'}${round ?? event.round ? ` (round ${round ?? event.round})` : ''}`),
    ' · ',
    h('span', { class: ['tag', `favours-${String(event.favours || 'neutral').toLowerCase()}`] }, favoursText(event.favours)),
    ' ',
    h('strong', { class: 'event-headline-text' }, event.headline),
    event.text ? h('span', { class: 'event-body muted' }, ` — ${event.text}`) : null,
  );
}
