// Market curves (market_curves.json, or the live price history) as an interactive SVG line chart:
// a guide and tooltip at the nearest round (pointer or arrow keys), legend entries that hide a
// series, a marker at the timeline's round, markers at the rounds of scheduled events (news; the
// headline in the tooltip), and PNG / CSV export. Also each market's forecast as
// a bar with its interval.

import { h, percent, replace, s } from './dom.js';
import { favoursText } from './events.js';

// Categorical colours for the markets' lines. No red or green: those read as "against" / "for",
// and a line's colour only says which market it is.
export const PALETTE = ['#2563eb', '#7c3aed', '#0e7490', '#b45309', '#be185d', '#4338ca', '#475569'];
// The agents' belief in the goal: its own colour and a dotted stroke, so it never reads as the
// 50% grid line (light, solid) or as a market.
export const BELIEF_COLOR = '#c2410c';
const BELIEF_DASH = '1.5 4.5';
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';
const PAD = { left: 58, right: 16, top: 14, bottom: 38 };

function scale(domainMin, domainMax, rangeMin, rangeMax) {
  const span = domainMax - domainMin || 1;
  return (v) => rangeMin + ((v - domainMin) / span) * (rangeMax - rangeMin);
}

function roundTicks(minRound, maxRound, width) {
  const room = Math.max(2, Math.floor((width - PAD.left - PAD.right) / 44));
  const step = Math.max(1, Math.ceil((maxRound - minRound) / room));
  const ticks = [];
  for (let r = minRound; r <= maxRound; r += step) ticks.push(r);
  if (ticks[ticks.length - 1] !== maxRound) {
    // The last round is always labelled; drop a neighbour it would collide with.
    if (ticks.length > 1 && maxRound - ticks[ticks.length - 1] < step / 2) ticks.pop();
    ticks.push(maxRound);
  }
  return ticks;
}

function swatch(sr) {
  return s(
    'svg',
    { viewBox: '0 0 24 8', width: 24, height: 8, 'aria-hidden': 'true', class: 'swatch' },
    s('line', {
      x1: 1, x2: 23, y1: 4, y2: 4,
      stroke: sr.color,
      'stroke-width': sr.faint ? 1.5 : 3,
      'stroke-opacity': sr.faint ? 0.45 : null,
      'stroke-dasharray': sr.belief ? '1.5 4' : sr.dashed ? '5 3' : null,
      'stroke-linecap': sr.belief ? 'round' : null,
    }),
  );
}

