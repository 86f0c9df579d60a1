// What-if branches. On a COMPLETED job's page, "What if?": pick the round to branch after, add
// the news to inject, and "Run branch" makes a new job (POST /api/jobs/{id}/branches) that resumes
// from the parent's checkpoint of that round; below, the job's branches with their forecasts
// (GET /api/jobs?branch_of=N). On a branch's own page: the banner naming its parent and round, and
// the comparison the reporter wrote (result_structured.branch: the goal's forecast before and
// after with their intervals, the move, beliefs by camp and the markets' moves).

import { ApiError, api } from '../api.js';
import { h } from '../dom.js';
import { eventEditor, eventItem, eventList } from '../events.js';
import { digitsFor, intervalText, isProbability, parseJson, pct } from '../forecast.js';
import { badge, handleSubmit, sentence, statusOf } from './ui.js';

const CAMP_WORDS = { yes: 'YES camp', no: 'NO camp', undecided: 'Undecided middle' };

/** The whole day round `round` of `rounds` ends on, over `days` days (scheduled_events.round_end_day). */
export function roundEndDay(round, rounds, days) {
  if (rounds <= 0) return 1;
  return Math.min(days, Math.max(1, Math.ceil((round * days) / rounds)));
}

/** The round day `day` falls in (scheduled_events.event_round). */
export function eventRound(day, rounds, days) {
  if (rounds <= 0 || days <= 0) return 1;
  return Math.min(rounds, Math.max(1, Math.ceil((day * rounds) / days)));
}

/** [low, high] of an interval given as a pair or {low, high}; null otherwise. */
function intervalOf(value) {
  const pair = Array.isArray(value) ? value : value && typeof value === 'object' ? [value.low ?? value.p10, value.high ?? value.p90] : null;
  return pair && isProbability(pair[0]) && isProbability(pair[1]) && pair[0] <= pair[1] ? pair : null;
}

/** "63% (80% interval 55–70%)", or "63%" without an interval, or "—". */
function estimate(value) {
  const p = value?.probability ?? value;
  if (!isProbability(p)) return '—';
  const interval = intervalOf(value?.interval);
  const digits = digitsFor(interval);
  return interval ? `${pct(p, digits)} (80% interval ${intervalText(interval, digits)})` : pct(p, digits);
}

/** "up 13 points", "down 2.5 points", "no change". */
export function moveWords(delta) {
  if (typeof delta !== 'number' || !Number.isFinite(delta)) return '—';
  const points = delta * 100;
  if (Math.abs(points) < 0.05) return 'no change';
  // One decimal below 10 points, as the report and the key insight write the move.
  const digits = Math.abs(points) < 10 ? 1 : 0;
  const n = Math.abs(points).toFixed(digits);
  return `${points > 0 ? 'up' : 'down'} ${n} point${n === '1' ? '' : 's'}`;
}

/** The banner of a branch's page, for any status: whose branch it is and where it starts. */
export function branchBanner(job) {
  if (job.branch_of === null || job.branch_of === undefined) return null;
  const events = eventList(job.events);
  return h(
    'div',
    { class: 'alert info branch-banner', id: 'branch-banner', role: 'note' },
    h('p', {}, 'What-if branch of ', h('a', { href: `/jobs/${job.branch_of}`, 'data-link': true, id: 'branch-parent' }, `job #${job.branch_of}`), ` after round ${job.branch_round ?? 0}`),
    events.length
      ? h('p', { class: 'small' }, events.length === 1 ? 'With this news injected: ' : `With ${events.length} pieces of news injected: `, events.map((e) => e.headline).join(' · '))
      : h('p', { class: 'small' }, 'No news injected: it replays its parent from that round.'),
  );
}

function scrollTable(label, head, rows) {
  return h(
    'div',
    { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': label },
    h('table', { class: 'compare-table' },
      h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows)),
  );
}

const meanText = (v) => (isProbability(v) ? pct(v) : '—');

