// The public, read-only page of a shared job: no sign-in, no account data. It ends with an
// invitation to run one's own forecast.

import { ApiError, api, session } from '../api.js';
import { formatDate, h, replace } from '../dom.js';
import { marketCurvesFigure } from '../chart.js';
import { chatEntries, chatReplay } from '../chat.js';
import { forecastSummary, parseJson } from '../forecast.js';
import { entityGraphFigure } from '../graph.js';
import { renderMarkdown } from '../markdown.js';
import { forecastCard } from './results.js';
import { badge, notice } from './ui.js';

/** The shared job's market curves, or null when it has none (a 404 is not worth a word). */
async function sharedCurves(token, signal) {
  try {
    return await api('GET', `/api/share/${token}/market_curves.json`, { auth: false, signal });
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    if (signal.aborted) throw err;
    return null; // the rest of the page stands without the chart
  }
}

function runYourOwn() {
  const signedIn = session.signedIn;
  return h(
    'section',
    { class: 'card cta', id: 'run-your-own', 'aria-labelledby': 'run-your-own-title' },
    h('h2', { id: 'run-your-own-title' }, 'Run your own forecast'),
    h('p', {}, 'Paste a document, ask a yes/no question about it, and watch simulated people debate and trade on it — then read the forecast, report and replay.'),
    h('p', { class: 'actions' },
      signedIn
        ? h('a', { href: '/jobs/new', 'data-link': true, class: 'button primary', id: 'run-your-own-start' }, 'Start a simulation')
        : h('a', { href: '/signup', 'data-link': true, class: 'button primary', id: 'run-your-own-start' }, 'Create an account'),
      h('a', { href: '/', 'data-link': true, class: 'button secondary' }, 'How it works'),
    ),
  );
}

export async function shareView(main, { params, signal }) {
  const token = params[0];
  let job;
  let curves;
  try {
    [job, curves] = await Promise.all([
      api('GET', `/api/share/${token}`, { auth: false, signal }).then((r) => r.job),
      sharedCurves(token, signal),
    ]);
  } catch (err) {
    if (signal.aborted) return;
    replace(main, h('h1', {}, 'Shared forecast'), notice(err.status === 404 ? 'This link does not exist or has been revoked.' : err.message, 'error'), runYourOwn());
    return;
  }
  const summary = forecastSummary({ structured: job.result_structured, curves, marketsConfig: job.markets_config });
  replace(
    main,
    h('div', { class: 'job-head' },
      h('div', { class: 'shared-top' },
        h('p', { class: 'shared-label' }, 'Shared forecast · read-only'),
        h('a', { href: '#run-your-own', class: 'shared-cta-link', onclick: (ev) => { ev.preventDefault(); document.getElementById('run-your-own')?.scrollIntoView({ behavior: 'smooth' }); document.getElementById('run-your-own-start')?.focus({ preventScroll: true }); } }, 'Run your own forecast ↓')),
      h('div', { class: 'title-row' }, h('h1', { id: 'job-goal' }, job.goal || 'Untitled'), badge(job.status)),
      h('p', { class: 'meta muted' }, `tier ${job.tier || '—'} · forecast horizon ${job.forecast_days ?? '—'} days · finished ${formatDate(job.completed_at)}`),
    ),
    forecastCard(job, summary),
    h('section', { class: 'card', id: 'report' }, h('h2', {}, 'Report'), job.result_report ? h('article', { class: 'markdown' }, renderMarkdown(job.result_report)) : h('p', { class: 'muted' }, 'No report.')),
    curves ? h('section', { class: 'card', id: 'markets' }, h('h2', {}, 'Market curves'), marketCurvesFigure(curves)) : null,
    h('section', { class: 'card', id: 'graph' }, h('h2', {}, 'Entity graph'), entityGraphFigure(parseJson(job.result_graph))),
    h('section', { class: 'card', id: 'chat' }, h('h2', {}, 'Chat replay'), chatReplay(chatEntries(job.result_chat_log), { signal })),
    runYourOwn(),
  );
}
