// A finished job's results. forecastCard is shared with the public share page: one headline (the
// goal's forecast, its 80% interval and its move from the opening price) with the verdict label,
// the key insight once, then the other markets, smaller. resultsSections builds the rest of the job
// page: for a what-if branch the comparison with its parent first, then sticky section links with
// the timeline scrubber, outcome, report (citations link into the chat replay), market curves,
// entity graph, chat replay, interviews, what-if branches, share and downloads.

import { api, download } from '../api.js';
import { h, replace } from '../dom.js';
import { curveRounds, marketCurvesFigure, probabilityBar, probabilityBars } from '../chart.js';
import { chatEntries, chatReplay } from '../chat.js';
import { digitsFor, forecastSummary, insightAfterHeadline, intervalText, moveText, parseJson, pct } from '../forecast.js';
import { entityGraphFigure } from '../graph.js';
import { renderMarkdown } from '../markdown.js';
import { createTimeline } from '../timeline.js';
import { interviewAgents, interviewsSection } from './interviews.js';
import { outcomeSection } from './outcome.js';
import { branchComparison, whatIfSection } from './whatif.js';
import { confirmAndRun, runAction } from './ui.js';

function runsText(replicates) {
  if (!replicates) return '';
  return replicates === 1 ? 'from a single run' : `across ${replicates} replicate runs`;
}

// The label's colour: likely / very likely lean YES, unlikely / very unlikely NO, too close to call
// neither. The verdict is the only place lean colours appear.
function leanOf(label) {
  if (/unlikely/.test(label)) return 'no';
  return /likely/.test(label) ? 'yes' : 'even';
}

function headlineBlock(summary, { detail }) {
  const f = summary.headline;
  const level = Math.round(f.level * 100);
  // Whole percents read best ("63% (80% interval 55–70%)"); a narrow interval keeps one decimal so
  // its ends stay apart.
  const digits = digitsFor(f.interval);
  const move = moveText(f.probability, f.opening);
  const details = [runsText(f.replicates)];
  if (f.market !== null && f.belief !== null) details.push(`market price ${pct(f.market)}, agents’ stated beliefs ${pct(f.belief)}`);
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
    move ? h('p', { class: 'headline-move', id: 'headline-move' }, move) : null,
    h('div', { class: 'headline-bar' }, probabilityBar(f.probability, f.interval)),
    // The key insight, when there is one, already says how many runs and where market and beliefs ended.
    detail ? h('p', { class: 'muted small headline-detail' }, details.filter(Boolean).join(' · ')) : null,
  );
}

export function forecastCard(job, summary) {
  const level = Math.round((summary.headline?.level ?? 0.8) * 100);
  // The goal's market is the headline; the rest are secondary.
  const others = summary.headline ? summary.markets.filter((m) => m.id !== summary.headline.marketId) : summary.markets;
  const withIntervals = others.some((m) => m.interval);
  // The key insight and the verdict sentence say the same thing; the verdict sentence is also the
  // report's Verdict section, so the card shows the key insight (the verdict only without one).
  const insight = job.key_insight ? (summary.headline ? insightAfterHeadline(job.key_insight, summary.label) : job.key_insight) : null;
  return h(
    'section',
    { class: 'card forecast', id: 'forecast', 'aria-labelledby': 'forecast-title' },
    h('h2', { id: 'forecast-title', class: 'sr-only' }, 'Forecast'),
    summary.headline ? headlineBlock(summary, { detail: !insight }) : null,
    summary.lowEvidence
      ? h(
          'p',
          { class: 'alert warning', id: 'low-evidence', role: 'note' },
          h('strong', {}, 'Low evidence. '),
          `The seed named ${summary.stakeholders === null ? 'fewer than 3' : summary.stakeholders === 0 ? 'no' : `only ${summary.stakeholders}`} stakeholder${summary.stakeholders === 1 ? '' : 's'}, so read this number as weak.`,
        )
      : null,
    insight ? h('blockquote', { class: 'insight', id: 'key-insight' }, insight) : null,
    !insight && summary.verdict
      ? h('p', { class: 'verdict', id: 'verdict' }, h('strong', {}, 'Verdict: '), summary.verdict, ' ', !summary.headline && summary.label ? h('span', { class: 'tag' }, summary.label) : null)
      : null,
    others.length
      ? h(
          'div',
          { id: 'probabilities', class: 'other-markets' },
          h('h3', { class: 'small-heading' }, summary.headline ? 'Other markets' : 'Markets'),
          h('p', { class: 'muted small' }, withIntervals ? `Each market’s forecast of YES and its ${level}% interval.` : 'Each market’s probability of YES.'),
          probabilityBars(others.map((m) => ({ id: m.id, label: m.label === m.id ? m.id : `${m.id}: ${m.label}`, probability: m.probability, interval: m.interval, level: summary.headline?.level ?? 0.8 }))),
        )
      : summary.headline
        ? null
        : h('p', { class: 'muted' }, 'No probabilities were recorded.'),
    summary.belief !== null
      ? h('p', { class: 'muted small', id: 'agents-belief' }, `Agents’ own belief that the goal happens (confidence-weighted${summary.headline?.replicates > 1 ? ', first run' : ''}): ${pct(summary.belief, 1)}`)
      : null,
    summary.heuristic ? h('p', { class: 'muted small' }, 'Simulated with the deterministic heuristic backend (no language model).') : null,
  );
}

