// One job: live progress while it runs (SSE), then the forecast (the goal's probability with its
// 80% interval), its outcome (recorded once the question is decided), report, market curves (with
// the other replicate runs faint), entity graph, chat replay and share link.

import { api, download, followProgress } from '../api.js';
import { formatDate, h, percent, replace, s } from '../dom.js';
import { lineChart, marketCurvesFigure, PALETTE } from '../chart.js';
import { chatEntries, chatReplay } from '../chat.js';
import { forecastSummary, parseJson } from '../forecast.js';
import { entityGraphFigure } from '../graph.js';
import { renderMarkdown } from '../markdown.js';
import { outcomeSection } from './outcome.js';
import { forecastCard } from './results.js';
import { LIVE, STAGES, TERMINAL, badge, confirmAndRun, runAction } from './ui.js';

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

/** The live progress panel; update(job) redraws it from a progress event. */
function progressPanel() {
  const history = new Map(); // market id → [{x: round, y: price}]
  const root = h('section', { class: 'card progress', id: 'progress', 'aria-live': 'polite' });
  const update = (job) => {
    const live = job.live_status || {};
    const current = stageIndex(job);
    const round = Number(live.round) || 0;
    const maxRounds = Number(live.max_rounds) || 0;
    const prices = live.prices && typeof live.prices === 'object' ? live.prices : {};
    for (const [id, price] of Object.entries(prices)) {
      const points = history.get(id) || [];
      const last = points[points.length - 1];
      if (typeof price === 'number' && (!last || last.x !== round)) points.push({ x: round, y: price });
      else if (last && last.x === round && typeof price === 'number') last.y = price;
      history.set(id, points);
    }
    const questions = marketQuestions(job);
    const priceRows = Object.entries(prices).sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true })).map(([id, price], k) =>
      h('li', { class: 'price', 'data-market': id },
        h('span', { class: 'price-q' }, `${id}: ${questions.get(id) || ''}`),
        h('span', { class: 'price-bar' }, meter(price, PALETTE[k % PALETTE.length])),
        h('strong', { class: 'price-v' }, percent(price)),
      ),
    );
    const series = [...history.entries()].sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true })).map(([id, points], k) => ({ label: `${id}: ${questions.get(id) || ''}`, color: PALETTE[k % PALETTE.length], points }));
    const log = Array.isArray(live.log) ? live.log.slice(-4) : [];
    replace(
      root,
      h('h2', {}, 'Live progress'),
      h('ol', { class: 'stepper' }, STAGES.map((name, k) => h('li', { class: k < current ? 'done' : k === current ? 'current' : null }, name))),
      h('p', { class: 'stage-line' },
        h('strong', { id: 'stage-name' }, job.status === 'PENDING' ? 'Waiting for a runner' : live.stage_name || STAGES[Math.max(0, current)] || ''),
        maxRounds ? h('span', { id: 'round-line' }, ` · round ${round} of ${maxRounds}`) : null,
        live.agents ? h('span', { class: 'muted' }, ` · ${live.agents} agents · ${live.posts ?? 0} posts · ${live.trades ?? 0} trades`) : null,
      ),
      typeof live.goal_belief === 'number'
        ? h('p', { class: 'live-forecast', id: 'live-forecast' },
            'Agents’ stated belief in the goal so far: ', h('strong', {}, percent(live.goal_belief)),
            h('span', { class: 'muted' }, ` (${Number(live.replicates) > 1 ? `mean over ${live.replicates} replicate runs; ` : ''}the final forecast also weighs the market prices)`))
        : null,
      maxRounds ? h('div', { class: 'round-bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': maxRounds, 'aria-valuenow': round }, meter(round / maxRounds, '#2563eb')) : null,
      priceRows.length ? h('ul', { class: 'prices', id: 'live-prices' }, priceRows) : null,
      series.some((sr) => sr.points.length > 1) ? lineChart(series, { title: 'Market prices so far' }) : null,
      log.length ? h('ul', { class: 'log' }, log.map((line) => h('li', {}, String(line)))) : null,
    );
  };
  return { root, update };
}

