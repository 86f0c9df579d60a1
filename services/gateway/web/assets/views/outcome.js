// A COMPLETED job's outcome: the form that records what happened (the goal, optionally the other
// markets, the day and a source), then the scores of each resolved market against its opening price
// and the agents' settlement. Corrections are allowed while the API says `editable` (7 days).

import { ApiError, api } from '../api.js';
import { formatDay, h, replace, safeUrl, utcDay } from '../dom.js';
import { parseJson } from '../forecast.js';
import { errorBox, field, handleSubmit, notice } from './ui.js';

export const OUTCOME_WORDS = { YES: 'Yes', NO: 'No', ANNULLED: 'Annulled' };
const SETTLEMENT_ROWS = 10;

/** A score as the tables print it: three decimals, or a dash when unscored. */
export function score(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(3) : '—';
}

/** "72%", or "90.5%" where whole percents would hide a half (as the forecast's headline shows it). */
export function pct0(p) {
  if (typeof p !== 'number' || !Number.isFinite(p)) return '—';
  const tenths = (p * 100).toFixed(1);
  return tenths.endsWith('.0') ? `${tenths.slice(0, -2)}%` : `${tenths}%`;
}

export function outcomeTag(outcome) {
  return h('span', { class: ['tag', 'outcome-tag', `outcome-${String(outcome).toLowerCase()}`] }, OUTCOME_WORDS[outcome] || outcome);
}

/** "The forecast (72%) beat the opening price (60%): Brier 0.078 vs 0.160". */
export function verdictLine(m) {
  if (m.outcome === 'ANNULLED' || typeof m.brier !== 'number' || typeof m.opening_brier !== 'number') {
    return 'Annulled: not scored, and trades on this market are refunded.';
  }
  const forecast = `The forecast (${pct0(m.probability)})`;
  const opening = `the opening price (${pct0(m.opening_price)})`;
  const a = score(m.brier);
  const b = score(m.opening_brier);
  if (a === b) return `${forecast} tied ${opening}: Brier ${a} both`;
  return m.brier < m.opening_brier
    ? `${forecast} beat ${opening}: Brier ${a} vs ${b}`
    : `${forecast} did worse than ${opening}: Brier ${a} vs ${b}`;
}