async function artifact(id, name) {
  try {
    return await api('GET', `/api/jobs/${id}/sim-data/${name}`);
  } catch {
    return null;
  }
}

// Share links are stored hashed: the link is shown once, when it is made. Afterwards the job only
// says it is shared; a new link replaces the old one (which stops working), or the link is revoked.
function shareCard(job) {
  const root = h('section', { class: 'card', id: 'share' });
  const revokeButton = () => {
    const revoke = h('button', { type: 'button', class: 'danger', id: 'revoke-share' }, 'Revoke');
    revoke.addEventListener('click', () => confirmAndRun('Revoke this link? It stops working at once.', revoke, async () => {
      await api('DELETE', `/api/jobs/${job.id}/share`);
      render(null, null, false);
    }));
    return revoke;
  };
  const render = (token, url, shared) => {
    if (!token) {
      const label = shared ? 'Create a new link' : 'Create share link';
      const create = h('button', { type: 'button', class: shared ? 'secondary' : 'primary', id: 'create-share' }, label);
      create.addEventListener('click', () => runAction(create, async () => {
        const data = await api('POST', `/api/jobs/${job.id}/share`);
        render(data.share_token, data.share_url, true);
      }));
      if (shared) {
        replace(root, h('h2', {}, 'Share'),
          h('p', { id: 'share-status' }, 'This forecast is shared: anyone with its link sees a read-only page. The link was shown once, when it was made; a new link replaces it (the old one stops working).'),
          h('div', { class: 'share-row' }, create, revokeButton()));
        return;
      }
      replace(root, h('h2', {}, 'Share'), h('p', { class: 'muted' }, 'Anyone with the link sees a read-only page of this forecast: no email, no account details.'), create);
      return;
    }
    const link = url || `${location.origin}/share/${token}`;
    const input = h('input', { type: 'text', readonly: true, value: link, id: 'share-url', 'aria-label': 'share link' });
    const copy = h('button', { type: 'button', class: 'secondary', onclick: async () => { input.select(); try { await navigator.clipboard.writeText(link); copy.textContent = 'Copied'; } catch { document.execCommand?.('copy'); } } }, 'Copy');
    replace(root, h('h2', {}, 'Share'),
      h('p', { class: 'muted', id: 'share-once' }, 'Copy this link now: it is shown only this once.'),
      h('div', { class: 'share-row' }, input, copy, h('a', { href: link, target: '_blank', rel: 'noopener', class: 'button secondary' }, 'Open'), revokeButton()));
  };
  render(null, null, Boolean(job.shared));
  return root;
}

