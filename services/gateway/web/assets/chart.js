// Market curves (market_curves.json) as an SVG line chart, and final probabilities as bars.

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
 * series: [{label, color, dashed, points: [{x: round, y: probability}]}] → an SVG chart element.
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
  const lines = series.map((sr) => {
    const d = sr.points.map((p, k) => `${k ? 'L' : 'M'}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ');
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
    lines,
  );
}

function legend(items) {
  return h(
    'ul',
    { class: 'legend' },
    items.map((it) =>
      h('li', {}, h('span', { class: 'swatch' }, swatch(it.color, it.dashed)), h('span', { class: 'legend-label' }, it.label), it.value ? h('strong', {}, it.value) : null),
    ),
  );
}

function swatch(color, dashed) {
  return s('svg', { viewBox: '0 0 24 8', width: 24, height: 8 }, s('line', { x1: 0, x2: 24, y1: 4, y2: 4, stroke: color, 'stroke-width': 3, 'stroke-dasharray': dashed ? '5 3' : null }));
}

/** The whole market-curves figure (chart + legend) from market_curves.json. */
export function marketCurvesFigure(curves) {
  const markets = Array.isArray(curves?.markets) ? curves.markets : [];
  const series = markets.map((m, k) => ({
    label: `${m.id}: ${m.question}`,
    color: PALETTE[k % PALETTE.length],
    points: (m.curve || []).map((p) => ({ x: Number(p.round), y: Number(p.price_yes) })),
    final: m.final_price_yes,
  }));
  const goalCurve = curves?.goal?.curve;
  if (Array.isArray(goalCurve) && goalCurve.length) {
    series.push({
      label: 'Agents’ belief in the goal (confidence-weighted)',
      color: '#475569',
      dashed: true,
      points: goalCurve.map((p) => ({ x: Number(p.round), y: Number(p.probability) })),
      final: curves.goal.belief_probability,
    });
  }
  if (!series.length) return h('p', { class: 'muted' }, 'No market data.');
  return h(
    'figure',
    { class: 'figure', id: 'market-chart' },
    lineChart(series),
    legend(series.map((sr) => ({ label: sr.label, color: sr.color, dashed: sr.dashed, value: percent(sr.final) }))),
  );
}

/** Horizontal bars of final probabilities: [{label, probability}]. */
export function probabilityBars(rows) {
  return h(
    'div',
    { class: 'prob-bars' },
    rows.map((r, k) =>
      h(
        'div',
        { class: 'prob-row' },
        h('div', { class: 'prob-label' }, r.label),
        h(
          'div',
          { class: 'prob-track' },
          s(
            'svg',
            { viewBox: '0 0 100 10', preserveAspectRatio: 'none', class: 'prob-svg' },
            s('rect', { x: 0, y: 0, width: 100, height: 10, class: 'prob-bg' }),
            s('rect', { x: 0, y: 0, width: Math.max(0, Math.min(1, r.probability || 0)) * 100, height: 10, fill: PALETTE[k % PALETTE.length] }),
          ),
        ),
        h('div', { class: 'prob-value' }, percent(r.probability)),
      ),
    ),
  );
}
