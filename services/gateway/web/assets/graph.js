// The entity graph (result_graph) drawn as SVG with a small force-directed layout.
// Nodes: entities, sized by influence, coloured by stance (red against … blue for the goal).
// Edges: interactions and relations between entities, aggregated per pair, coloured by sentiment.
//
// The layout is computed once in its own units; the frame then maps it onto the SVG at the
// width the SVG really has, in CSS pixels, so circles and labels keep a readable size on a phone
// and the fit can account for every label's extent. Zoom and pan move positions, never the text
// size, so zooming in makes room for labels that had to be hidden.

import { h, replace, s } from './dom.js';

const W = 760;
const H = 520;
const NEGATIVE = new Set(['opposes', 'dislikes', 'competes_with']);
const POSITIVE = new Set(['supports', 'likes', 'reposts', 'aligned_with', 'ally_of', 'follows', 'member_of']);
const LABEL_PX = 12; // the label font size, as graph-chat.css sets it
const PAD = 6; // the frame's inner margin
const GAP = 3; // between a circle and its label, and between two labels
const DENSE = 40; // from this many connections, edges fade until a node is picked
const MIN_ZOOM = 0.5;
const MAX_ZOOM = 8;
/** Camps by final stance: above +CAMP_THRESHOLD for the goal, below −CAMP_THRESHOLD against, undecided between. */
export const CAMP_THRESHOLD = 0.2;
const CAMPS = {
  for: `for the goal (stance above +${CAMP_THRESHOLD})`,
  undecided: `undecided (stance −${CAMP_THRESHOLD} to +${CAMP_THRESHOLD})`,
  against: `against the goal (stance below −${CAMP_THRESHOLD})`,
};

