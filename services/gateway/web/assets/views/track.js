// The track record: how the resolved forecasts scored against the opening prices (Brier, log score,
// calibration error, sharpness), the reliability diagram, and every resolved job. An operator can
// switch to everyone's.

import { api, session } from '../api.js';
import { formatDay, h, replace } from '../dom.js';
import { reliabilityDiagram } from '../reliability.js';
import { outcomeTag, pct0, score } from './outcome.js';

const METRICS = [
  ['count', 'Resolved questions', null],
  ['brier', 'Brier score', 'lower is better; 0.25 is always saying 50%'],
  ['log_score', 'Log score', 'lower is better; 0.693 is always saying 50%'],
  ['ece', 'Calibration error (ECE)', 'lower is better: how far the points sit from the diagonal'],
  ['sharpness', 'Sharpness', 'mean distance from 50%: how decisive'],
];

function metricValue(summary, key) {
  if (key === 'count') return String(summary?.count ?? 0);
  return score(summary?.[key]);
}

/** One plain sentence on what the numbers say. */
export function interpretation(record) {
  const f = record.forecast;
  const o = record.opening_price;
  const n = f?.count || 0;
  if (!n || typeof f.brier !== 'number') return 'No scored forecasts yet: annulled questions are not scored.';
  const questions = `${n} resolved question${n === 1 ? '' : 's'}`;
  const few = n < 10 ? `; with ${n === 1 ? 'one question' : `only ${n} questions`} this may be luck rather than skill` : '';
  if (typeof o?.brier !== 'number') return `Over ${questions} the forecasts scored a Brier of ${score(f.brier)} (lower is better)${few}.`;
  const a = score(f.brier);
  const b = score(o.brier);
  const how = a === b ? 'as accurate as' : f.brier < o.brier ? 'more accurate than' : 'less accurate than';
  return `Over ${questions} the forecasts were ${how} the opening prices (Brier ${a} vs ${b}, lower is better)${few}.`;
}

function scoreTable(record) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'scores track-scores', id: 'track-scores-table' },
      h('thead', {}, h('tr', {}, h('td', {}), h('th', { scope: 'col', class: 'num' }, 'Forecast'), h('th', { scope: 'col', class: 'num' }, 'Opening price'))),
      h('tbody', {}, METRICS.map(([key, label, hint]) => h('tr', { 'data-metric': key },
        h('th', { scope: 'row' }, label, hint ? h('span', { class: 'hint metric-hint' }, hint) : null),
        h('td', { class: 'num forecast-value' }, metricValue(record.forecast, key)),
        h('td', { class: 'num opening-value' }, metricValue(record.opening_price, key)))))));
}

function counts(record) {
  const tile = (id, value, label) => h('div', { class: 'stat', id }, h('strong', { class: 'stat-value' }, String(value)), h('span', { class: 'stat-label' }, label));
  return h('div', { class: 'stats', id: 'track-counts' },
    tile('track-resolved', record.resolved, record.resolved === 1 ? 'job resolved' : 'jobs resolved'),
    tile('track-annulled', record.annulled, 'annulled'),
    tile('track-markets', record.markets_resolved, record.markets_resolved === 1 ? 'market resolved' : 'markets resolved'),
    tile('track-markets-brier', score(record.markets_brier), 'mean Brier, all markets'));
}

// In everyone's record another user's job has no page the operator can open: its goal is text.
function entriesTable(entries, { links = true } = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'track-entries', id: 'track-entries-table' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Goal'),
        h('th', { scope: 'col' }, 'Outcome'),
        h('th', { scope: 'col', class: 'num' }, 'Forecast'),
        h('th', { scope: 'col', class: 'num' }, 'Brier'))),
      h('tbody', {}, entries.map((e) => h('tr', { 'data-job-id': e.job_id },
        h('td', { class: 'goal-cell' },
          links ? h('a', { href: `/jobs/${e.job_id}`, 'data-link': true }, e.goal || `Job #${e.job_id}`) : h('span', {}, e.goal || `Job #${e.job_id}`),
          h('div', { class: 'muted small' }, `#${e.job_id} · resolved ${formatDay(e.resolved_on)}`)),
        h('td', {}, h('span', { class: 'cell-label', 'aria-hidden': 'true' }, 'Outcome'), outcomeTag(e.outcome)),
        h('td', { class: 'num' }, h('span', { class: 'cell-label', 'aria-hidden': 'true' }, 'Forecast'), pct0(e.probability), h('div', { class: 'muted small' }, `opened ${pct0(e.opening_price)}`)),
        h('td', { class: 'num brier', 'data-value': e.brier ?? '' }, h('span', { class: 'cell-label', 'aria-hidden': 'true' }, 'Brier'), h('span', { class: 'brier-value' }, score(e.brier)),
          typeof e.opening_brier === 'number' ? h('div', { class: 'muted small' }, `opening ${score(e.opening_brier)}`) : null))))));
}

export async function trackRecordView(main, { query, signal, navigate }) {
  const operator = Boolean(session.user?.roles?.includes('operator'));
  const everyone = operator && query.get('all') === '1';
  const record = await api('GET', everyone ? '/api/admin/track-record' : '/api/track-record', { signal });
  if (signal.aborted) return;
  let scope = null;
  if (operator) {
    const select = h('select', { id: 'track-scope', onchange: (e) => navigate(e.target.value === 'all' ? '/track-record?all=1' : '/track-record') },
      h('option', { value: 'mine' }, 'my simulations'),
      h('option', { value: 'all' }, 'everyone’s simulations'));
    select.value = everyone ? 'all' : 'mine';
    scope = h('label', { class: 'inline-check scope' }, 'Showing ', select);
  }
  const head = h('div', { class: 'page-head' }, h('h1', {}, 'Track record'), scope);
  if (!record.resolved && !record.annulled) {
    replace(main, head,
      h('div', { class: 'card empty', id: 'track-empty' },
        h('p', {}, 'No resolved jobs yet — record an outcome on a completed job’s page.'),
        h('a', { href: '/jobs', 'data-link': true, class: 'button primary' }, 'Your simulations')));
    return;
  }
  const scored = (record.forecast?.count || 0) > 0;
  replace(
    main,
    head,
    h('p', { class: 'muted' }, everyone ? 'Every user’s resolved jobs.' : 'How your resolved forecasts scored against where their markets opened.'),
    counts(record),
    h('section', { class: 'card', id: 'track-scores', 'aria-labelledby': 'track-scores-title' },
      h('h2', { id: 'track-scores-title' }, 'Scores'),
      h('p', { class: 'track-interpretation', id: 'track-interpretation' }, interpretation(record)),
      scored ? scoreTable(record) : null),
    scored
      ? h('section', { class: 'card', id: 'track-calibration', 'aria-labelledby': 'track-calibration-title' },
          h('h2', { id: 'track-calibration-title' }, 'Calibration'),
          reliabilityDiagram(record.forecast, record.opening_price))
      : null,
    h('section', { class: 'card', id: 'track-entries', 'aria-labelledby': 'track-entries-title' },
      h('h2', { id: 'track-entries-title' }, 'Resolved jobs'),
      record.entries.length ? entriesTable(record.entries, { links: !everyone }) : h('p', { class: 'muted' }, 'None yet.')),
  );
}
