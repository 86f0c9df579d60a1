// The reliability diagram of a track record: for each tenth of the probability scale, the mean
// forecast (x) against how often the events happened (y); a perfectly calibrated forecaster sits on
// the diagonal. The forecasts and the opening prices are drawn in two styles (filled circles, open
// squares), each point sized by how many forecasts its bin holds; the bins' counts are bars below.

import { h, s } from './dom.js';

const W = 380;
const PLOT = 290; // the square plot's side
const L = 54; // left margin (tick labels, axis label)
const T = 12;
const BARS_TOP = T + PLOT + 44; // below the x ticks and the x-axis label
const BARS_H = 46;
const H = BARS_TOP + BARS_H + 22;

export const STYLES = {
  forecast: { label: 'Forecast', color: '#2563eb' },
  opening: { label: 'Opening price', color: '#c2410c' },
};

const x = (p) => L + p * PLOT;
const y = (p) => T + (1 - p) * PLOT;
const pctText = (p) => `${Math.round(p * 100)}%`;

function binsOf(summary) {
  const bins = Array.isArray(summary?.calibration) ? summary.calibration : [];
  return bins.map((b, k) => ({ ...b, index: k, count: Number(b.count) || 0 }));
}

function filled(bins) {
  return bins.filter((b) => b.count > 0 && typeof b.mean_forecast === 'number' && typeof b.observed === 'number');
}

function marker(kind, cx, cy, r, text) {
  const { color } = STYLES[kind];
  const title = s('title', {}, text);
  if (kind === 'forecast') {
    return s('circle', { cx, cy, r, fill: color, 'fill-opacity': 0.85, stroke: '#fff', 'stroke-width': 1.5, class: 'rel-point forecast' }, title);
  }
  return s('rect', { x: cx - r, y: cy - r, width: 2 * r, height: 2 * r, fill: '#fff', 'fill-opacity': 0.6, stroke: color, 'stroke-width': 2, class: 'rel-point opening' }, title);
}

/** One legend swatch: the marker, or the dashed diagonal. */
export function legendSwatch(kind) {
  const box = { viewBox: '0 0 20 20', width: 20, height: 20, 'aria-hidden': 'true', class: 'swatch' };
  if (kind === 'diagonal') return s('svg', box, s('line', { x1: 2, y1: 18, x2: 18, y2: 2, class: 'rel-diagonal' }));
  return s('svg', box, marker(kind, 10, 10, 6, STYLES[kind].label));
}

function describe(kind, bins) {
  const points = filled(bins);
  if (!points.length) return `${STYLES[kind].label}: no scored forecasts.`;
  const parts = points.map((b) => `${pctText(b.lower)}–${pctText(b.upper)}: mean ${pctText(b.mean_forecast)}, happened ${pctText(b.observed)} of ${b.count}`);
  return `${STYLES[kind].label}: ${parts.join('; ')}.`;
}

/**
 * forecast, opening: ScoreSummary objects ({count, calibration: [10 bins]}) → a <figure> with the
 * SVG (role="img", described in words), its legend and a caption.
 */
