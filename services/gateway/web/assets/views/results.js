// The forecast card shared by the job page and the public share page.

import { h } from '../dom.js';
import { probabilityBars } from '../chart.js';

export function forecastCard(job, summary) {
  return h(
    'section',
    { class: 'card forecast', id: 'forecast' },
    h('h2', {}, 'Forecast'),
    job.key_insight ? h('blockquote', { class: 'insight', id: 'key-insight' }, job.key_insight) : null,
    summary.verdict
      ? h('p', { class: 'verdict', id: 'verdict' }, h('strong', {}, 'Verdict: '), summary.verdict, ' ', summary.label ? h('span', { class: 'tag' }, summary.label) : null)
      : null,
    summary.probabilities.length
      ? h('div', { id: 'probabilities' }, probabilityBars(summary.probabilities.map((p) => ({ label: p.label || p.id, probability: p.probability }))))
      : h('p', { class: 'muted' }, 'No probabilities were recorded.'),
    summary.heuristic
      ? h('p', { class: 'muted small' }, 'Simulated with the deterministic heuristic backend (no language model).')
      : null,
  );
}