function money(value) {
  return Number(value).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function signed(value) {
  const v = Number(value);
  if (Math.abs(v) < 0.005) return money(0);
  return `${v > 0 ? '+' : '−'}${money(Math.abs(v))}`;
}

/** The job's markets that can be resolved: the goal's and the others, with their questions. */
export function resolvableMarkets(job) {
  const forecast = parseJson(job.result_structured)?.forecast;
  const scored = forecast?.markets && typeof forecast.markets === 'object' ? forecast.markets : {};
  const goalId = String(forecast?.goal?.market_id ?? 'm1');
  const config = Array.isArray(job.markets_config) ? job.markets_config : [];
  const markets = config
    .filter((m) => Object.hasOwn(scored, String(m.id)))
    .map((m) => ({ id: String(m.id), question: m.question || String(m.id), isGoal: String(m.id) === goalId }));
  markets.sort((a, b) => (a.isGoal === b.isGoal ? a.id.localeCompare(b.id, undefined, { numeric: true }) : a.isGoal ? -1 : 1));
  return markets;
}

// The API's messages are plain words; the UI says "simulation" and writes days out.
export function plainMessage(message) {
  let text = String(message || '').trim();
  text = text.replace(/\bthe job\b/g, 'the simulation').replace(/\b\d{4}-\d{2}-\d{2}\b/g, (day) => formatDay(day));
  if (text) text = text[0].toUpperCase() + text.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** A problem shown under its field (announced, and tied to the field with aria-describedby). */
function fieldError(id) {
  const box = h('div', { class: 'alert error field-error', id, role: 'alert', hidden: true });
  return {
    box,
    show(message, inputs) {
      box.textContent = message ? plainMessage(message) : '';
      box.hidden = !message;
      for (const input of inputs) {
        if (message) input.setAttribute('aria-invalid', 'true');
        else input.removeAttribute('aria-invalid');
      }
    },
  };
}

function outcomeForm(job, current, { onSaved, onCancel }) {
  const markets = resolvableMarkets(job);
  const goal = markets.find((m) => m.isGoal);
  const side = markets.filter((m) => !m.isGoal);
  const today = utcDay();
  const createdDay = utcDay(job.created_at) || today;
  const given = new Map((current?.markets || []).map((m) => [m.market_id, m.outcome]));

  const radios = Object.entries(OUTCOME_WORDS).map(([value, label]) =>
    h('label', { class: 'radio' },
      h('input', { type: 'radio', name: 'outcome', value, id: `outcome-${value.toLowerCase()}`, checked: current?.outcome === value, 'aria-describedby': 'outcome_error' }),
      h('span', {}, label)),
  );
  const radioInputs = radios.map((r) => r.querySelector('input'));
  const outcomeError = fieldError('outcome_error');

  const selects = side.map((m) => {
    const select = h('select', { name: `market-${m.id}`, id: `market-${m.id}`, 'data-market': m.id, 'aria-describedby': 'markets_error' },
      h('option', { value: '' }, 'Unresolved'),
      Object.entries(OUTCOME_WORDS).map(([value, label]) => h('option', { value }, label)));
    select.value = given.get(m.id) || '';
    return select;
  });
  const marketsError = fieldError('markets_error');

  const date = h('input', { type: 'date', name: 'resolved_on', id: 'resolved_on', min: createdDay, max: today, value: current?.resolved_on || today, 'aria-describedby': 'resolved_on_help resolved_on_error' });
  const dateError = fieldError('resolved_on_error');
  const url = h('input', { type: 'url', name: 'source_url', id: 'source_url', maxlength: 2000, placeholder: 'https://…', value: current?.source_url || '', 'aria-describedby': 'source_url_help source_url_error', inputmode: 'url' });
  const urlError = fieldError('source_url_error');

  const clearErrors = () => {
    outcomeError.show(null, radioInputs);
    marketsError.show(null, selects);
    dateError.show(null, [date]);
    urlError.show(null, [url]);
  };
  radioInputs.forEach((r) => r.addEventListener('change', () => outcomeError.show(null, radioInputs)));
  selects.forEach((sel) => sel.addEventListener('change', () => marketsError.show(null, selects)));
  date.addEventListener('input', () => dateError.show(null, [date]));
  url.addEventListener('input', () => urlError.show(null, [url]));

  const submit = h('button', { type: 'submit', class: 'primary', id: 'record-outcome' }, current ? 'Save correction' : 'Record outcome');
  const cancel = onCancel ? h('button', { type: 'button', class: 'secondary', id: 'cancel-outcome', onclick: onCancel }, 'Cancel') : null;
  const form = h(
    'form',
    { id: 'outcome-form', novalidate: true },
    h('fieldset', { class: 'field radio-group', id: 'outcome-goal' },
      h('legend', { class: 'field-label' }, 'What happened to the goal?'),
      goal ? h('p', { class: 'muted small outcome-question' }, goal.question) : null,
      h('div', { class: 'radio-row' }, radios),
      outcomeError.box,
    ),
    side.length
      ? h('fieldset', { class: 'field side-markets', id: 'outcome-markets' },
          h('legend', { class: 'field-label' }, 'The other markets (optional)'),
          side.map((m, k) => h('div', { class: 'side-market' },
            h('label', { class: 'side-question', for: selects[k].id }, h('code', {}, m.id), ' ', m.question), selects[k])),
          marketsError.box,
        )
      : null,
    h('div', { class: 'grid-2' },
      h('div', {},
        field('Resolution date', date, h('span', { id: 'resolved_on_help' }, `the day it was decided: from ${formatDay(createdDay)} (the simulation’s day) to today`)),
        dateError.box),
      h('div', {},
        field('Source (optional)', url, h('span', { id: 'source_url_help' }, 'a web page that records the outcome')),
        urlError.box),
    ),
    h('div', { class: 'actions' }, submit, cancel),
  );

  // Shows a refusal at the field it concerns; false when no field here is concerned.
  const showAtField = (err) => {
    if (!(err instanceof ApiError) || err.status !== 422) return false;
    const places = { outcome: [outcomeError, radioInputs], markets: [marketsError, selects], resolved_on: [dateError, [date]], source_url: [urlError, [url]] };
    const names = Object.keys(err.fields);
    if (!names.length || !names.every((name) => places[name] && (name !== 'markets' || selects.length))) return false;
    for (const name of names) {
      const [box, inputs] = places[name];
      box.show(err.fields[name], inputs);
    }
    places[names[0]][1][0]?.focus();
    return true;
  };

  handleSubmit(form, async () => {
    clearErrors();
    const chosen = radioInputs.find((r) => r.checked)?.value;
    if (!chosen) {
      outcomeError.show('Choose what happened: Yes, No or Annulled.', radioInputs);
      radioInputs[0].focus();
      return;
    }
    const body = { outcome: chosen, resolved_on: date.value, source_url: url.value.trim() };
    const resolved = Object.fromEntries(selects.filter((sel) => sel.value).map((sel) => [sel.dataset.market, sel.value]));
    if (Object.keys(resolved).length) body.markets = resolved;
    let saved;
    try {
      saved = (await api('PUT', `/api/jobs/${job.id}/outcome`, { body })).outcome;
    } catch (err) {
      if (showAtField(err)) return;
      // Said once, in words: the form's box gets the message without the field list repeating it.
      throw Object.assign(new Error(plainMessage(err?.message || String(err))), { fields: {}, errorId: err?.errorId || null, retryAfter: err?.retryAfter || null });
    }
    onSaved(saved);
  });
  return form;
}

function marketScores(m) {
  const scored = m.outcome !== 'ANNULLED';
  const row = (label, p, brier, log, cls) =>
    h('tr', { class: cls },
      h('th', { scope: 'row' }, label),
      h('td', { class: 'num' }, pct0(p)),
      h('td', { class: 'num brier', 'data-value': brier ?? '' }, score(brier)),
      h('td', { class: 'num log-score', 'data-value': log ?? '' }, score(log)));
  return h(
    'div',
    { class: 'score-block', 'data-market': m.market_id },
    h('div', { class: 'table-wrap' },
      h('table', { class: 'scores' },
        h('caption', {},
          h('span', { class: 'score-market' }, h('code', {}, m.market_id), m.is_goal ? ' (goal) ' : ' ', m.question || ''),
          ' ', h('span', { class: 'score-outcome' }, 'resolved ', outcomeTag(m.outcome))),
        h('thead', {}, h('tr', {}, h('td', {}), ['P(YES)', 'Brier', 'Log score'].map((t) => h('th', { scope: 'col', class: 'num' }, t)))),
        h('tbody', {},
          row('Forecast', m.probability, scored ? m.brier : null, scored ? m.log_score : null, 'forecast-row'),
          row('Opening price', m.opening_price, scored ? m.opening_brier : null, scored ? m.opening_log_score : null, 'opening-row')),
      )),
    h('p', { class: ['score-verdict', scored ? null : 'muted'] }, verdictLine(m)),
  );
}

function settlementTable(agents) {
  const ranked = [...agents].sort((a, b) => b.settled_cash - a.settled_cash || a.agent_id - b.agent_id).slice(0, SETTLEMENT_ROWS);
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'settlement', id: 'settlement' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col', class: 'num' }, '#'),
        h('th', { scope: 'col' }, 'Agent'),
        h('th', { scope: 'col', class: 'num' }, 'Settled cash'),
        h('th', { scope: 'col', class: 'num' }, 'P&L'))),
      h('tbody', {}, ranked.map((a, k) => h('tr', { 'data-agent': a.agent_id },
        h('td', { class: 'num' }, String(k + 1)),
        h('td', {}, a.name || `agent ${a.agent_id}`),
        h('td', { class: 'num' }, money(a.settled_cash)),
        h('td', { class: ['num', 'pnl', a.pnl > 0.005 ? 'pnl-pos' : a.pnl < -0.005 ? 'pnl-neg' : null] }, signed(a.pnl)))))));
}

