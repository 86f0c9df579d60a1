// The public, read-only page of a shared job: no sign-in, no account data.

import { api } from '../api.js';
import { formatDate, h, replace } from '../dom.js';
import { chatEntries, chatReplay } from '../chat.js';
import { forecastSummary, parseJson } from '../forecast.js';
import { entityGraphFigure } from '../graph.js';
import { renderMarkdown } from '../markdown.js';
import { forecastCard } from './results.js';
import { badge, notice } from './ui.js';

export async function shareView(main, { params, signal }) {
  const token = params[0];
  let job;
  try {
    job = (await api('GET', `/api/share/${token}`, { auth: false, signal })).job;
  } catch (err) {
    replace(main, h('h1', {}, 'Shared forecast'), notice(err.status === 404 ? 'This link does not exist or has been revoked.' : err.message, 'error'));
    return;
  }
  const summary = forecastSummary({ structured: job.result_structured, marketsConfig: job.markets_config });
  replace(
    main,
    h('div', { class: 'job-head' },
      h('p', { class: 'shared-label' }, 'Shared forecast · read-only'),
      h('div', { class: 'title-row' }, h('h1', { id: 'job-goal' }, job.goal || 'Untitled'), badge(job.status)),
      h('p', { class: 'meta muted' }, `tier ${job.tier || '—'} · forecast horizon ${job.forecast_days ?? '—'} days · finished ${formatDate(job.completed_at)}`),
    ),
    forecastCard(job, summary),
    h('section', { class: 'card', id: 'report' }, h('h2', {}, 'Report'), job.result_report ? h('article', { class: 'markdown' }, renderMarkdown(job.result_report)) : h('p', { class: 'muted' }, 'No report.')),
    h('section', { class: 'card', id: 'graph' }, h('h2', {}, 'Entity graph'), entityGraphFigure(parseJson(job.result_graph))),
    h('section', { class: 'card', id: 'chat' }, h('h2', {}, 'Chat replay'), chatReplay(chatEntries(job.result_chat_log), { signal })),
  );
}