export function reliabilityDiagram(forecast, opening) {
  const series = { forecast: binsOf(forecast), opening: binsOf(opening) };
  const maxCount = Math.max(1, ...Object.values(series).flat().map((b) => b.count));
  const radius = (count) => 3.5 + 7 * Math.sqrt(count / maxCount);
  const n = Number(forecast?.count) || 0;
  const label = `Reliability diagram of ${n} resolved forecast${n === 1 ? '' : 's'}: for each tenth of the probability scale, the mean forecast across and how often the event happened up; points on the dashed diagonal are perfectly calibrated, bigger points hold more forecasts. ${describe('forecast', series.forecast)} ${describe('opening', series.opening)}`;

  const ticks = [0, 0.2, 0.4, 0.6, 0.8, 1];
  const grid = ticks.map((v) => s('g', {},
    s('line', { x1: L, x2: L + PLOT, y1: y(v), y2: y(v), class: 'grid' }),
    s('line', { x1: x(v), x2: x(v), y1: T, y2: T + PLOT, class: 'grid' }),
    s('text', { x: L - 7, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, pctText(v)),
    s('text', { x: x(v), y: T + PLOT + 16, 'text-anchor': 'middle', class: 'tick' }, pctText(v)),
  ));
  const points = Object.entries(series).flatMap(([kind, bins]) =>
    filled(bins).map((b) => {
      const g = s('g', { class: 'rel-bin', 'data-bin': b.index, 'data-kind': kind },
        marker(kind, x(b.mean_forecast), y(b.observed), radius(b.count),
          `${STYLES[kind].label}, ${pctText(b.lower)}–${pctText(b.upper)} bin: ${b.count} forecast${b.count === 1 ? '' : 's'}, mean ${pctText(b.mean_forecast)}, happened ${pctText(b.observed)}`));
      return g;
    }),
  );
  // Bin counts: two thin bars per tenth (forecast left, opening price right), scaled to the largest.
  const slot = PLOT / 10;
  const barW = slot * 0.34;
  const bars = Object.entries(series).flatMap(([kind, bins], side) =>
    bins.filter((b) => b.count > 0).map((b) => {
      const height = Math.max(2, (b.count / maxCount) * (BARS_H - 12));
      const bx = L + b.index * slot + slot / 2 + (side ? 1 : -1 - barW);
      return s('g', { class: ['rel-count', kind].join(' ') },
        s('rect', { x: bx, y: BARS_TOP + BARS_H - height, width: barW, height, class: `rel-bar ${kind}` },
          s('title', {}, `${STYLES[kind].label}: ${b.count} in ${pctText(b.lower)}–${pctText(b.upper)}`)),
        s('text', { x: bx + barW / 2, y: BARS_TOP + BARS_H - height - 3, 'text-anchor': 'middle', class: 'rel-count-label' }, String(b.count)));
    }),
  );

  const svg = s(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, class: 'chart reliability', id: 'reliability-diagram', role: 'img', 'aria-label': label },
    s('title', {}, 'Reliability diagram: forecast against observed frequency'),
    s('desc', {}, label),
    grid,
    s('rect', { x: L, y: T, width: PLOT, height: PLOT, class: 'rel-frame' }),
    s('line', { x1: x(0), y1: y(0), x2: x(1), y2: y(1), class: 'rel-diagonal' }),
    s('text', { x: x(0.62), y: y(0.62) - 6, transform: `rotate(-45 ${x(0.62)} ${y(0.62) - 6})`, 'text-anchor': 'middle', class: 'rel-diagonal-label' }, 'perfectly calibrated'),
    s('text', { x: L + PLOT / 2, y: T + PLOT + 34, 'text-anchor': 'middle', class: 'axis-label' }, 'forecast (mean in each tenth)'),
    s('text', { x: 14, y: T + PLOT / 2, transform: `rotate(-90 14 ${T + PLOT / 2})`, 'text-anchor': 'middle', class: 'axis-label' }, 'observed frequency'),
    s('g', { class: 'rel-points' }, points),
    s('line', { x1: L, x2: L + PLOT, y1: BARS_TOP + BARS_H, y2: BARS_TOP + BARS_H, class: 'axis' }),
    s('text', { x: L - 7, y: BARS_TOP + BARS_H - 2, 'text-anchor': 'end', class: 'tick' }, 'count'),
    bars,
    s('text', { x: L + PLOT / 2, y: H - 4, 'text-anchor': 'middle', class: 'axis-label' }, 'forecasts in each tenth'),
  );
  return h(
    'figure',
    { class: 'figure reliability-figure', id: 'reliability' },
    svg,
    h('ul', { class: 'legend rel-legend' },
      h('li', {}, legendSwatch('forecast'), h('span', { class: 'legend-label' }, 'Forecast (the job’s headline probability)')),
      h('li', {}, legendSwatch('opening'), h('span', { class: 'legend-label' }, 'Opening price (where the goal’s market started)')),
      h('li', {}, legendSwatch('diagonal'), h('span', { class: 'legend-label' }, 'Perfectly calibrated: it happens as often as forecast'))),
    h('figcaption', { class: 'muted small' }, 'A point above the diagonal: events in that range happened more often than forecast; below it, less often. Point size and the bars below show how many forecasts each tenth holds.'),
  );
}