function outcomeDetails(outcome, onEdit) {
  const link = safeUrl(outcome.source_url);
  const web = link && /^https?:/i.test(link) ? link : null;
  const goal = outcome.markets.find((m) => m.is_goal);
  const others = outcome.markets.filter((m) => !m.is_goal);
  const edit = outcome.editable ? h('button', { type: 'button', class: 'secondary small', id: 'edit-outcome', onclick: onEdit }, 'Edit') : null;
  const annulled = outcome.outcome === 'ANNULLED';
  return [
    h('div', { class: 'section-head' }, h('h2', { id: 'outcome-title' }, 'Outcome'), edit),
    h('p', { class: 'outcome-summary', id: 'outcome-summary' },
      annulled ? 'The goal was annulled' : ['The goal resolved ', outcomeTag(outcome.outcome)],
      ` on ${formatDay(outcome.resolved_on)}`,
      others.length ? `; ${others.length} other market${others.length === 1 ? '' : 's'} resolved` : '',
      '.'),
    web
      ? h('p', { class: 'outcome-source' }, 'Source: ', h('a', { href: web, id: 'outcome-source', target: '_blank', rel: 'noopener noreferrer' }, new URL(web).host))
      : outcome.source_url ? h('p', { class: 'outcome-source muted' }, 'Source: ', outcome.source_url) : null,
    h('p', { class: 'muted small', id: 'outcome-editable' },
      outcome.editable ? `You can correct it until ${formatDay(outcome.editable_until)}.` : `Fixed on ${formatDay(outcome.editable_until)}.`),
    h('h3', { class: 'small-heading' }, 'Scores'),
    h('p', { class: 'hint' }, 'Brier score: 0 is perfect, 0.25 is what always saying 50% earns, lower is better. Log score: lower is better. The opening price is what the markets started at, the baseline to beat.'),
    h('div', { id: 'outcome-scores' }, [goal, ...others].filter(Boolean).map(marketScores)),
    outcome.agents.length
      ? [
          h('h3', { class: 'small-heading' }, 'Settlement'),
          h('p', { class: 'hint' }, `The agents of the first run ranked by their cash once the resolved markets paid out (winning shares pay 1, annulled markets refund, unresolved ones count at their closing price)${outcome.agents.length > SETTLEMENT_ROWS ? `; the top ${SETTLEMENT_ROWS} of ${outcome.agents.length}` : ''}.`),
          settlementTable(outcome.agents),
        ]
      : null,
  ];
}

