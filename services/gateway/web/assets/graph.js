// The entity graph (result_graph) drawn as SVG with a small force-directed layout.
// Nodes: entities, sized by influence, coloured by stance (red against … blue for the goal).
// Edges: interactions and relations between entities, aggregated per pair, coloured by sentiment.

import { h, s } from './dom.js';

const W = 760;
const H = 520;
const NEGATIVE = new Set(['opposes', 'dislikes', 'competes_with']);
const POSITIVE = new Set(['supports', 'likes', 'reposts', 'aligned_with', 'ally_of', 'follows', 'member_of']);

export function stanceColor(stance) {
  const v = Math.max(-1, Math.min(1, Number(stance) || 0));
  // Interpolate red (#dc2626) → slate (#94a3b8) → blue (#2563eb).
  const [a, b] = v < 0 ? [[220, 38, 38], [148, 163, 184]] : [[148, 163, 184], [37, 99, 235]];
  const t = v < 0 ? v + 1 : v;
  const c = a.map((x, k) => Math.round(x + (b[k] - x) * t));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function edgeClass(types) {
  const neg = types.filter((t) => NEGATIVE.has(t)).length;
  const pos = types.filter((t) => POSITIVE.has(t)).length;
  if (neg > pos) return 'edge negative';
  if (pos > neg) return 'edge positive';
  return 'edge neutral';
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
  for (let it = 0; it < iterations; it += 1) {
    const cooling = 1 - it / iterations;
    for (let i = 0; i < n; i += 1) {
      for (let j = i + 1; j < n; j += 1) {
        const dx = pos[i].x - pos[j].x || 0.01;
        const dy = pos[i].y - pos[j].y || 0.01;
        const d2 = Math.max(dx * dx + dy * dy, 25);
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
      p.vx += (W / 2 - p.x) * 0.004;
      p.vy += ((H / 2 - p.y) * 0.004 * W) / H;
      const speed = Math.sqrt(p.vx * p.vx + p.vy * p.vy);
      const limit = 20 * cooling + 1;
      if (speed > limit) {
        p.vx *= limit / speed;
        p.vy *= limit / speed;
      }
      p.x = Math.max(60, Math.min(W - 60, p.x + p.vx));
      p.y = Math.max(36, Math.min(H - 48, p.y + p.vy));
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

/** The graph figure: SVG + legend + details of the selected entity. */
export function entityGraphFigure(graph) {
  const nodes = Array.isArray(graph?.nodes) ? graph.nodes : [];
  if (!nodes.length) return h('p', { class: 'muted' }, 'No entity graph.');
  const links = aggregateEdges(nodes, graph.edges);
  const pos = layout(nodes, links);
  const maxInfluence = Math.max(0.0001, ...nodes.map((nd) => Number(nd.influence) || 0));
  const details = h('div', { class: 'graph-details muted' }, 'Select an entity to see its details.');
  const edgeEls = links.map((l) => {
    const counts = {};
    for (const t of l.types) counts[t] = (counts[t] || 0) + 1;
    const label = Object.entries(counts).map(([t, c]) => (c > 1 ? `${t} ×${c}` : t)).join(', ');
    return s(
      'line',
      {
        x1: pos[l.source].x, y1: pos[l.source].y, x2: pos[l.target].x, y2: pos[l.target].y,
        class: edgeClass(l.types),
        'stroke-width': Math.min(5, 0.6 + Math.log1p(l.weight) * 0.7),
      },
      s('title', {}, `${nodes[l.source].label || nodes[l.source].id} — ${nodes[l.target].label || nodes[l.target].id}: ${label} (weight ${Math.round(l.weight * 100) / 100})`),
    );
  });
  const select = (nd) => {
    details.className = 'graph-details';
    details.replaceChildren(
      h('h4', {}, nd.label || nd.name || nd.id, ' ', h('span', { class: 'tag' }, nd.kind || 'entity')),
      nd.summary ? h('p', {}, nd.summary) : null,
      h('dl', { class: 'kv' },
        h('dt', {}, 'stance'), h('dd', {}, fmt(nd.stance)),
        h('dt', {}, 'initial stance'), h('dd', {}, fmt(nd.initial_stance)),
        h('dt', {}, 'sentiment'), h('dd', {}, fmt(nd.sentiment)),
        h('dt', {}, 'influence'), h('dd', {}, fmt(nd.influence)),
        h('dt', {}, 'agents'), h('dd', {}, nd.agents ?? '—'),
      ),
    );
  };
  const nodeEls = nodes.map((nd, k) => {
    const r = 8 + 22 * Math.sqrt((Number(nd.influence) || 0) / maxInfluence);
    const label = String(nd.label || nd.name || nd.id);
    return s(
      'g',
      { class: 'node', transform: `translate(${pos[k].x.toFixed(1)},${pos[k].y.toFixed(1)})`, tabindex: 0, role: 'button', 'aria-label': label, onclick: () => select(nd), onkeydown: (ev) => (ev.key === 'Enter' ? select(nd) : null) },
      s('circle', { r: r.toFixed(1), fill: stanceColor(nd.stance) }),
      s('text', { y: r + 13, 'text-anchor': 'middle', class: 'node-label' }, label.length > 26 ? `${label.slice(0, 25)}…` : label),
      s('title', {}, `${label} (${nd.kind || 'entity'}) · stance ${fmt(nd.stance)} · influence ${fmt(nd.influence)}`),
    );
  });
  return h(
    'figure',
    { class: 'figure', id: 'entity-graph' },
    s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'graph', role: 'img', 'aria-label': `Entity graph: ${nodes.length} entities, ${links.length} connections` }, s('g', { class: 'edges' }, edgeEls), s('g', { class: 'nodes' }, nodeEls)),
    h(
      'figcaption',
      { class: 'graph-legend' },
      h('span', {}, h('i', { class: 'dot against' }), 'against the goal'),
      h('span', {}, h('i', { class: 'dot neutral' }), 'undecided'),
      h('span', {}, h('i', { class: 'dot for' }), 'for the goal'),
      h('span', {}, h('i', { class: 'bar positive' }), 'supportive ties'),
      h('span', {}, h('i', { class: 'bar negative' }), 'hostile ties'),
      h('span', { class: 'muted' }, `${nodes.length} entities · ${links.length} connections · size = influence`),
    ),
    details,
  );
}

function fmt(v) {
  return typeof v === 'number' ? (Math.round(v * 100) / 100).toString() : '—';
}