// What each artifact holds, in words (docs/artifacts.md); an unknown one is listed by name alone.
const ARTIFACT_WORDS = {
  'report.md': 'The report (Markdown)',
  'market_curves.json': 'Market prices and the agents’ belief, round by round, with the forecast',
  'chat_log.json': 'The chat replay: posts, trades and thoughts in order',
  'posts.json': 'Every post, with its likes and replies',
  'top_posts.json': 'The most engaged posts',
  'trades.json': 'Every trade',
  'agent_trajectories.json': 'Each agent’s beliefs, round by round',
  'engagement_summary.json': 'Activity per round and the most engaged agents',
  'social_graph.json': 'Who follows whom',
  'profiles.json': 'The simulated agents’ profiles',
  'relations.json': 'Relations between the entities',
};

function downloadItem(name, path, jobId) {
  const button = h('button', { type: 'button', class: 'link download-link', 'data-file': name }, name);
  button.addEventListener('click', () => runAction(button, () => download(path, `job-${jobId}-${name}`)));
  return h('li', {}, button, ARTIFACT_WORDS[name] ? h('span', { class: 'muted small' }, ` — ${ARTIFACT_WORDS[name]}`) : null);
}

function downloadsCard(job, simData) {
  const files = simData && typeof simData.downloads === 'object' && simData.downloads ? Object.entries(simData.downloads) : [];
  const items = [downloadItem('report.md', `/api/jobs/${job.id}/report.md`, job.id)];
  for (const [name, path] of files.sort(([a], [b]) => a.localeCompare(b))) {
    if (name !== 'report.md' && typeof path === 'string' && path.startsWith('/api/')) items.push(downloadItem(name, path, job.id));
  }
  return h(
    'section',
    { class: 'card', id: 'downloads' },
    h('h2', {}, 'Downloads'),
    h('p', { class: 'muted small' }, simData ? 'The report and every file the simulation wrote (JSON).' : 'The simulation’s data files are not available; the report is.'),
    h('ul', { class: 'downloads', id: 'download-list' }, items),
  );
}

/** The round scrubber: a range over the run's rounds and a "Whole run" button; it sets `timeline`. */
function scrubber(timeline) {
  const rounds = timeline.rounds;
  if (rounds.length < 2) return null;
  const last = rounds[rounds.length - 1];
  const label = h('output', { class: 'scrub-label', id: 'scrub-label', 'aria-live': 'polite' });
  const range = h('input', { type: 'range', id: 'scrub-range', min: 0, max: rounds.length - 1, step: 1, value: rounds.length - 1, 'aria-label': 'Round' });
  const whole = h('button', { type: 'button', class: 'secondary small', id: 'scrub-whole' }, 'Whole run');
  const text = (round) => (round === null ? 'Whole run' : round === 0 ? `Opening (round 0 of ${last})` : `Round ${round} of ${last}`);
  const show = (round) => {
    label.textContent = text(round);
    range.setAttribute('aria-valuetext', text(round));
    if (round !== null) range.value = String(rounds.indexOf(round));
    // Only needed once a round is picked.
    whole.hidden = round === null;
  };
  range.addEventListener('input', () => timeline.set(rounds[Number(range.value)], 'scrubber'));
  whole.addEventListener('click', () => timeline.set(null, 'scrubber'));
  timeline.subscribe((round) => show(round));
  show(timeline.round);
  return h('div', { class: 'scrubber', id: 'scrubber', role: 'group', 'aria-label': 'Show one round' }, h('span', { class: 'scrub-title', 'aria-hidden': 'true' }, 'Round'), range, label, whole);
}

const SECTIONS = [
  ['outcome', 'Outcome'],
  ['report', 'Report'],
  ['markets', 'Market curves'],
  ['graph', 'Entity graph'],
  ['chat', 'Chat replay'],
  ['interviews', 'Interviews'],
  ['whatif', 'What if?'],
  ['share', 'Share'],
  ['downloads', 'Downloads'],
];