function csvCell(value) {
  const text = String(value ?? '');
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** round, then one column per series (probabilities 0–1); a blank cell where a series has no point. */
export function seriesCsv(series) {
  const rounds = [...new Set(series.flatMap((sr) => sr.points.map((p) => p.x)))].sort((a, b) => a - b);
  const byRound = series.map((sr) => new Map(sr.points.map((p) => [p.x, p.y])));
  const lines = [['round', ...series.map((sr) => sr.label)].map(csvCell).join(',')];
  for (const r of rounds) lines.push([r, ...byRound.map((m) => (m.has(r) ? Number(m.get(r)).toFixed(4) : ''))].map(csvCell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The chart's SVG with its legend drawn beneath, as a PNG blob (white background, 2× for sharpness). */
async function pngOf(svg, series, title) {
  const width = Number(svg.getAttribute('width'));
  const height = Number(svg.getAttribute('height'));
  const clone = svg.cloneNode(true);
  clone.querySelectorAll('.chart-guide').forEach((el) => el.remove());
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const xml = new XMLSerializer().serializeToString(clone);
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(xml)}`;
  await img.decode();
  const rowHeight = 20;
  const legendHeight = 14 + rowHeight * series.length;
  const ratio = 2;
  const canvas = document.createElement('canvas');
  canvas.width = width * ratio;
  canvas.height = (height + legendHeight + 28) * ratio;
  const ctx = canvas.getContext('2d');
  ctx.scale(ratio, ratio);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height + legendHeight + 28);
  ctx.fillStyle = '#0f172a';
  ctx.font = `600 13px ${FONT}`;
  ctx.fillText(title, 12, 18, width - 24);
  ctx.drawImage(img, 0, 28, width, height);
  ctx.font = `12px ${FONT}`;
  series.forEach((sr, k) => {
    const y = 28 + height + 14 + k * rowHeight;
    ctx.strokeStyle = sr.color;
    ctx.lineWidth = 3;
    ctx.lineCap = sr.belief ? 'round' : 'butt';
    ctx.setLineDash(sr.belief ? [1.5, 4.5] : sr.dashed ? [6, 4] : []);
    ctx.beginPath();
    ctx.moveTo(14, y);
    ctx.lineTo(40, y);
    ctx.stroke();
    ctx.fillStyle = '#0f172a';
    ctx.fillText(sr.label, 48, y + 4, width - 60);
  });
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('The image could not be made.'))), 'image/png'));
}

/**
 * An interactive line chart. series: [{key, label, color, points: [{x: round, y: probability}],
 * final?, belief?, dashed?, faint?, group?}] — `faint` series (other replicate runs) are thin lines
 * drawn behind, without tooltip values, hidden with the series whose key is their `group`.
 * Options: title, yLabel, timeline (a marker at its round), events (scheduled news [{round, day,
 * headline, favours}]: a vertical marker at each one's round, its headline in the tooltip),
 * exportName (adds PNG / CSV buttons), legend (default true). Returns {root, update(series)}.
 */
export function chartView({ title = 'Market prices (probability of YES) by round', yLabel = 'P(YES)', timeline = null, events = [], exportName = null, legend = true } = {}) {
  // Scheduled events by round (several may share one).
  const news = new Map();
  for (const ev of Array.isArray(events) ? events : []) {
    const round = Number(ev?.round);
    if (!Number.isFinite(round) || !ev.headline) continue;
    if (!news.has(round)) news.set(round, []);
    news.get(round).push(ev);
  }
  let series = [];
  const hidden = new Set();
  let width = 760;
  let height = 320;
  let active = null; // the round the guide shows, or null
  let x = (v) => v;
  let y = (v) => v;
  let rounds = [];
  let legendSignature = '';

  const svg = s('svg', { class: 'chart', role: 'img', 'aria-label': title, 'font-family': FONT });
  const tip = h('div', { class: 'chart-tip', hidden: true, 'aria-hidden': 'true' });
  const spoken = h('p', { class: 'sr-only', 'aria-live': 'polite' });
  const plot = h(
    'div',
    { class: 'chart-plot', tabindex: 0, role: 'group', 'aria-label': `${title}. Use the left and right arrow keys to read the values round by round.` },
    svg,
    tip,
  );
  const legendList = legend ? h('ul', { class: 'legend chart-legend' }) : null;
  const actions = exportName ? h('div', { class: 'chart-actions' }) : null;
  const root = h('div', { class: 'chart-box' }, plot, spoken, legendList, actions);

  const main = () => series.filter((sr) => !sr.faint);
  const visible = () => main().filter((sr) => !hidden.has(sr.key));

  function draw() {
    height = width < 520 ? Math.max(230, Math.round(width * 0.68)) : Math.min(360, Math.max(260, Math.round(width * 0.4)));
    const shown = series.filter((sr) => !hidden.has(sr.faint ? sr.group : sr.key));
    const xs = series.flatMap((sr) => sr.points.map((p) => p.x));
    const minRound = xs.length ? Math.min(...xs) : 0;
    const maxRound = Math.max(minRound + 1, ...xs);
    rounds = [...new Set(main().flatMap((sr) => sr.points.map((p) => p.x)))].sort((a, b) => a - b);
    x = scale(minRound, maxRound, PAD.left, width - PAD.right);
    y = scale(0, 1, height - PAD.bottom, PAD.top);
    const small = width < 520;
    const grid = [0, 0.25, 0.5, 0.75, 1].map((v) =>
      s(
        'g',
        {},
        s('line', { x1: PAD.left, x2: width - PAD.right, y1: y(v), y2: y(v), class: v === 0.5 ? 'grid mid' : 'grid', stroke: v === 0.5 ? '#dde3ea' : '#eef2f7', 'stroke-width': 1 }),
        s('text', { x: PAD.left - 8, y: y(v) + 4, 'text-anchor': 'end', class: 'tick', fill: '#64748b', 'font-size': 12 }, `${v * 100}%`),
      ),
    );
    const xTicks = roundTicks(minRound, maxRound, width).map((r) =>
      s(
        'g',
        {},
        s('line', { x1: x(r), x2: x(r), y1: height - PAD.bottom, y2: height - PAD.bottom + 5, class: 'axis', stroke: '#94a3b8' }),
        s('text', { x: x(r), y: height - PAD.bottom + 18, 'text-anchor': 'middle', class: 'tick', fill: '#64748b', 'font-size': 12 }, String(r)),
      ),
    );
    const path = (sr) => sr.points.map((p, k) => `${k ? 'L' : 'M'}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ');
    const faint = shown.filter((sr) => sr.faint).map((sr) =>
      s('path', { d: path(sr), fill: 'none', stroke: sr.color, 'stroke-width': 1.25, 'stroke-opacity': 0.3, 'stroke-linejoin': 'round', class: 'series faint' }),
    );
    const lines = shown.filter((sr) => !sr.faint && sr.points.length).map((sr) => {
      const last = sr.points[sr.points.length - 1];
      return s(
        'g',
        { class: ['series', sr.belief ? 'belief' : null], 'data-series': sr.key },
        s('path', {
          d: path(sr),
          fill: 'none',
          stroke: sr.color,
          'stroke-width': sr.belief ? 2.75 : 2.5,
          'stroke-dasharray': sr.belief ? BELIEF_DASH : sr.dashed ? '6 4' : null,
          'stroke-linecap': sr.belief ? 'round' : null,
          'stroke-linejoin': 'round',
        }),
        s('circle', { cx: x(last.x), cy: y(last.y), r: 4.5, fill: sr.color }),
        // The belief line says what it is where it ends.
        sr.belief
          ? s('text', { x: x(last.x) - 6, y: y(last.y) + (last.y > 0.85 ? 16 : -9), 'text-anchor': 'end', fill: sr.color, 'font-size': small ? 11 : 12, 'font-weight': 600, class: 'series-label' }, 'agents’ belief')
          : null,
      );
    });
    const marker = timeline && timeline.round !== null && timeline.round !== undefined && timeline.round >= minRound && timeline.round <= maxRound
      ? s(
          'g',
          { class: 'chart-marker' },
          s('line', { x1: x(timeline.round), x2: x(timeline.round), y1: PAD.top, y2: height - PAD.bottom, stroke: '#0f172a', 'stroke-width': 1.5, 'stroke-dasharray': '3 3' }),
          s('text', { x: x(timeline.round) + (x(timeline.round) > width - 90 ? -5 : 5), y: PAD.top + 10, 'text-anchor': x(timeline.round) > width - 90 ? 'end' : 'start', fill: '#0f172a', 'font-size': 12, 'font-weight': 600 }, `round ${timeline.round}`),
        )
      : null;
    const newsMarks = [...news.entries()].filter(([round]) => round >= minRound && round <= maxRound).map(([round, list]) =>
      s(
        'g',
        { class: 'chart-event', 'data-round': round },
        s('title', {}, list.map((ev) => `News, day ${ev.day ?? '?'} (round ${round}): ${ev.headline} (${favoursText(ev.favours)})`).join('\n')),
        s('line', { x1: x(round), x2: x(round), y1: PAD.top, y2: height - PAD.bottom, stroke: '#7c2d12', 'stroke-width': 1.5, 'stroke-dasharray': '2 3' }),
        // A flag at the top of the line, wide enough to hover.
        s('path', { d: `M${x(round).toFixed(1)},${PAD.top - 2} l7,4 l-7,4 z`, fill: '#7c2d12' }),
        s('rect', { x: x(round) - 6, y: PAD.top - 4, width: 14, height: height - PAD.bottom - PAD.top + 4, fill: 'transparent' }),
      ),
    );
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    svg.setAttribute('width', width);
    svg.setAttribute('height', height);
    replace(
      svg,
      s('title', {}, title),
      grid,
      s('line', { x1: PAD.left, x2: width - PAD.right, y1: height - PAD.bottom, y2: height - PAD.bottom, class: 'axis', stroke: '#94a3b8' }),
      xTicks,
      s('text', { x: (PAD.left + width - PAD.right) / 2, y: height - 4, 'text-anchor': 'middle', class: 'axis-label', fill: '#64748b', 'font-size': 12 }, 'round'),
      s('text', { x: 13, y: (PAD.top + height - PAD.bottom) / 2, transform: `rotate(-90 13 ${(PAD.top + height - PAD.bottom) / 2})`, 'text-anchor': 'middle', class: 'axis-label', fill: '#64748b', 'font-size': 12 }, yLabel),
      s('g', { class: 'replicates' }, faint),
      s('g', { class: 'chart-events' }, newsMarks),
      lines,
      marker,
    );
    if (active !== null) show(active, false);
  }

  function valueAt(sr, round) {
    const p = sr.points.find((pt) => pt.x === round);
    return p ? p.y : null;
  }

  function show(round, speak = true) {
    if (!rounds.length) return;
    active = rounds.includes(round) ? round : rounds.reduce((best, r) => (Math.abs(r - round) < Math.abs(best - round) ? r : best), rounds[0]);
    const gx = x(active);
    const values = visible().map((sr) => ({ sr, v: valueAt(sr, active) })).filter((e) => e.v !== null);
    svg.querySelector('.chart-guide')?.remove();
    svg.append(
      s(
        'g',
        { class: 'chart-guide', 'aria-hidden': 'true' },
        s('line', { x1: gx, x2: gx, y1: PAD.top, y2: height - PAD.bottom, stroke: '#334155', 'stroke-width': 1 }),
        values.map(({ sr, v }) => s('circle', { cx: gx, cy: y(v), r: 5, fill: '#fff', stroke: sr.color, 'stroke-width': 2.5 })),
      ),
    );
    const happened = news.get(active) || [];
    tip.replaceChildren(
      h('div', { class: 'chart-tip-round' }, `Round ${active}`),
      values.length
        ? h('ul', {}, values.map(({ sr, v }) => h('li', {}, swatch(sr), h('span', { class: 'chart-tip-label' }, sr.short || sr.label), h('strong', {}, percent(v)))))
        : h('p', { class: 'muted' }, 'No values at this round.'),
      ...happened.map((ev) => h('p', { class: 'chart-tip-news' }, h('strong', {}, `News (day ${ev.day ?? '?'}): `), ev.headline)),
    );
    tip.hidden = false;
    // Beside the guide, on whichever side has room; the box never leaves the plot.
    const rightHalf = gx > width / 2;
    tip.style.left = rightHalf ? '' : `calc(${((gx / width) * 100).toFixed(2)}% + 10px)`;
    tip.style.right = rightHalf ? `calc(${(((width - gx) / width) * 100).toFixed(2)}% + 10px)` : '';
    if (speak) {
      const told = happened.map((ev) => ` News: ${ev.headline}.`).join('');
      spoken.textContent = `Round ${active}: ${values.map(({ sr, v }) => `${sr.short || sr.label} ${percent(v)}`).join('; ') || 'no values'}.${told}`;
    }
  }

  function hide() {
    active = null;
    tip.hidden = true;
    svg.querySelector('.chart-guide')?.remove();
  }

  function roundFromPointer(ev) {
    const rect = svg.getBoundingClientRect();
    const px = ((ev.clientX - rect.left) / (rect.width || 1)) * width;
    return rounds.reduce((best, r) => (Math.abs(x(r) - px) < Math.abs(x(best) - px) ? r : best), rounds[0]);
  }

  plot.addEventListener('pointermove', (ev) => {
    if (rounds.length) show(roundFromPointer(ev), false);
  });
  plot.addEventListener('pointerleave', () => {
    if (document.activeElement !== plot) hide();
  });
  plot.addEventListener('focus', () => {
    if (!rounds.length) return;
    show(active ?? timeline?.round ?? rounds[rounds.length - 1]);
  });
  plot.addEventListener('blur', hide);
  plot.addEventListener('keydown', (ev) => {
    if (!rounds.length) return;
    const k = rounds.indexOf(active ?? rounds[rounds.length - 1]);
    const next = { ArrowLeft: k - 1, ArrowDown: k - 1, ArrowRight: k + 1, ArrowUp: k + 1, Home: 0, End: rounds.length - 1 }[ev.key];
    if (ev.key === 'Escape') return hide();
    if (next === undefined) return;
    ev.preventDefault();
    show(rounds[Math.max(0, Math.min(rounds.length - 1, next))]);
  });

  function drawLegend() {
    if (!legendList) return;
    legendList.replaceChildren(
      ...main().map((sr) =>
        h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: 'legend-toggle',
              'aria-pressed': hidden.has(sr.key) ? 'false' : 'true',
              'data-series': sr.key,
              title: hidden.has(sr.key) ? 'Show this line' : 'Hide this line',
              onclick: () => {
                if (hidden.has(sr.key)) hidden.delete(sr.key);
                else hidden.add(sr.key);
                drawLegend();
                draw();
              },
            },
            swatch(sr),
            h('span', { class: 'legend-label' }, sr.label),
            typeof sr.final === 'number' ? h('strong', { class: 'legend-value' }, percent(sr.final)) : null,
          ),
        ),
      ),
    );
  }

  if (actions) {
    const png = h('button', { type: 'button', class: 'secondary small', 'data-export': 'png' }, 'Download image (PNG)');
    const csv = h('button', { type: 'button', class: 'secondary small', 'data-export': 'csv' }, 'Download data (CSV)');
    png.addEventListener('click', async () => {
      png.disabled = true;
      try {
        saveBlob(await pngOf(svg, visible(), title), `${exportName}.png`);
      } catch (err) {
        window.alert(err?.message || String(err));
      } finally {
        png.disabled = false;
      }
    });
    csv.addEventListener('click', () => saveBlob(new Blob([seriesCsv(main())], { type: 'text/csv' }), `${exportName}.csv`));
    actions.append(png, csv);
  }

  // Drawn at the width it has on screen, so text stays at its real size on a phone.
  const resize = new ResizeObserver(() => {
    const next = Math.max(280, Math.min(1100, Math.round(plot.clientWidth)));
    if (plot.clientWidth && next !== width) {
      width = next;
      draw();
    }
  });
  resize.observe(plot);
  timeline?.subscribe(() => draw());

  return {
    root,
    update(next) {
      series = next.map((sr, k) => ({ ...sr, key: sr.key ?? `s${k}` }));
      // A live chart updates every round: the legend (and a focused toggle) stays unless it changed.
      const signature = JSON.stringify(main().map((sr) => [sr.key, sr.label, sr.final ?? null]));
      if (signature !== legendSignature) {
        legendSignature = signature;
        drawLegend();
      }
      draw();
    },
  };
}