function meter(fraction, color) {
  const width = Math.max(0, Math.min(1, Number(fraction) || 0)) * 100;
  return s(
    'svg',
    { viewBox: '0 0 100 6', preserveAspectRatio: 'none', class: 'meter' },
    s('rect', { x: 0, y: 0, width: 100, height: 6, class: 'meter-bg' }),
    s('rect', { x: 0, y: 0, width, height: 6, fill: color }),
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

async function resultsView(job, signal) {
  const [curves, chatLog] = await Promise.all([artifact(job.id, 'market_curves.json'), artifact(job.id, 'chat_log.json')]);
  const summary = forecastSummary({ structured: job.result_structured, curves, marketsConfig: job.markets_config });
  let graph = parseJson(job.result_graph);
  if (!graph) {
    try {
      graph = (await api('GET', `/api/jobs/${job.id}/graph`)).graph;
    } catch {
      graph = null;
    }
  }
  const entries = chatEntries(chatLog ?? job.result_chat_log);
  const reportBtn = h('button', { type: 'button', class: 'secondary', id: 'download-report' }, 'Download report.md');
  reportBtn.addEventListener('click', () => runAction(reportBtn, () => download(`/api/jobs/${job.id}/report.md`, `job-${job.id}-report.md`)));
  return [
    forecastCard(job, summary),
    h('nav', { class: 'section-nav', 'aria-label': 'sections' }, [['#outcome', 'Outcome'], ['#report', 'Report'], ['#markets', 'Market curves'], ['#graph', 'Entity graph'], ['#chat', 'Chat replay'], ['#share', 'Share']].map(([href, t]) => h('a', { href }, t))),
    outcomeSection(job, { signal }),
    h('section', { class: 'card', id: 'report' },
      h('div', { class: 'section-head' }, h('h2', {}, 'Report'), reportBtn),
      job.result_report ? h('article', { class: 'markdown' }, renderMarkdown(job.result_report)) : h('p', { class: 'muted' }, 'The report is not available.'),
    ),
    h('section', { class: 'card', id: 'markets' }, h('h2', {}, 'Market curves'), curves ? marketCurvesFigure(curves) : h('p', { class: 'muted' }, 'Market data is not available.')),
    h('section', { class: 'card', id: 'graph' }, h('h2', {}, 'Entity graph'), entityGraphFigure(graph)),
    h('section', { class: 'card', id: 'chat' }, h('h2', {}, 'Chat replay'), chatReplay(entries, { signal })),
    shareCard(job),
  ];
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
    if (job.status === 'FAILED') {
      const retry = h('button', { type: 'button', class: 'primary', id: 'retry-job' }, 'Retry');
      retry.addEventListener('click', () => runAction(retry, async () => navigate(`/jobs/${(await api('POST', `/api/jobs/${id}/retry`)).job.id}`)));
      buttons.push(retry);
    }
    const del = h('button', { type: 'button', class: 'danger', id: 'delete-job' }, 'Delete');
    del.addEventListener('click', () => confirmAndRun('Delete this simulation and all its results?', del, async () => { await api('DELETE', `/api/jobs/${id}`); navigate('/jobs'); }));
    buttons.push(del);
    replace(
      head,
      h('div', { class: 'crumbs' }, h('a', { href: '/jobs', 'data-link': true }, 'Simulations'), ` / #${job.id}`),
      h('div', { class: 'title-row' }, h('h1', { id: 'job-goal' }, job.goal || 'Untitled'), h('span', { id: 'job-status' }, badge(job.status))),
      h('p', { class: 'meta muted' }, `tier ${job.tier || '—'} · forecast horizon ${job.forecast_days ?? '—'} days · web enrichment ${job.enrich_web ? 'on' : 'off'} · created ${formatDate(job.created_at)}`, job.completed_at ? ` · finished ${formatDate(job.completed_at)}` : ''),
      h('div', { class: 'head-actions' }, buttons),
    );
  };

  const showFinal = async () => {
    renderHead();
    if (job.status === 'COMPLETED') {
      replace(body, h('p', { class: 'muted loading' }, 'Loading results…'));
      const sections = await resultsView(job, signal);
      if (!signal.aborted) replace(body, ...sections);
    } else {
      replace(body, h('section', { class: 'card failed', id: 'failure' }, h('h2', {}, job.status === 'REFUNDED' ? 'Refunded' : 'This simulation failed'), h('p', {}, job.error_message || 'No reason was recorded.')));
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