/** The sticky bar: section links (plain #fragments: app.js scrolls, nothing re-renders) and the scrubber. */
function sectionBar(timeline, signal) {
  const links = SECTIONS.map(([id, text]) => h('a', { href: `#${id}`, 'data-section': id }, text));
  const bar = h(
    'div',
    { class: 'results-bar', id: 'results-bar' },
    h('nav', { class: 'section-nav', 'aria-label': 'sections' }, links),
    scrubber(timeline),
  );
  // The sections stop below the bar, whatever height it wraps to.
  const sized = new ResizeObserver(() => bar.parentElement?.style.setProperty('--results-bar', `${Math.ceil(bar.getBoundingClientRect().height)}px`));
  sized.observe(bar);
  // The link of the section being read is marked.
  const seen = new IntersectionObserver((changes) => {
    for (const change of changes) {
      if (!change.isIntersecting) continue;
      for (const a of links) {
        if (a.dataset.section === change.target.id) a.setAttribute('aria-current', 'location');
        else a.removeAttribute('aria-current');
      }
    }
  }, { rootMargin: '-30% 0px -60% 0px' });
  signal?.addEventListener('abort', () => {
    sized.disconnect();
    seen.disconnect();
  });
  const ids = new Set(SECTIONS.map(([id]) => id));
  // Observed before they are on the page: the observer reports them once they are.
  const watch = (sections) => sections.filter((el) => ids.has(el?.id)).forEach((el) => seen.observe(el));
  return { bar, watch };
}

/** Every section of a COMPLETED job's page, in order; `navigate` opens a new branch's page. */
export async function resultsSections(job, signal, { navigate } = {}) {
  const [curves, chatLog, simData, profiles] = await Promise.all([
    artifact(job.id, 'market_curves.json'),
    artifact(job.id, 'chat_log.json'),
    api('GET', `/api/jobs/${job.id}/sim-data`, { signal }).catch(() => null),
    artifact(job.id, 'profiles.json'),
  ]);
  const summary = forecastSummary({ structured: job.result_structured, curves, marketsConfig: job.markets_config });
  let graph = parseJson(job.result_graph);
  if (!graph) {
    try {
      graph = (await api('GET', `/api/jobs/${job.id}/graph`, { signal })).graph;
    } catch {
      graph = null;
    }
  }
  const entries = chatEntries(chatLog ?? job.result_chat_log);
  const timeline = createTimeline([...curveRounds(curves), ...entries.map((e) => e.round)]);
  const reportBtn = h('button', { type: 'button', class: 'secondary', id: 'download-report' }, 'Download report.md');
  reportBtn.addEventListener('click', () => runAction(reportBtn, () => download(`/api/jobs/${job.id}/report.md`, `job-${job.id}-report.md`)));
  const questions = new Map();
  for (const m of [...(Array.isArray(job.markets_config) ? job.markets_config : []), ...(Array.isArray(curves?.markets) ? curves.markets : [])]) {
    if (m && m.id !== undefined) questions.set(String(m.id), m.question || String(m.id));
  }
  const { bar, watch } = sectionBar(timeline, signal);
  const structured = parseJson(job.result_structured) || {};
  // The rounds the job ran: what a branch can start after (0..rounds-1).
  const rounds = Math.max(0, ...timeline.rounds);
  const sections = [
    branchComparison(job),
    forecastCard(job, summary),
    bar,
    outcomeSection(job, { signal }),
    h('section', { class: 'card', id: 'report' },
      h('div', { class: 'section-head' }, h('h2', {}, 'Report'), reportBtn),
      job.result_report ? h('article', { class: 'markdown' }, renderMarkdown(job.result_report)) : h('p', { class: 'muted' }, 'The report is not available.'),
    ),
    h('section', { class: 'card', id: 'markets' }, h('h2', {}, 'Market curves'), curves ? marketCurvesFigure(curves, { timeline, exportName: `job-${job.id}-market-curves` }) : h('p', { class: 'muted' }, 'Market data is not available.')),
    h('section', { class: 'card', id: 'graph' }, h('h2', {}, 'Entity graph'), entityGraphFigure(graph, { timeline, entries })),
    h('section', { class: 'card', id: 'chat' }, h('h2', {}, 'Chat replay'), chatReplay(entries, { signal, timeline, markets: questions })),
    interviewsSection(job, {
      agents: interviewAgents(profiles, entries),
      coalitions: Array.isArray(structured.coalitions) ? structured.coalitions : [],
      heuristic: summary.heuristic,
      signal,
    }),
    rounds > 0 ? whatIfSection(job, { rounds, signal, navigate }) : null,
    shareCard(job),
    downloadsCard(job, simData),
  ];
  watch(sections);
  return sections.filter(Boolean);
}