/** The job page's Outcome section (COMPLETED jobs, owner's view only). */
export function outcomeSection(job, { signal } = {}) {
  const root = h('section', { class: 'card outcome', id: 'outcome', 'aria-labelledby': 'outcome-title' }, h('h2', { id: 'outcome-title' }, 'Outcome'), h('p', { class: 'muted loading' }, 'Loading…'));
  const showForm = (current) => {
    const form = outcomeForm(job, current, {
      onSaved: (saved) => showDetails(saved, current ? 'Outcome corrected.' : 'Outcome recorded.'),
      onCancel: current ? () => showDetails(current) : null,
    });
    replace(
      root,
      h('h2', { id: 'outcome-title' }, current ? 'Correct the outcome' : 'Outcome'),
      h('p', { class: 'muted' }, current
        ? 'Change what was recorded; the scores and the settlement are worked out again.'
        : 'Once the question is decided, record what happened: the markets settle and the forecast is scored against the opening prices. You can correct it for 7 days.'),
      form,
    );
  };
  const showDetails = (outcome, saved = null) => {
    replace(root, outcomeDetails(outcome, () => showForm(outcome)));
    if (saved) root.querySelector('#outcome-summary').after(notice(saved, 'success'));
  };
  (async () => {
    try {
      // `outcome` is null until one is recorded
      const { outcome } = await api('GET', `/api/jobs/${job.id}/outcome`, { signal });
      if (signal?.aborted) return;
      if (outcome) showDetails(outcome);
      else showForm(null);
    } catch (err) {
      if (!signal?.aborted) replace(root, h('h2', { id: 'outcome-title' }, 'Outcome'), errorBox(err));
    }
  })();
  return root;
}
