// Market curves (market_curves.json) as an SVG line chart — replicate 0's curves in full, the
// other replicate runs faint behind them — and each market's forecast as a bar with its interval.

import { h, s, percent } from './dom.js';

export const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777'];

const W = 760;
const H = 320;
const PAD = { left: 52, right: 18, top: 16, bottom: 40 };

function scale(domainMin, domainMax, rangeMin, rangeMax) {
  const span = domainMax - domainMin || 1;
  return (v) => rangeMin + ((v - domainMin) / span) * (rangeMax - rangeMin);
}

function roundTicks(maxRound) {
  const step = Math.max(1, Math.ceil(maxRound / 10));
  const ticks = [];
  for (let r = 0; r <= maxRound; r += step) ticks.push(r);
  if (ticks[ticks.length - 1] !== maxRound) ticks.push(maxRound);
  return ticks;
}

/**
 * series: [{label, color, dashed, faint, points: [{x: round, y: probability}]}] → an SVG chart
 * element. Faint series (other replicate runs) are thin lines drawn first, without point markers.
 */
export function lineChart(series, { title = 'Market prices (probability of YES) by round', yLabel = 'P(YES)' } = {}) {
  const maxRound = Math.max(1, ...series.flatMap((sr) => sr.points.map((p) => p.x)));
  const x = scale(0, maxRound, PAD.left, W - PAD.right);
  const y = scale(0, 1, H - PAD.bottom, PAD.top);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((v) =>
    s(
      'g',
      {},
      s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: v === 0.5 ? 'grid mid' : 'grid' }),
      s('text', { x: PAD.left - 8, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, `${v * 100}%`),
    ),
  );
  const xTicks = roundTicks(maxRound).map((r) =>
    s(
      'g',
      {},
      s('line', { x1: x(r), x2: x(r), y1: H - PAD.bottom, y2: H - PAD.bottom + 5, class: 'axis' }),
      s('text', { x: x(r), y: H - PAD.bottom + 18, 'text-anchor': 'middle', class: 'tick' }, String(r)),
    ),
  );
  const path = (sr) => sr.points.map((p, k) => `${k ? 'L' : 'M'}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ');
  const faint = series.filter((sr) => sr.faint).map((sr) =>
    s('path', { d: path(sr), fill: 'none', stroke: sr.color, 'stroke-width': 1.25, 'stroke-opacity': 0.3, 'stroke-linejoin': 'round', class: 'series faint' }),
  );
  const lines = series.filter((sr) => !sr.faint).map((sr) => {
    const d = path(sr);
    const last = sr.points[sr.points.length - 1];
    return s(
      'g',
      { class: 'series' },
      s('path', {
        d,
        fill: 'none',
        stroke: sr.color,
        'stroke-width': sr.dashed ? 2 : 2.5,
        'stroke-dasharray': sr.dashed ? '6 4' : null,
        'stroke-linejoin': 'round',
      }),
      sr.points.map((p) =>
        s('circle', { cx: x(p.x), cy: y(p.y), r: 3, fill: sr.color, class: 'point' }, s('title', {}, `${sr.label} · round ${p.x}: ${percent(p.y)}`)),
      ),
      last ? s('circle', { cx: x(last.x), cy: y(last.y), r: 5, fill: sr.color }) : null,
    );
  });
  return s(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title },
    s('title', {}, title),
    grid,
    s('line', { x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom, y2: H - PAD.bottom, class: 'axis' }),
    xTicks,
    s('text', { x: (PAD.left + W - PAD.right) / 2, y: H - 4, 'text-anchor': 'middle', class: 'axis-label' }, 'round'),
    s('text', { x: 14, y: (PAD.top + H - PAD.bottom) / 2, transform: `rotate(-90 14 ${(PAD.top + H - PAD.bottom) / 2})`, 'text-anchor': 'middle', class: 'axis-label' }, yLabel),
    s('g', { class: 'replicates' }, faint),
    lines,
  );
}

function legend(items) {
  return h(
    'ul',
    { class: 'legend' },
    items.map((it) =>
      h('li', { class: it.faint ? 'legend-faint' : null }, h('span', { class: 'swatch' }, swatch(it.color, it.dashed, it.faint)), h('span', { class: 'legend-label' }, it.label), it.value ? h('strong', {}, it.value) : null),
    ),
  );
}

function swatch(color, dashed, faint) {
  return s(
    'svg',
    { viewBox: '0 0 24 8', width: 24, height: 8, 'aria-hidden': 'true' },
    s('line', { x1: 0, x2: 24, y1: 4, y2: 4, stroke: color, 'stroke-width': faint ? 1.5 : 3, 'stroke-opacity': faint ? 0.45 : null, 'stroke-dasharray': dashed ? '5 3' : null }),
  );
}

/** The other replicate runs' price curves (replicate 0's is the market's own curve), faint. */
function replicateSeries(curves, markets) {
  const runs = Array.isArray(curves?.replicate_curves) ? curves.replicate_curves : [];
  const out = [];
  for (const run of runs) {
    if (!run || Number(run.replicate) === 0 || !run.prices || typeof run.prices !== 'object') continue;
    markets.forEach((m, k) => {
      const prices = run.prices[m.id];
      if (!Array.isArray(prices) || prices.length < 2) return;
      out.push({
        label: `${m.id}, replicate run ${Number(run.replicate) + 1}`,
        color: PALETTE[k % PALETTE.length],
        faint: true,
        points: prices.map((p, round) => ({ x: round, y: Number(p) })).filter((p) => Number.isFinite(p.y)),
      });
    });
  }
  return out;
}

/**
 * The whole market-curves figure from market_curves.json: each market's price by round in the
 * first (quoted) run, the agents' belief in the goal, and — when the job ran replicates — the other
 * runs' prices as faint lines behind them, with a checkbox to hide them.
 */
export function marketCurvesFigure(curves) {
  const markets = Array.isArray(curves?.markets) ? curves.markets : [];
  const many = Array.isArray(curves?.replicate_curves) && curves.replicate_curves.length > 1;
  const series = markets.map((m, k) => ({
    label: `${m.id}: ${m.question}`,
    color: PALETTE[k % PALETTE.length],
    points: (m.curve || []).map((p) => ({ x: Number(p.round), y: Number(p.price_yes) })),
    final: m.final_price_yes,
  }));
  const goalCurve = curves?.goal?.curve;
  if (Array.isArray(goalCurve) && goalCurve.length) {
    series.push({
      label: `Agents’ belief in the goal (confidence-weighted${many ? ', first run' : ''})`,
      color: '#475569',
      dashed: true,
      points: goalCurve.map((p) => ({ x: Number(p.round), y: Number(p.probability) })),
      final: curves.goal.belief_probability,
    });
  }
  if (!series.length) return h('p', { class: 'muted' }, 'No market data.');
  const faint = replicateSeries(curves, markets);
  const others = new Set(faint.map((sr) => sr.label.split('replicate run ')[1])).size;
  const title = faint.length
    ? `Market prices (probability of YES) by round: the first run in full, ${others} other replicate runs faint`
    : 'Market prices (probability of YES) by round';
  const items = series.map((sr) => ({ label: sr.label, color: sr.color, dashed: sr.dashed, value: percent(sr.final) }));
  if (faint.length) items.push({ label: `The other ${others} replicate runs (same colours, faint)`, color: '#64748b', faint: true });
  const figure = h('figure', { class: 'figure', id: 'market-chart' });
  const toggle = faint.length
    ? h(
        'label',
        { class: 'inline-check' },
        h('input', {
          type: 'checkbox',
          id: 'show-replicates',
          checked: true,
          onchange: (e) => figure.classList.toggle('hide-replicates', !e.target.checked),
        }),
        ` Show the other ${others} replicate runs`,
      )
    : null;
  figure.append(lineChart([...faint, ...series], { title }), legend(items));
  if (toggle) figure.append(toggle);
  figure.append(
    h('figcaption', { class: 'muted small' }, faint.length
      ? 'Solid lines: the first replicate run, whose posts and trades the report quotes. Faint lines: the other replicate runs the forecast also pools.'
      : 'Prices by round; the dashed line is the agents’ own belief in the goal.'),
  );
  return figure;
}

const clamp01 = (v) => Math.max(0, Math.min(1, Number(v) || 0));

/**
 * Horizontal bars of probabilities: [{label, probability, interval: [low, high] | null, level}].
 * With an interval, a dark band on the bar spans it and the value names it; the bar itself is
 * decorative (the numbers are text).
 */
export function probabilityBars(rows) {
  return h(
    'div',
    { class: 'prob-bars' },
    rows.map((r, k) => {
      const interval = Array.isArray(r.interval) ? r.interval.map(clamp01) : null;
      const level = Math.round((r.level ?? 0.8) * 100);
      return h(
        'div',
        { class: ['prob-row', interval ? 'with-interval' : null], 'data-market': r.id ?? null },
        h('div', { class: 'prob-label' }, r.label),
        h(
          'div',
          { class: 'prob-track', 'aria-hidden': 'true' },
          s(
            'svg',
            { viewBox: '0 0 100 10', preserveAspectRatio: 'none', class: 'prob-svg' },
            s('rect', { x: 0, y: 0, width: 100, height: 10, class: 'prob-bg' }),
            s('rect', { x: 0, y: 0, width: clamp01(r.probability) * 100, height: 10, fill: PALETTE[k % PALETTE.length] }),
            interval ? s('rect', { x: interval[0] * 100, y: 3.5, width: Math.max(0.6, (interval[1] - interval[0]) * 100), height: 3, class: 'prob-interval-band' }) : null,
          ),
        ),
        h(
          'div',
          { class: 'prob-value' },
          percent(r.probability),
          interval
            ? h('span', { class: 'prob-interval' }, h('span', { class: 'sr-only' }, `, ${level}% interval `), `${(interval[0] * 100).toFixed(1)}–${(interval[1] * 100).toFixed(1)}%`)
            : null,
        ),
      );
    }),
  );
}