/** The comparison at the top of a COMPLETED branch's page, from result_structured.branch. */
export function branchComparison(job) {
  const st = parseJson(job.result_structured) || {};
  const b = st.branch && typeof st.branch === 'object' ? st.branch : null;
  if (!b) return null;
  const parent = b.parent_job_id ?? job.branch_of;
  const events = eventList(b.events);
  const before = b.before || {};
  const after = b.after || {};
  const delta = typeof b.delta === 'number' ? b.delta : isProbability(after.probability) && isProbability(before.probability) ? after.probability - before.probability : null;
  const camps = Array.isArray(b.camps) ? b.camps.filter((c) => c && c.camp) : [];
  const markets = Array.isArray(b.markets) ? b.markets.filter((m) => m && m.market_id !== undefined) : [];
  const questions = new Map((Array.isArray(job.markets_config) ? job.markets_config : []).map((m) => [String(m.id), m.question || '']));
  const question = (id) => (questions.get(String(id)) && questions.get(String(id)) !== String(id) ? questions.get(String(id)) : '');
  return h(
    'section',
    { class: 'card branch-compare', id: 'branch-comparison', 'aria-labelledby': 'branch-comparison-title' },
    h('h2', { id: 'branch-comparison-title' }, 'What-if comparison'),
    h('p', {}, 'Branched from ', h('a', { href: `/jobs/${parent}`, 'data-link': true }, `job #${parent}`), ` after round ${b.round ?? job.branch_round ?? 0}`, events.length ? ', with:' : ', with no news injected.'),
    events.length ? h('ul', { class: 'event-list' }, events.map((e) => eventItem(e))) : null,
    h(
      'dl',
      { class: 'compare-forecast' },
      h('div', { class: 'compare-cell' }, h('dt', {}, `Before (job #${parent})`), h('dd', { id: 'compare-before' }, estimate(before))),
      h('div', { class: 'compare-cell' }, h('dt', {}, 'After (this branch)'), h('dd', { id: 'compare-after' }, estimate(after))),
      h('div', { class: ['compare-cell', 'compare-move', delta > 0 ? 'up' : delta < 0 ? 'down' : null] }, h('dt', {}, 'Move'), h('dd', { id: 'compare-delta' }, moveWords(delta))),
    ),
    camps.length
      ? h('div', {},
          h('h3', { class: 'small-heading' }, 'Beliefs by camp'),
          scrollTable('Beliefs by camp, before and after', ['Camp', 'Agents before', 'Agents after', 'Mean belief before', 'Mean belief after'], camps.map((c) =>
            h('tr', { 'data-camp': c.camp },
              h('th', { scope: 'row' }, CAMP_WORDS[c.camp] || c.camp),
              h('td', {}, String(c.before_agents ?? '—')),
              h('td', {}, String(c.after_agents ?? '—')),
              h('td', {}, meanText(c.before_mean)),
              h('td', {}, meanText(c.after_mean)))),
          ))
      : null,
    markets.length
      ? h('div', {},
          h('h3', { class: 'small-heading' }, 'Markets'),
          scrollTable('Market forecasts, before and after', ['Market', 'Before', 'After', 'Move'], markets.map((m) => {
            const bp = m.before?.probability ?? m.before;
            const ap = m.after?.probability ?? m.after;
            return h('tr', { 'data-market': m.market_id },
              h('th', { scope: 'row' }, String(m.market_id), question(m.market_id) ? h('span', { class: 'market-question' }, question(m.market_id)) : null),
              h('td', {}, estimate(m.before)),
              h('td', {}, estimate(m.after)),
              h('td', {}, isProbability(bp) && isProbability(ap) ? moveWords(ap - bp) : '—'));
          })))
      : null,
  );
}

/** The job's branches as a list with each one's status, round, news and forecast. */
function branchList(jobs) {
  if (!jobs.length) return h('p', { class: 'muted', id: 'branch-none' }, 'No branches yet.');
  return h(
    'ul',
    { class: 'branch-list', id: 'branch-list' },
    jobs.map((b) => {
      const low = b.forecast_low;
      const high = b.forecast_high;
      const forecast = isProbability(b.forecast_probability)
        ? estimate({ probability: b.forecast_probability, interval: isProbability(low) && isProbability(high) ? [low, high] : null })
        : null;
      const events = eventList(b.events);
      return h(
        'li',
        { class: 'branch-item', 'data-job': b.id },
        h('div', { class: 'branch-line' },
          h('a', { href: `/jobs/${b.id}`, 'data-link': true, class: 'branch-link' }, `Branch #${b.id}`),
          h('span', { class: 'muted' }, ` after round ${b.branch_round ?? 0}`),
          ' ',
          badge(statusOf(b)),
          forecast ? h('span', { class: 'branch-forecast' }, ` Forecast ${forecast}`) : null,
        ),
        events.length ? h('p', { class: 'muted small branch-events' }, events.map((e) => e.headline).join(' · ')) : h('p', { class: 'muted small branch-events' }, 'No news injected.'),
      );
    }),
  );
}