/** A chart element for `series` (see chartView). */
export function lineChart(series, options = {}) {
  const view = chartView(options);
  view.update(series);
  return view.root;
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
        key: `${m.id}@${run.replicate}`,
        group: String(m.id),
        replicate: Number(run.replicate),
        label: `${m.id}, replicate run ${Number(run.replicate) + 1}`,
        color: PALETTE[k % PALETTE.length],
        faint: true,
        points: prices.map((p, round) => ({ x: round, y: Number(p) })).filter((p) => Number.isFinite(p.y)),
      });
    });
  }
  return out;
}

/** Rounds that market_curves.json covers (0 is the opening). */
export function curveRounds(curves) {
  const markets = Array.isArray(curves?.markets) ? curves.markets : [];
  return [...new Set(markets.flatMap((m) => (m.curve || []).map((p) => Number(p.round))).filter(Number.isFinite))].sort((a, b) => a - b);
}

/**
 * The whole market-curves figure from market_curves.json: each market's price by round in the
 * first (quoted) run, the agents' belief in the goal, and — when the job ran replicates — the other
 * runs' prices as faint lines behind them, with a checkbox to hide them. `timeline` puts a marker
 * at its round; `exportName` names the downloaded files.
 */
export function marketCurvesFigure(curves, { timeline = null, exportName = 'market-curves' } = {}) {
  const markets = Array.isArray(curves?.markets) ? curves.markets : [];
  const many = Array.isArray(curves?.replicate_curves) && curves.replicate_curves.length > 1;
  const series = markets.map((m, k) => ({
    key: String(m.id),
    label: `${m.id}: ${m.question}`,
    short: String(m.id),
    color: PALETTE[k % PALETTE.length],
    points: (m.curve || []).map((p) => ({ x: Number(p.round), y: Number(p.price_yes) })).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)),
    final: m.final_price_yes,
  }));
  const goalCurve = curves?.goal?.curve;
  if (Array.isArray(goalCurve) && goalCurve.length) {
    series.push({
      key: 'belief',
      label: `Agents’ belief in the goal (confidence-weighted${many ? ', first run' : ''})`,
      short: 'agents’ belief',
      color: BELIEF_COLOR,
      belief: true,
      points: goalCurve.map((p) => ({ x: Number(p.round), y: Number(p.probability) })).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)),
      final: curves.goal.belief_probability,
    });
  }
  if (!series.length) return h('p', { class: 'muted' }, 'No market data.');
  const faint = replicateSeries(curves, markets);
  const others = new Set(faint.map((sr) => sr.replicate)).size;
  const title = faint.length
    ? `Market prices (probability of YES) by round: the first run in full, ${others} other replicate runs faint`
    : 'Market prices (probability of YES) by round';
  const events = (Array.isArray(curves?.events) ? curves.events : []).filter((ev) => ev && ev.headline && Number.isFinite(Number(ev.round)));
  const view = chartView({ title, timeline, exportName, events });
  view.update([...faint, ...series]);
  const figure = h('figure', { class: 'figure', id: 'market-chart' }, view.root);
  if (events.length) {
    // The markers' headlines as text too: readable without hovering, and by a screen reader.
    figure.append(
      h('div', { class: 'chart-news', id: 'chart-events' },
        h('p', { class: 'small-heading' }, 'News during the run (the brown dashed markers)'),
        h('ul', {}, events.map((ev) => h('li', { 'data-round': ev.round },
          h('span', { class: 'muted' }, `Round ${ev.round}, day ${ev.day ?? '?'}: `),
          h('strong', {}, ev.headline),
          h('span', { class: 'muted' }, ` (${favoursText(ev.favours)})`))))),
    );
  }
  if (faint.length) {
    figure.append(
      h(
        'label',
        { class: 'inline-check' },
        h('input', { type: 'checkbox', id: 'show-replicates', checked: true, onchange: (e) => figure.classList.toggle('hide-replicates', !e.target.checked) }),
        ` Show the other ${others} replicate runs (same colours, faint)`,
      ),
    );
  }
  figure.append(
    h('figcaption', { class: 'muted small' },
      faint.length ? 'Solid lines: the first replicate run, whose posts and trades the report quotes. Faint lines: the other replicate runs the forecast also pools. ' : '',
      'The dotted orange line is the agents’ own belief in the goal; the light line across the middle marks 50%. Select a legend entry to hide or show its line.'),
  );
  return figure;
}

