// One job: its place in the queue while it waits, live progress while it runs (SSE, with a price
// chart built from every round's snapshot), then the results (views/results.js), or why it stopped.
// A what-if branch says whose branch it is, after which round, at the top whatever its status.

import { api, followProgress } from '../api.js';
import { formatDate, h, percent, replace, s } from '../dom.js';
import { BELIEF_COLOR, PALETTE, chartView } from '../chart.js';
import { eventItem, eventList } from '../events.js';
import { resultsSections } from './results.js';
import { branchBanner } from './whatif.js';
import { LIVE, STAGES, TERMINAL, badge, confirmAndRun, runAction, statusOf } from './ui.js';

export function isCancelled(job) {
  return statusOf(job) === 'CANCELLED';
}

function marketQuestions(job) {
  const config = Array.isArray(job.markets_config) ? job.markets_config : [];
  return new Map(config.map((m) => [String(m.id), m.question || m.id]));
}

function stageIndex(job) {
  if (job.status === 'REPORTING') return 5;
  if (job.status === 'PENDING') return -1;
  const stage = job.live_status?.stage ?? job.pipeline_stage;
  return Number.isInteger(stage) ? stage : 0;
}

/** "under a minute", "about 2 min", "about 1 h 20 min". */
function durationText(seconds) {
  if (seconds < 60) return 'under a minute';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `about ${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
}

/** "Position 3 in the queue · about 2 min" from the job's queue fields, else "Waiting for a runner". */
export function queueText(job) {
  const position = job.queue_position;
  if (!Number.isInteger(position) || position < 1) return 'Waiting for a runner';
  const estimate = job.queue_estimate_seconds;
  const parts = [`Position ${position} in the queue`];
  if (typeof estimate === 'number' && Number.isFinite(estimate) && estimate >= 0) parts.push(durationText(estimate));
  return parts.join(' · ');
}

const byId = ([a], [b]) => a.localeCompare(b, undefined, { numeric: true });

/** Puts (round, value) into points sorted by round, replacing that round's value if there is one. */
function put(points, round, value) {
  if (!Number.isFinite(round) || typeof value !== 'number' || !Number.isFinite(value)) return;
  const at = points.findIndex((p) => p.x >= round);
  if (at === -1) points.push({ x: round, y: value });
  else if (points[at].x === round) points[at].y = value;
  else points.splice(at, 0, { x: round, y: value });
}

/** The live progress panel; update(job) redraws it from a progress event. */
function progressPanel() {
  const history = new Map(); // market id → [{x: round, y: price}]
  const belief = []; // [{x: round, y: the agents' belief in the goal}]
  const chart = chartView({ title: 'Market prices so far (probability of YES) by round' });
  const status = h('div', { class: 'progress-status', 'aria-live': 'polite' });
  const prices = h('div', { class: 'progress-prices' });
  const chartBox = h('div', { class: 'live-chart', id: 'live-chart', hidden: true }, h('h3', { class: 'small-heading' }, 'Market prices so far'), chart.root);
  const log = h('div', { class: 'progress-log' });
  const root = h('section', { class: 'card progress', id: 'progress' }, h('h2', {}, 'Live progress'), status, prices, chartBox, log);

  const record = (live) => {
    // Every round's snapshot, when the job carries them (a reload keeps the whole curve);
    // otherwise each event adds its own round.
    const snapshots = Array.isArray(live.price_history) ? live.price_history : [];
    if (snapshots.length) {
      history.clear();
      belief.length = 0;
      for (const snap of snapshots) {
        const round = Number(snap?.round);
        for (const [id, price] of Object.entries(snap?.prices && typeof snap.prices === 'object' ? snap.prices : {})) {
          if (!history.has(id)) history.set(id, []);
          put(history.get(id), round, price);
        }
        put(belief, round, snap?.goal_belief);
      }
    }
    const round = Number(live.round);
    if (!Number.isFinite(round) || !live.max_rounds) return;
    for (const [id, price] of Object.entries(live.prices && typeof live.prices === 'object' ? live.prices : {})) {
      if (!history.has(id)) history.set(id, []);
      put(history.get(id), round, price);
    }
    put(belief, round, live.goal_belief);
  };

  const update = (job) => {
    const live = job.live_status && typeof job.live_status === 'object' ? job.live_status : {};
    const current = stageIndex(job);
    const round = Number(live.round) || 0;
    const maxRounds = Number(live.max_rounds) || 0;
    record(live);
    const questions = marketQuestions(job);
    const ids = [...history.keys()].map((id) => [id]).sort(byId).map(([id]) => id);
    const colour = new Map(ids.map((id, k) => [id, PALETTE[k % PALETTE.length]]));
    const now = live.prices && typeof live.prices === 'object' ? Object.entries(live.prices).sort(byId) : [];
    const pending = job.status === 'PENDING';
    replace(
      status,
      h('ol', { class: 'stepper' }, STAGES.map((name, k) => h('li', { class: k < current ? 'done' : k === current ? 'current' : null }, name))),
      h('p', { class: 'stage-line' },
        h('strong', { id: 'stage-name' }, pending ? queueText(job) : live.stage_name || STAGES[Math.max(0, current)] || ''),
        maxRounds ? h('span', { id: 'round-line' }, ` · round ${round} of ${maxRounds}`) : null,
        live.agents ? h('span', { class: 'muted' }, ` · ${live.agents} agents · ${live.posts ?? 0} posts · ${live.trades ?? 0} trades`) : null,
      ),
      pending && Number.isInteger(job.queue_position)
        ? h('p', { class: 'muted small', id: 'queue-note' }, 'The simulation starts when a runner is free; this page follows it from there.')
        : null,
      typeof live.goal_belief === 'number'
        ? h('p', { class: 'live-forecast', id: 'live-forecast' },
            'Agents’ stated belief in the goal so far: ', h('strong', {}, percent(live.goal_belief)),
            h('span', { class: 'muted' }, ` (${Number(live.replicates) > 1 ? `mean over ${live.replicates} replicate runs; ` : ''}the final forecast also weighs the market prices)`))
        : null,
      maxRounds ? h('div', { class: 'round-bar', role: 'progressbar', 'aria-label': 'rounds simulated', 'aria-valuemin': 0, 'aria-valuemax': maxRounds, 'aria-valuenow': round }, meter(round / maxRounds)) : null,
    );
    replace(
      prices,
      now.length
        ? h('ul', { class: 'prices', id: 'live-prices' }, now.map(([id, price]) =>
            h('li', { class: 'price', 'data-market': id },
              h('span', { class: 'price-q' }, s('svg', { viewBox: '0 0 10 10', width: 10, height: 10, class: 'price-key', 'aria-hidden': 'true' }, s('circle', { cx: 5, cy: 5, r: 5, fill: colour.get(id) || PALETTE[0] })), `${id}: ${questions.get(id) || ''}`),
              h('span', { class: 'price-bar' }, meter(price)),
              h('strong', { class: 'price-v' }, percent(price)),
            )))
        : null,
    );
    const series = ids.map((id) => ({ key: id, label: `${id}: ${questions.get(id) || ''}`, short: id, color: colour.get(id), points: history.get(id) }));
    if (belief.length) series.push({ key: 'belief', label: 'Agents’ belief in the goal', short: 'agents’ belief', color: BELIEF_COLOR, belief: true, points: belief });
    const drawn = series.some((sr) => sr.points.length > 1);
    chartBox.hidden = !drawn;
    if (drawn) chart.update(series.map((sr) => ({ ...sr, points: sr.points.map((p) => ({ ...p })) })));
    const lines = Array.isArray(live.log) ? live.log.slice(-4) : [];
    replace(log, lines.length ? h('ul', { class: 'log' }, lines.map((line) => h('li', {}, String(line)))) : null);
  };
  return { root, update };
}

// The YES share (or rounds done) in the one accent colour.
function meter(fraction) {
  const width = Math.max(0, Math.min(1, Number(fraction) || 0)) * 100;
  return s(
    'svg',
    { viewBox: '0 0 100 6', preserveAspectRatio: 'none', class: 'meter', 'aria-hidden': 'true' },
    s('rect', { x: 0, y: 0, width: 100, height: 6, class: 'meter-bg' }),
    s('rect', { x: 0, y: 0, width, height: 6, class: 'meter-fill' }),
  );
}

function retryButton(id, navigate) {
  const retry = h('button', { type: 'button', class: 'primary', id: 'retry-job' }, 'Retry');
  retry.addEventListener('click', () => runAction(retry, async () => navigate(`/jobs/${(await api('POST', `/api/jobs/${id}/retry`)).job.id}`)));
  return retry;
}

/** Why a job ended without results: cancelled by its owner, refunded, or failed. */
function endedCard(job, navigate) {
  if (isCancelled(job)) {
    return h('section', { class: 'card ended cancelled', id: 'failure' },
      h('h2', {}, 'Cancelled'),
      h('p', {}, 'You cancelled this simulation before it finished, so it has no forecast. Retry runs it again with the same seed and settings.'),
      h('div', { class: 'head-actions' }, retryButton(job.id, navigate)));
  }
  if (job.status === 'REFUNDED') {
    return h('section', { class: 'card ended failed', id: 'failure' }, h('h2', {}, 'Refunded'), h('p', {}, job.error_message || 'No reason was recorded.'));
  }
  return h('section', { class: 'card ended failed', id: 'failure' },
    h('h2', {}, 'This simulation failed'),
    h('p', {}, job.error_message || 'No reason was recorded.'),
    h('div', { class: 'head-actions' }, retryButton(job.id, navigate)));
}

/** A job's own scheduled events (a branch's injected news is in its banner). */
function scheduledEvents(job) {
  const events = eventList(job.events);
  if (!events.length || (job.branch_of !== null && job.branch_of !== undefined)) return null;
  return h(
    'div',
    { class: 'job-events', id: 'job-events' },
    h('p', { class: 'small-heading' }, `Scheduled event${events.length === 1 ? '' : 's'} (news every agent sees on its day)`),
    h('ul', { class: 'event-list' }, events.map((e) => eventItem(e))),
  );
}

export async function jobView(main, { params, signal, navigate }) {
  const id = Number(params[0]);
  let job = (await api('GET', `/api/jobs/${id}`, { signal })).job;
  if (job.status === 'DRAFT') return navigate(`/jobs/new?draft=${id}`, { replace: true });
  const head = h('div', { class: 'job-head' });
  const body = h('div', { class: 'job-body' });
  const panel = progressPanel();

  const renderHead = () => {
    const buttons = [];
    if (LIVE.has(job.status)) {
      const cancel = h('button', { type: 'button', class: 'secondary', id: 'cancel-job' }, 'Cancel');
      cancel.addEventListener('click', () => confirmAndRun('Cancel this simulation?', cancel, () => api('POST', `/api/jobs/${id}/cancel`)));
      buttons.push(cancel);
    }
    const del = h('button', { type: 'button', class: 'danger', id: 'delete-job' }, 'Delete');
    del.addEventListener('click', () => confirmAndRun('Delete this simulation and all its results?', del, async () => { await api('DELETE', `/api/jobs/${id}`); navigate('/jobs'); }));
    buttons.push(del);
    replace(
      head,
      h('div', { class: 'crumbs' }, h('a', { href: '/jobs', 'data-link': true }, 'Simulations'), ` / #${job.id}`),
      h('div', { class: 'title-row' }, h('h1', { id: 'job-goal' }, job.goal || 'Untitled'), h('span', { id: 'job-status' }, badge(statusOf(job)))),
      h('p', { class: 'meta muted' }, `tier ${job.tier || '—'} · forecast horizon ${job.forecast_days ?? '—'} days · web enrichment ${job.enrich_web ? 'on' : 'off'} · created ${formatDate(job.created_at)}`, job.completed_at ? ` · finished ${formatDate(job.completed_at)}` : ''),
      branchBanner(job),
      scheduledEvents(job),
      h('div', { class: 'head-actions' }, buttons),
    );
  };

  const showFinal = async () => {
    renderHead();
    if (job.status === 'COMPLETED') {
      replace(body, h('p', { class: 'muted loading' }, 'Loading results…'));
      const sections = await resultsSections(job, signal, { navigate });
      if (signal.aborted) return;
      replace(body, ...sections);
      // Opened at a section's link (/jobs/7#markets): go there now that it exists.
      if (location.hash) document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView();
    } else {
      replace(body, endedCard(job, navigate));
    }
  };

  replace(main, head, body);
  renderHead();
  if (TERMINAL.has(job.status)) return showFinal();
  panel.update(job);
  replace(body, panel.root);
  followProgress(
    id,
    async (event, data) => {
      if (signal.aborted) return;
      if (event === 'job') {
        const statusChanged = data.status !== job.status;
        job = { ...job, ...data };
        if (statusChanged) renderHead();
        if (!TERMINAL.has(job.status)) panel.update(job);
      } else if (event === 'end') {
        job = (await api('GET', `/api/jobs/${id}`, { signal })).job;
        await showFinal();
      } else if (event === 'error') {
        body.prepend(h('div', { class: 'alert error' }, data?.error?.message || 'Progress updates stopped.'));
      }
    },
    signal,
  );
}