export function stanceColor(stance) {
  const v = Math.max(-1, Math.min(1, Number(stance) || 0));
  // Interpolate red (#dc2626) → slate (#94a3b8) → blue (#2563eb).
  const [a, b] = v < 0 ? [[220, 38, 38], [148, 163, 184]] : [[148, 163, 184], [37, 99, 235]];
  const t = v < 0 ? v + 1 : v;
  const c = a.map((x, k) => Math.round(x + (b[k] - x) * t));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export function campOf(stance) {
  const v = Number(stance) || 0;
  if (v > CAMP_THRESHOLD) return 'for';
  if (v < -CAMP_THRESHOLD) return 'against';
  return 'undecided';
}

function edgeClass(types) {
  const neg = types.filter((t) => NEGATIVE.has(t)).length;
  const pos = types.filter((t) => POSITIVE.has(t)).length;
  if (neg > pos) return 'negative';
  if (pos > neg) return 'positive';
  return 'neutral';
}

/** Positions for nodes: deterministic start on a circle, then springs + repulsion + gravity. */
export function layout(nodes, links, iterations = 300) {
  const n = nodes.length;
  const pos = nodes.map((_, k) => ({
    x: W / 2 + Math.cos((2 * Math.PI * k) / Math.max(n, 1)) * W * 0.3,
    y: H / 2 + Math.sin((2 * Math.PI * k) / Math.max(n, 1)) * H * 0.3,
    vx: 0,
    vy: 0,
  }));
  const ideal = Math.min(220, Math.sqrt((W * H) / Math.max(n, 1)) * 1.1);
  const reach2 = (2.5 * ideal) ** 2;
  for (let it = 0; it < iterations; it += 1) {
    const cooling = 1 - it / iterations;
    for (let i = 0; i < n; i += 1) {
      for (let j = i + 1; j < n; j += 1) {
        const dx = pos[i].x - pos[j].x || 0.01;
        const dy = pos[i].y - pos[j].y || 0.01;
        const d2 = Math.max(dx * dx + dy * dy, 25);
        // No push beyond a few ideal lengths: an entity without ties stays near the others
        // instead of drifting off and squeezing the rest into a corner of the frame.
        if (d2 > reach2) continue;
        const f = (ideal * ideal) / d2;
        pos[i].vx += dx * f * 0.05;
        pos[i].vy += dy * f * 0.05;
        pos[j].vx -= dx * f * 0.05;
        pos[j].vy -= dy * f * 0.05;
      }
    }
    for (const l of links) {
      const a = pos[l.source];
      const b = pos[l.target];
      const dx = b.x - a.x;
      const dy = b.y - a.y;
      const d = Math.sqrt(dx * dx + dy * dy) || 1;
      const f = ((d - ideal) / d) * 0.02 * Math.min(2, 1 + Math.log1p(l.weight) / 4);
      a.vx += dx * f;
      a.vy += dy * f;
      b.vx -= dx * f;
      b.vy -= dy * f;
    }
    for (const p of pos) {
      // No walls: the frame is fitted to wherever the nodes settle.
      p.vx += (W / 2 - p.x) * 0.004;
      p.vy += ((H / 2 - p.y) * 0.004 * W) / H;
      const speed = Math.sqrt(p.vx * p.vx + p.vy * p.vy);
      const limit = 20 * cooling + 1;
      if (speed > limit) {
        p.vx *= limit / speed;
        p.vy *= limit / speed;
      }
      p.x += p.vx;
      p.y += p.vy;
      p.vx *= 0.6;
      p.vy *= 0.6;
    }
  }
  return pos;
}

/** Edges aggregated per unordered pair of known nodes. */
export function aggregateEdges(nodes, edges) {
  const index = new Map(nodes.map((nd, k) => [String(nd.id), k]));
  const pairs = new Map();
  for (const e of edges || []) {
    const a = index.get(String(e.source));
    const b = index.get(String(e.target));
    if (a === undefined || b === undefined || a === b) continue;
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    const entry = pairs.get(key) || { source: Math.min(a, b), target: Math.max(a, b), weight: 0, types: [] };
    entry.weight += Number(e.weight) || 1;
    entry.types.push(String(e.type || 'related'));
    pairs.set(key, entry);
  }
  return [...pairs.values()];
}

/**
 * Chat entry → index of its author's entity among `nodes`, or undefined. result_graph's nodes
 * carry no agent ids: chat logs from current engines name the author's `entity_id`; for older
 * logs we match the author's name on the entity's label, which finds each entity's own agent (it
 * bears the entity's name) but not the extra agents sampled around it.
 */
export function entityResolver(nodes) {
  const byId = new Map(nodes.map((nd, k) => [String(nd.id), k]));
  const norm = (v) => String(v ?? '').trim().toLowerCase();
  const byName = new Map();
  nodes.forEach((nd, k) => {
    for (const name of [nd.label, nd.name]) if (name && !byName.has(norm(name))) byName.set(norm(name), k);
  });
  return (entry) => {
    if (entry?.entity_id !== undefined && entry?.entity_id !== null && byId.has(String(entry.entity_id))) return byId.get(String(entry.entity_id));
    return byName.get(norm(entry?.author));
  };
}

let measureCtx = null;
/** Width and vertical extents of a label in the labels' font (a canvas measures without layout). */
function measureLabel(text, family) {
  measureCtx ||= document.createElement('canvas').getContext('2d');
  measureCtx.font = `${LABEL_PX}px ${family}`;
  const m = measureCtx.measureText(text);
  return {
    w: m.width,
    asc: Number.isFinite(m.fontBoundingBoxAscent) ? m.fontBoundingBoxAscent : LABEL_PX * 0.95,
    desc: Number.isFinite(m.fontBoundingBoxDescent) ? m.fontBoundingBoxDescent : LABEL_PX * 0.3,
  };
}

/** The label's text, cut with an ellipsis to at most `maxWidth` pixels. */
function fitLabel(label, maxWidth, family) {
  let text = label.length > 32 ? `${label.slice(0, 31)}…` : label;
  let m = measureLabel(text, family);
  while (m.w > maxWidth && text.length > 4) {
    text = `${text.slice(0, -2)}…`;
    m = measureLabel(text, family);
  }
  return { text, ...m };
}

/**
 * The largest scale k and the offset that put every node inside [PAD, size - PAD] along one
 * axis, where node i reaches `lo[i]` before and `hi[i]` after its centre: for each pair with
 * p[j] > p[i], k·(p[j] − p[i]) ≤ size − 2·PAD − lo[i] − hi[j].
 */
function axisFit(p, lo, hi, size) {
  let k = Infinity;
  for (let i = 0; i < p.length; i += 1) {
    for (let j = 0; j < p.length; j += 1) {
      const d = p[j] - p[i];
      if (d > 1e-6) k = Math.min(k, (size - 2 * PAD - lo[i] - hi[j]) / d);
    }
  }
  return k;
}

function axisOffset(p, lo, hi, size, k) {
  const min = Math.max(...p.map((v, i) => PAD + lo[i] - v * k));
  const max = Math.min(...p.map((v, i) => size - PAD - hi[i] - v * k));
  return (min + max) / 2;
}

/**
 * Pushes apart, in frame pixels, nodes whose footprints overlap — the circle with its label below
 * where the frame has room for that, else the circle with a margin — and keeps each one inside the
 * frame (`side`: how far each must stay from the left and right edges). A force layout packs its hubs tight; this uses the free space around them.
 */
function spread(base, width, height, side) {
  const hgt = (b) => b.asc + b.desc;
  const roomy = base.reduce((sum, b) => sum + 2 * Math.max(b.r, b.w / 2) * (2 * b.r + GAP + hgt(b)), 0) < 0.4 * width * height;
  const box = (b) =>
    roomy
      ? { l: Math.max(b.r, b.w / 2 + 1), r: Math.max(b.r, b.w / 2 + 1), t: b.r, b: b.r + GAP + hgt(b) + 1 }
      : { l: b.r + 4, r: b.r + 4, t: b.r + 4, b: b.r + 4 };
  const ext = base.map(box);
  const limit = base.map((b, i) => ({ x0: PAD + side[i], x1: width - PAD - side[i], y0: PAD + b.r, y1: height - PAD - (b.r + GAP + hgt(b) + 1) }));
  for (let it = 0; it < 80; it += 1) {
    let moved = false;
    for (let i = 0; i < base.length; i += 1) {
      for (let j = i + 1; j < base.length; j += 1) {
        const a = base[i];
        const c = base[j];
        const ox = Math.min(a.x + ext[i].r, c.x + ext[j].r) - Math.max(a.x - ext[i].l, c.x - ext[j].l) + GAP;
        const oy = Math.min(a.y + ext[i].b, c.y + ext[j].b) - Math.max(a.y - ext[i].t, c.y - ext[j].t) + GAP;
        if (ox <= 0 || oy <= 0) continue;
        moved = true;
        // Along the axis that needs the smaller move, half each (a bit more, to settle sooner).
        if (ox < oy) {
          const d = (ox / 2 + 0.5) * (a.x <= c.x ? 1 : -1);
          a.x -= d;
          c.x += d;
        } else {
          const d = (oy / 2 + 0.5) * (a.y <= c.y ? 1 : -1);
          a.y -= d;
          c.y += d;
        }
      }
    }
    base.forEach((b, i) => {
      b.x = Math.max(limit[i].x0, Math.min(limit[i].x1, b.x));
      b.y = Math.max(limit[i].y0, Math.min(limit[i].y1, b.y));
    });
    if (!moved) break;
  }
}

const overlaps = (a, b, gap = 0) => a.x < b.x + b.w + gap && b.x < a.x + a.w + gap && a.y < b.y + b.h + gap && b.y < a.y + a.h + gap;

function circleHitsRect(c, r) {
  const nx = Math.max(r.x, Math.min(c.x, r.x + r.w));
  const ny = Math.max(r.y, Math.min(c.y, r.y + r.h));
  return (c.x - nx) ** 2 + (c.y - ny) ** 2 < c.r * c.r;
}

function fmt(v) {
  return typeof v === 'number' ? (Math.round(v * 100) / 100).toString() : '—';
}

const plain = (type) => String(type).replace(/_/g, ' ');

/**
 * The graph figure: controls (search, camp filter, zoom), SVG, legend and the details of the
 * selected entity. `timeline` (timeline.js) highlights the entities whose agents acted in its
 * round; `entries` (the chat log's entries) says who acted when.
 */
export function entityGraphFigure(graph, { timeline, entries } = {}) {
  const nodes = Array.isArray(graph?.nodes) ? graph.nodes : [];
  if (!nodes.length) return h('p', { class: 'muted' }, 'No entity graph.');
  const n = nodes.length;
  const links = aggregateEdges(nodes, graph.edges);
  const raw = layout(nodes, links);
  const maxInfluence = Math.max(0.0001, ...nodes.map((nd) => Number(nd.influence) || 0));
  const names = nodes.map((nd) => String(nd.label || nd.name || nd.id));
  const camps = nodes.map((nd) => campOf(nd.stance));
  const neighbours = nodes.map(() => new Set());
  const incident = nodes.map(() => []);
  links.forEach((l, e) => {
    neighbours[l.source].add(l.target);
    neighbours[l.target].add(l.source);
    incident[l.source].push(e);
    incident[l.target].push(e);
  });
  const resolve = entityResolver(nodes);
  const log = Array.isArray(entries) ? entries : [];
  const entriesPer = nodes.map(() => 0);
  for (const e of log) {
    const k = resolve(e);
    if (k !== undefined) entriesPer[k] += 1;
  }

  // --- state
  let VW = W;
  let VH = H;
  let base = []; // fitted positions and label metrics in frame pixels
  const view = { z: 1, px: 0, py: 0 };
  let selected = null;
  let hovered = null;
  let camp = '';
  let matches = [];
  let acted = null; // Set of node indices, or null when no round is picked

  // --- elements
  const edgeEls = links.map((l) => {
    const counts = {};
    for (const t of l.types) counts[plain(t)] = (counts[plain(t)] || 0) + 1;
    const label = Object.entries(counts).map(([t, c]) => (c > 1 ? `${t} ×${c}` : t)).join(', ');
    return s(
      'line',
      { class: ['edge', edgeClass(l.types)], 'stroke-width': (links.length >= DENSE ? Math.min(3, 0.5 + Math.log1p(l.weight) * 0.4) : Math.min(5, 0.6 + Math.log1p(l.weight) * 0.7)).toFixed(2) },
      s('title', {}, `${names[l.source]} — ${names[l.target]}: ${label} (weight ${Math.round(l.weight * 100) / 100})`),
    );
  });
  const circleEls = [];
  const labelEls = [];
  const nodeEls = nodes.map((nd, k) => {
    const circle = s('circle', { r: 8, fill: stanceColor(nd.stance) });
    circleEls.push(circle);
    labelEls.push(s('text', { class: 'node-label', 'data-entity': String(nd.id), 'aria-hidden': 'true' }, names[k]));
    return s(
      'g',
      {
        class: ['node', `camp-${camps[k]}`],
        tabindex: 0,
        role: 'button',
        'aria-label': `${names[k]}: ${CAMPS[camps[k]]}`,
        'data-entity': String(nd.id),
        onclick: () => {
          if (!suppressClick) select(k);
        },
        onkeydown: (ev) => {
          if (ev.key === 'Enter' || ev.key === ' ') {
            ev.preventDefault();
            select(k);
          } else if (ev.key === 'Escape') {
            select(null);
          }
        },
        onmouseenter: () => hover(k),
        onmouseleave: () => hover(null),
        onfocus: () => hover(k),
        onblur: () => hover(null),
      },
      circle,
      s('title', {}, `${names[k]} (${nd.kind || 'entity'}) · stance ${fmt(nd.stance)} · influence ${fmt(nd.influence)}`),
    );
  });
  const svg = s(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, class: ['graph', links.length >= DENSE ? 'dense' : null], role: 'group', 'aria-label': `Entity graph: ${n} entities, ${links.length} connections` },
    s('g', { class: 'edges' }, edgeEls),
    s('g', { class: 'nodes' }, nodeEls),
    // Labels above every circle: a label beside a crowded hub stays legible on its halo.
    s('g', { class: 'labels' }, labelEls),
  );
  const frame = h('div', { class: 'graph-frame' }, svg);
  const details = h('div', { class: 'graph-details muted', 'aria-live': 'polite' }, 'Select an entity to see its details.');
  const status = h('p', { class: 'graph-status muted', 'aria-live': 'polite' });
  const search = h('input', { type: 'search', name: 'entity-search', placeholder: 'Find an entity', 'aria-label': 'find an entity', autocomplete: 'off' });
  const campSel = h(
    'select',
    { name: 'camp', 'aria-label': 'show one camp' },
    h('option', { value: '' }, 'all camps'),
    h('option', { value: 'for' }, 'for the goal'),
    h('option', { value: 'undecided' }, 'undecided'),
    h('option', { value: 'against' }, 'against the goal'),
  );
  const zoomBtn = (label, text, fn) => h('button', { type: 'button', class: 'secondary small', 'aria-label': label, title: label, onclick: fn }, text);

  // --- geometry
  const fitFrame = () => {
    const rect = frame.getBoundingClientRect();
    if (rect.width > 0) VW = Math.round(rect.width);
    const narrow = VW < 560;
    VH = Math.round(narrow ? Math.min(520, Math.max(360, VW * 1.35)) : Math.min(580, Math.max(380, VW * 0.6)));
    svg.setAttribute('viewBox', `0 0 ${VW} ${VH}`);
    const family = getComputedStyle(document.body).fontFamily || 'sans-serif';
    const [rMin, rMax] = narrow ? [5, 15] : [7, 22];
    // Turn a landscape layout upright for a portrait frame (and back): a force layout has no up.
    const xs = raw.map((p) => p.x);
    const ys = raw.map((p) => p.y);
    const wide = Math.max(...xs) - Math.min(...xs) >= Math.max(...ys) - Math.min(...ys);
    const turn = wide !== VW >= VH;
    base = nodes.map((nd, k) => {
      const r = rMin + (rMax - rMin) * Math.sqrt(Math.max(0, Number(nd.influence) || 0) / maxInfluence);
      const label = fitLabel(names[k], Math.max(60, VW * 0.42), family);
      return { x: turn ? raw[k].y : raw[k].x, y: turn ? raw[k].x : raw[k].y, r, ...label };
    });
    // Fit with every label in its first place (below its circle); in a narrow frame labels are
    // wide against it, so fit the circles across and let a label at the edge turn inwards.
    const side = base.map((b) => (narrow ? b.r + 4 : Math.max(b.r, b.w / 2 + 1)));
    const below = base.map((b) => b.r + GAP + b.asc + b.desc + 1);
    const above = base.map((b) => b.r);
    const kx = axisFit(base.map((b) => b.x), side, side, VW);
    const ky = axisFit(base.map((b) => b.y), above, below, VH);
    let k = Math.min(kx, ky);
    if (!Number.isFinite(k)) k = 1; // a single entity
    k = Math.max(k, 1e-3);
    // Stretch a little along the axis with room to spare, so the frame is filled.
    const sx = Math.min(Number.isFinite(kx) ? kx : k, k * 1.35);
    const sy = Math.min(Number.isFinite(ky) ? ky : k, k * 1.35);
    const tx = axisOffset(base.map((b) => b.x), side, side, VW, sx);
    const ty = axisOffset(base.map((b) => b.y), above, below, VH, sy);
    for (const b of base) {
      b.x = b.x * sx + tx;
      b.y = b.y * sy + ty;
    }
    spread(base, VW, VH, side);
    base.forEach((b, i) => circleEls[i].setAttribute('r', b.r.toFixed(1)));
  };

  const screen = (k) => ({ x: base[k].x * view.z + view.px, y: base[k].y * view.z + view.py, r: base[k].r });

  /** Candidate places of node k's label: below, above, right, left of its circle, then its corners. */
  const labelPlaces = (c, b) => {
    const hgt = b.asc + b.desc;
    const d = c.r * 0.72;
    const corner = (sx, sy) => {
      const x = sx > 0 ? c.x + d + 1 : c.x - d - 1 - b.w;
      const y = sy > 0 ? c.y + d + 1 : c.y - d - 1 - hgt;
      return { anchor: 'start', tx: x, ty: y + b.asc, box: { x, y, w: b.w, h: hgt } };
    };
    return [
      { anchor: 'middle', tx: c.x, ty: c.y + c.r + GAP + b.asc, box: { x: c.x - b.w / 2, y: c.y + c.r + GAP, w: b.w, h: hgt } },
      { anchor: 'middle', tx: c.x, ty: c.y - c.r - GAP - b.desc, box: { x: c.x - b.w / 2, y: c.y - c.r - GAP - hgt, w: b.w, h: hgt } },
      { anchor: 'start', tx: c.x + c.r + GAP, ty: c.y + (b.asc - b.desc) / 2, box: { x: c.x + c.r + GAP, y: c.y - hgt / 2, w: b.w, h: hgt } },
      { anchor: 'end', tx: c.x - c.r - GAP, ty: c.y + (b.asc - b.desc) / 2, box: { x: c.x - c.r - GAP - b.w, y: c.y - hgt / 2, w: b.w, h: hgt } },
      corner(1, 1),
      corner(1, -1),
      corner(-1, 1),
      corner(-1, -1),
    ];
  };

  const inside = (box) => box.x >= 1 && box.y >= 1 && box.x + box.w <= VW - 1 && box.y + box.h <= VH - 1;

  /** Positions every node, edge and label for the current view; a label that fits nowhere free hides. */
  const place = () => {
    const pts = nodes.map((_, k) => screen(k));
    nodeEls.forEach((g, k) => g.setAttribute('transform', `translate(${pts[k].x.toFixed(1)},${pts[k].y.toFixed(1)})`));
    links.forEach((l, e) => {
      edgeEls[e].setAttribute('x1', pts[l.source].x.toFixed(1));
      edgeEls[e].setAttribute('y1', pts[l.source].y.toFixed(1));
      edgeEls[e].setAttribute('x2', pts[l.target].x.toFixed(1));
      edgeEls[e].setAttribute('y2', pts[l.target].y.toFixed(1));
    });
    // Who gets a label first: the selected entity, search matches, then by influence. (Hover does
    // not re-place labels, which would make them jump: a hidden label just shows over the others.)
    const rank = (k) => (k === selected ? 0 : matches.includes(k) ? 1 : 2);
    const order = nodes.map((_, k) => k).sort((a, b) => rank(a) - rank(b) || (Number(nodes[b].influence) || 0) - (Number(nodes[a].influence) || 0) || a - b);
    const taken = [];
    for (const k of order) {
      const c = pts[k];
      const places = labelPlaces(c, base[k]);
      const onScreen = c.x >= 0 && c.x <= VW && c.y >= 0 && c.y <= VH;
      const free = (p) => inside(p.box) && !taken.some((t) => overlaps(t, p.box, GAP));
      const clearOfCircles = (p) => !pts.some((o, j) => j !== k && circleHitsRect(o, p.box));
      const spot = onScreen ? places.find((p) => free(p) && clearOfCircles(p)) || places.find(free) : null;
      const chosen = spot || places[0];
      const text = labelEls[k];
      text.setAttribute('x', chosen.tx.toFixed(1));
      text.setAttribute('y', chosen.ty.toFixed(1));
      text.setAttribute('text-anchor', chosen.anchor);
      text.textContent = base[k].text;
      text.classList.toggle('label-hidden', !spot);
      if (spot) taken.push(spot.box);
    }
    svg.dataset.zoom = view.z.toFixed(3);
    svg.classList.toggle('zoomed', view.z !== 1 || view.px !== 0 || view.py !== 0);
  };

  let frameRequest = 0;
  const schedule = () => {
    if (!frameRequest) frameRequest = requestAnimationFrame(() => {
      frameRequest = 0;
      place();
    });
  };

  // --- highlighting
  const paint = () => {
    const focus = hovered ?? selected;
    svg.classList.toggle('has-focus', focus !== null);
    svg.classList.toggle('searching', search.value.trim() !== '');
    svg.classList.toggle('camp-filter', camp !== '');
    svg.classList.toggle('round-on', acted !== null);
    nodeEls.forEach((g, k) => {
      for (const el of [g, labelEls[k]]) {
        el.classList.toggle('hl', focus !== null && (k === focus || neighbours[focus].has(k)));
        el.classList.toggle('selected', k === selected);
        el.classList.toggle('focus', k === focus);
        el.classList.toggle('match', matches.includes(k));
        el.classList.toggle('camp-out', camp !== '' && camps[k] !== camp);
        el.classList.toggle('acted', acted !== null && acted.has(k));
      }
      g.setAttribute('aria-pressed', k === selected ? 'true' : 'false');
    });
    links.forEach((l, e) => {
      edgeEls[e].classList.toggle('hl', focus !== null && (l.source === focus || l.target === focus));
      edgeEls[e].classList.toggle('camp-out', camp !== '' && (camps[l.source] !== camp || camps[l.target] !== camp));
    });
  };

  const hover = (k) => {
    if (hovered === k) return;
    hovered = k;
    paint();
  };

  const select = (k) => {
    selected = k;
    paint();
    schedule();
    if (k === null) {
      details.className = 'graph-details muted';
      replace(details, 'Select an entity to see its details.');
      return;
    }
    const nd = nodes[k];
    const near = [...neighbours[k]]
      .map((j) => ({ j, w: links[incident[k].find((e) => links[e].source === j || links[e].target === j)].weight }))
      .sort((a, b) => b.w - a.w)
      .slice(0, 6)
      .map(({ j }) => names[j]);
    details.className = 'graph-details';
    replace(
      details,
      h('h4', {}, names[k], ' ', h('span', { class: 'tag' }, nd.kind || 'entity')),
      nd.summary ? h('p', {}, nd.summary) : null,
      h('dl', { class: 'kv' },
        h('dt', {}, 'Camp'), h('dd', {}, CAMPS[camps[k]]),
        h('dt', {}, 'Stance at the end (−1 against, +1 for)'), h('dd', {}, fmt(nd.stance)),
        h('dt', {}, 'Stance at the start'), h('dd', {}, fmt(nd.initial_stance)),
        h('dt', {}, 'Reactions received (−1 hostile, +1 warm)'), h('dd', {}, fmt(nd.sentiment)),
        h('dt', {}, 'Influence (share of all followers and likes)'), h('dd', {}, fmt(nd.influence)),
        h('dt', {}, 'Agents speaking for it'), h('dd', {}, nd.agents ?? '—'),
        log.length ? [h('dt', {}, 'Entries in the chat replay'), h('dd', {}, String(entriesPer[k]))] : null,
        h('dt', {}, 'Most connected to'), h('dd', {}, near.length ? near.join(', ') : 'no one'),
      ),
    );
  };

  const centreOn = (k) => {
    view.px = VW / 2 - base[k].x * view.z;
    view.py = VH / 2 - base[k].y * view.z;
  };

  const runSearch = () => {
    const q = search.value.trim().toLowerCase();
    matches = q ? nodes.map((_, k) => k).filter((k) => names[k].toLowerCase().includes(q)) : [];
    if (matches.length) centreOn(matches[0]);
    status.textContent = !q ? '' : matches.length ? `${matches.length} ${matches.length === 1 ? 'entity matches' : 'entities match'} “${search.value.trim()}”: ${matches.slice(0, 5).map((k) => names[k]).join(', ')}${matches.length > 5 ? ', …' : ''}` : `No entity matches “${search.value.trim()}”.`;
    paint();
    place();
  };
  search.addEventListener('input', runSearch);
  search.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && matches.length) {
      ev.preventDefault();
      select(matches[0]);
    }
  });
  campSel.addEventListener('change', () => {
    camp = campSel.value;
    paint();
  });

  // --- zoom and pan
  const zoomAt = (fx, fy, factor) => {
    const z = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, view.z * factor));
    view.px = fx - ((fx - view.px) * z) / view.z;
    view.py = fy - ((fy - view.py) * z) / view.z;
    view.z = z;
    schedule();
  };
  const resetView = () => {
    view.z = 1;
    view.px = 0;
    view.py = 0;
    place();
  };
  const toFrame = (ev) => {
    const rect = svg.getBoundingClientRect();
    return { x: ((ev.clientX - rect.left) * VW) / (rect.width || VW), y: ((ev.clientY - rect.top) * VH) / (rect.height || VH) };
  };
  svg.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const p = toFrame(ev);
    const lines = ev.deltaMode === 1 ? 16 : ev.deltaMode === 2 ? VH : 1;
    zoomAt(p.x, p.y, Math.exp(-ev.deltaY * lines * 0.0015));
  }, { passive: false });
  const pointers = new Map();
  let drag = null;
  let pinch = null;
  let suppressClick = false;
  svg.addEventListener('pointerdown', (ev) => {
    if (ev.pointerType === 'mouse' && ev.button !== 0) return;
    pointers.set(ev.pointerId, toFrame(ev));
    suppressClick = false;
    if (pointers.size === 1) {
      drag = { id: ev.pointerId, start: toFrame(ev), px: view.px, py: view.py, moved: false };
    } else if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      pinch = { dist: Math.hypot(a.x - b.x, a.y - b.y) || 1, z: view.z };
      drag = null;
      for (const id of pointers.keys()) svg.setPointerCapture?.(id);
    }
  });
  svg.addEventListener('pointermove', (ev) => {
    if (!pointers.has(ev.pointerId)) return;
    const p = toFrame(ev);
    pointers.set(ev.pointerId, p);
    if (pinch && pointers.size >= 2) {
      const [a, b] = [...pointers.values()];
      const dist = Math.hypot(a.x - b.x, a.y - b.y) || 1;
      zoomAt((a.x + b.x) / 2, (a.y + b.y) / 2, (pinch.z * dist) / pinch.dist / view.z);
      suppressClick = true;
    } else if (drag && drag.id === ev.pointerId) {
      const dx = p.x - drag.start.x;
      const dy = p.y - drag.start.y;
      // Capture only once it is a drag, so a plain click still reaches the node under it.
      if (!drag.moved && Math.hypot(dx, dy) > 4) {
        drag.moved = true;
        svg.setPointerCapture?.(ev.pointerId);
        svg.classList.add('panning');
      }
      if (drag.moved) {
        view.px = drag.px + dx;
        view.py = drag.py + dy;
        suppressClick = true;
        schedule();
      }
    }
  });
  const release = (ev) => {
    pointers.delete(ev.pointerId);
    if (pointers.size < 2) pinch = null;
    if (drag && drag.id === ev.pointerId) drag = null;
    if (!pointers.size) svg.classList.remove('panning');
  };
  svg.addEventListener('pointerup', release);
  svg.addEventListener('pointercancel', release);

  // --- the shared round
  const showRound = (round) => {
    if (round === null || round === undefined) {
      acted = null;
      status.textContent = search.value.trim() ? status.textContent : '';
    } else {
      acted = new Set();
      for (const e of log) {
        if (Number(e.round) !== Number(round)) continue;
        const k = resolve(e);
        if (k !== undefined) acted.add(k);
      }
      status.textContent = `Round ${round}: ${acted.size} of ${n} entities acted (ringed).`;
    }
    paint();
  };

  const legend = h(
    'figcaption',
    { class: 'graph-legend' },
    h('span', {}, h('i', { class: 'dot for' }), CAMPS.for),
    h('span', {}, h('i', { class: 'dot neutral' }), CAMPS.undecided),
    h('span', {}, h('i', { class: 'dot against' }), CAMPS.against),
    h('span', {}, h('i', { class: 'bar positive' }), 'supportive ties'),
    h('span', {}, h('i', { class: 'bar negative' }), 'hostile ties'),
    timeline ? h('span', {}, h('i', { class: 'ring' }), 'acted in the chosen round') : null,
    h('span', { class: 'muted' }, `${n} entities · ${links.length} connections · size = influence · drag to move, scroll or pinch to zoom`),
  );

  const figure = h(
    'figure',
    { class: 'figure', id: 'entity-graph' },
    h(
      'div',
      { class: 'graph-controls' },
      search,
      campSel,
      h('span', { class: 'graph-zoom', role: 'group', 'aria-label': 'zoom' },
        zoomBtn('Zoom in', '+', () => zoomAt(VW / 2, VH / 2, 1.4)),
        zoomBtn('Zoom out', '−', () => zoomAt(VW / 2, VH / 2, 1 / 1.4)),
        zoomBtn('Reset the view', 'Reset', resetView),
      ),
    ),
    status,
    frame,
    legend,
    details,
  );

  fitFrame();
  place();
  paint();
  // Refit at the width the frame really gets (it is built detached, and phones rotate).
  if (typeof ResizeObserver === 'function') {
    let lastWidth = 0;
    new ResizeObserver(() => {
      const width = Math.round(frame.getBoundingClientRect().width);
      if (!width || width === lastWidth) return;
      lastWidth = width;
      fitFrame();
      view.z = 1;
      view.px = 0;
      view.py = 0;
      if (matches.length) centreOn(matches[0]);
      place();
    }).observe(frame);
  }
  // The timeline belongs to the same results page as this figure: both go when it is left.
  if (timeline) {
    timeline.subscribe((round) => showRound(round));
    if (timeline.round !== null) showRound(timeline.round);
  }
  return figure;
}