const clamp01 = (v) => Math.max(0, Math.min(1, Number(v) || 0));

/**
 * Horizontal bars of probabilities: [{label, probability, interval: [low, high] | null, level}].
 * Every bar's filled part is the YES share, in one colour (the colour says nothing about the
 * market); with an interval, a dark band on the bar spans it and the value names it. The bar is
 * decorative (the numbers are text).
 */
export function probabilityBars(rows) {
  return h(
    'div',
    { class: 'prob-bars' },
    rows.map((r) => {
      const interval = Array.isArray(r.interval) ? r.interval.map(clamp01) : null;
      const level = Math.round((r.level ?? 0.8) * 100);
      return h(
        'div',
        { class: ['prob-row', interval ? 'with-interval' : null], 'data-market': r.id ?? null },
        h('div', { class: 'prob-label' }, r.label),
        h('div', { class: 'prob-track', 'aria-hidden': 'true' }, probabilityBar(r.probability, interval)),
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

/** One bar: the YES share filled, the interval (if any) as a band. Decorative. */
export function probabilityBar(probability, interval = null) {
  return s(
    'svg',
    { viewBox: '0 0 100 10', preserveAspectRatio: 'none', class: 'prob-svg', 'aria-hidden': 'true' },
    s('rect', { x: 0, y: 0, width: 100, height: 10, class: 'prob-bg' }),
    s('rect', { x: 0, y: 0, width: clamp01(probability) * 100, height: 10, class: 'prob-yes' }),
    interval ? s('rect', { x: interval[0] * 100, y: 3.5, width: Math.max(0.6, (interval[1] - interval[0]) * 100), height: 3, class: 'prob-interval-band' }) : null,
  );
}