/**
 * The "What if?" section of a COMPLETED job: `rounds` is how many rounds the job ran (the round
 * picker offers 0..rounds-1).
 */
export function whatIfSection(job, { rounds, signal, navigate }) {
  const days = Number(job.forecast_days) || 30;
  const total = Math.max(1, Number(rounds) || 1);
  const round = h('select', { id: 'branch-round', name: 'round', 'aria-describedby': 'branch-round-hint' });
  for (let r = 0; r < total; r += 1) {
    round.append(h('option', { value: String(r) }, r === 0 ? 'Round 0 — right after the agents were built' : `Round ${r} (day ${roundEndDay(r, total, days)} of ${days})`));
  }
  // The middle of the run: enough of it played to matter, enough left for news to move it.
  round.value = String(Math.floor(total / 2));
  const after = () => Number(round.value) || 0;
  const firstDay = () => {
    for (let d = 1; d <= days; d += 1) if (eventRound(d, total, days) > after()) return d;
    return days;
  };
  const editor = eventEditor({
    legend: 'News to inject',
    hint: 'The news reaches every agent’s feed on its day. Leave the list empty to replay the job exactly from that round.',
    minDay: 0,
    maxDay: days,
    addLabel: 'Add news',
    dayHint: () => `0 = right after the branch round (round ${after() + 1}); or day ${firstDay()} to ${days}.`,
    dayProblem: (day) => (day > 0 && eventRound(day, total, days) <= after() ? `Day ${day} falls in round ${eventRound(day, total, days)}, not after round ${after()}. Pick 0, or day ${firstDay()} or later.` : null),
  });
  round.addEventListener('change', () => editor.refreshHints());
  editor.addRow({ day: 0 });

  const run = h('button', { type: 'submit', class: 'primary', id: 'branch-run' }, 'Run branch');
  const roundProblem = h('p', { class: 'field-problem', id: 'branch-round-error', role: 'alert', hidden: true });
  round.dataset.errorId = roundProblem.id;
  const form = h(
    'form',
    { class: 'whatif-form', id: 'branch-form' },
    h('div', { class: 'field' },
      h('label', { class: 'field-label', for: 'branch-round' }, 'Branch after'),
      round,
      roundProblem,
      h('small', { class: 'hint', id: 'branch-round-hint' }, `The branch starts from the run’s saved state after this round (0 to ${total - 1}) and simulates the rest with the same random streams.`)),
    editor.root,
    h('div', { class: 'actions' }, run),
  );
  handleSubmit(form, async (values) => {
    if (!editor.check()) return;
    try {
      const reply = await api('POST', `/api/jobs/${job.id}/branches`, { body: { round: Number(values.round), events: editor.values() } });
      navigate(`/jobs/${reply.job.id}`);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 422 || err.status === 400)) {
        err.fields = editor.showApiProblems(err.fields);
        if (!Object.keys(err.fields).length && err.status === 422) {
          // Every problem is at its field: nothing else to say.
          return;
        }
        if (err.status === 400 && err.fields.round) {
          // handleSubmit places only 422s at their fields.
          err.status = 422;
        }
      }
      throw err;
    }
  });

  const listBox = h('div', { id: 'branches' }, h('p', { class: 'muted small' }, 'Loading branches…'));
  (async () => {
    try {
      const data = await api('GET', `/api/jobs?branch_of=${job.id}&per_page=100`, { signal });
      const jobs = (Array.isArray(data?.jobs) ? data.jobs : []).filter((b) => Number(b.branch_of) === Number(job.id));
      listBox.replaceChildren(branchList(jobs));
    } catch (err) {
      if (signal?.aborted) return;
      listBox.replaceChildren(h('p', { class: 'muted' }, `The branches could not be loaded: ${sentence(err?.message || String(err))}`));
    }
  })();

  return h(
    'section',
    { class: 'card', id: 'whatif', 'aria-labelledby': 'whatif-title' },
    h('h2', { id: 'whatif-title' }, 'What if?'),
    h('p', { class: 'muted' }, 'Replay this simulation from one of its rounds with news added, and compare the forecasts. The branch is a new simulation; its page opens with the comparison once it finishes.'),
    form,
    h('h3', { class: 'small-heading' }, 'Branches of this simulation'),
    listBox,
  );
}
