// The forecast card shared by the job page and the public share page: the headline (the goal's
// forecast with its 80% interval) and the verdict label first, then each market's forecast.

import { h } from '../dom.js';
import { probabilityBars } from '../chart.js';
import { intervalText, pct } from '../forecast.js';

function runsText(replicates) {
  if (!replicates) return '';
  return replicates === 1 ? 'from a single run' : `across ${replicates} replicate runs`;
}

// The label's colour: likely / very likely lean YES, unlikely / very unlikely NO, too close to call neither.
function leanOf(label) {
  if (/unlikely/.test(label)) return 'no';
  return /likely/.test(label) ? 'yes' : 'even';
}

function headlineBlock(summary) {
  const f = summary.headline;
  const level = Math.round(f.level * 100);
  // Whole percents read best ("63% (80% interval 55–70%)"); a narrow interval keeps one decimal so
  // its ends stay apart.
  const digits = f.interval && f.interval[1] - f.interval[0] < 0.05 ? 1 : 0;
  const detail = [runsText(f.replicates)];
  if (f.market !== null && f.belief !== null) detail.push(`market price ${pct(f.market)}, agents’ stated beliefs ${pct(f.belief)}`);
  return h(
    'div',
    { class: 'headline', id: 'headline' },
    h('p', { class: 'headline-label' }, 'Forecast for the goal'),
    h(
      'p',
      { class: 'headline-main' },
      h('strong', { class: 'headline-value', id: 'headline-probability' }, pct(f.probability, digits)),
      f.interval ? h('span', { class: 'headline-interval', id: 'headline-interval' }, ` (${level}% interval ${intervalText(f.interval, digits)})`) : null,
      summary.label ? ' ' : null,
      summary.label ? h('span', { class: ['tag', 'verdict-label', `lean-${leanOf(summary.label)}`], id: 'verdict-label' }, summary.label) : null,
    ),
    h('p', { class: 'muted small headline-detail' }, detail.filter(Boolean).join(' · ')),
  );
}

export function forecastCard(job, summary) {
  const withIntervals = summary.markets.some((m) => m.interval);
  return h(
    'section',
    { class: 'card forecast', id: 'forecast', 'aria-labelledby': 'forecast-title' },
    h('h2', { id: 'forecast-title' }, 'Forecast'),
    summary.headline ? headlineBlock(summary) : null,
    summary.lowEvidence
      ? h(
          'p',
          { class: 'alert warning', id: 'low-evidence', role: 'note' },
          h('strong', {}, 'Low evidence. '),
          `The seed named ${summary.stakeholders === null ? 'fewer than 3' : summary.stakeholders === 0 ? 'no' : `only ${summary.stakeholders}`} stakeholder${summary.stakeholders === 1 ? '' : 's'}, so read this number as weak.`,
        )
      : null,
    job.key_insight ? h('blockquote', { class: 'insight', id: 'key-insight' }, job.key_insight) : null,
    summary.verdict
      ? h('p', { class: 'verdict', id: 'verdict' }, h('strong', {}, 'Verdict: '), summary.verdict, ' ', !summary.headline && summary.label ? h('span', { class: 'tag' }, summary.label) : null)
      : null,
    summary.markets.length
      ? h(
          'div',
          { id: 'probabilities' },
          h('h3', { class: 'small-heading' }, withIntervals ? `Each market: forecast and ${Math.round((summary.headline?.level ?? 0.8) * 100)}% interval` : 'Each market: probability of YES'),
          probabilityBars(summary.markets.map((m) => ({ id: m.id, label: m.label === m.id ? m.id : `${m.id}: ${m.label}`, probability: m.probability, interval: m.interval, level: summary.headline?.level ?? 0.8 }))),
        )
      : h('p', { class: 'muted' }, 'No probabilities were recorded.'),
    summary.belief !== null
      ? h('p', { class: 'muted small', id: 'agents-belief' }, `Agents’ own belief that the goal happens (confidence-weighted${summary.headline?.replicates > 1 ? ', first run' : ''}): ${pct(summary.belief, 1)}`)
      : null,
    summary.heuristic
      ? h('p', { class: 'muted small' }, 'Simulated with the deterministic heuristic backend (no language model).')
      : null,
  );
}
