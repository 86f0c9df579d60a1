// The chat replay (chat_log.json / result_chat_log) with filters by agent, action type and round,
// and a "play" mode that steps through the rounds.

import { h } from './dom.js';

const PAGE = 150;
const KIND_LABELS = {
  post: 'post',
  reply: 'reply',
  repost: 'repost',
  market_comment: 'market comment',
  trade: 'trade',
  thought: 'thought',
};

/** {entries: [...]}, a bare array, or JSON text of either → entries. */
export function chatEntries(log) {
  let data = log;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      return [];
    }
  }
  const entries = Array.isArray(data) ? data : data?.entries;
  return Array.isArray(entries) ? entries.filter((e) => e && typeof e === 'object') : [];
}

function options(select, values, allLabel, label = (v) => v) {
  select.replaceChildren(h('option', { value: '' }, allLabel), ...values.map((v) => h('option', { value: String(v) }, label(v))));
}

function entryView(e) {
  const kind = String(e.kind || 'post');
  return h(
    'li',
    { class: ['chat-entry', `kind-${kind.replace(/[^a-z_]/g, '')}`] },
    h(
      'div',
      { class: 'chat-meta' },
      h('span', { class: 'round' }, `R${e.round ?? '?'}`),
      h('strong', { class: 'author' }, e.author ?? `agent ${e.author_id ?? '?'}`),
      h('span', { class: 'tag' }, KIND_LABELS[kind] || kind),
      e.reply_to_author ? h('span', { class: 'muted' }, `↪ ${e.reply_to_author}`) : null,
      e.market_id ? h('span', { class: 'muted' }, `market ${e.market_id}`) : null,
    ),
    h('div', { class: 'chat-text' }, String(e.text ?? '')),
  );
}

/** The replay widget for `entries`; a running replay stops when `signal` aborts (page left). */
export function chatReplay(entries, { signal } = {}) {
  const agents = [...new Set(entries.map((e) => e.author).filter((a) => a !== undefined && a !== null))].sort((a, b) => String(a).localeCompare(String(b)));
  const kinds = [...new Set(entries.map((e) => String(e.kind || 'post')))].sort();
  const rounds = [...new Set(entries.map((e) => Number(e.round)).filter(Number.isFinite))].sort((a, b) => a - b);
  const agentSel = h('select', { 'aria-label': 'filter by agent', name: 'agent' });
  const kindSel = h('select', { 'aria-label': 'filter by action type', name: 'kind' });
  const roundSel = h('select', { 'aria-label': 'filter by round', name: 'round' });
  options(agentSel, agents, 'all agents');
  options(kindSel, kinds, 'all actions', (k) => KIND_LABELS[k] || k);
  options(roundSel, rounds, 'all rounds', (r) => `round ${r}`);
  const list = h('ol', { class: 'chat-list' });
  const count = h('span', { class: 'muted chat-count' });
  const more = h('button', { type: 'button', class: 'secondary' }, 'Show more');
  let shown = PAGE;
  let timer = null;

  const matching = () =>
    entries.filter(
      (e) =>
        (!agentSel.value || String(e.author) === agentSel.value) &&
        (!kindSel.value || String(e.kind || 'post') === kindSel.value) &&
        (!roundSel.value || String(e.round) === roundSel.value),
    );
  const render = () => {
    const rows = matching();
    list.replaceChildren(...rows.slice(0, shown).map(entryView));
    count.textContent = `${Math.min(shown, rows.length)} of ${rows.length} entries` + (rows.length !== entries.length ? ` (${entries.length} in all)` : '');
    more.hidden = rows.length <= shown;
  };
  const refilter = () => {
    shown = PAGE;
    render();
  };
  const stop = () => {
    clearInterval(timer);
    timer = null;
    play.textContent = '▶ Replay rounds';
  };
  const play = h('button', {
    type: 'button',
    class: 'secondary',
    onclick: () => {
      if (timer) return stop();
      let k = roundSel.value ? rounds.indexOf(Number(roundSel.value)) + 1 : 0;
      play.textContent = '■ Stop';
      const step = () => {
        if (k >= rounds.length) return stop();
        roundSel.value = String(rounds[k++]);
        refilter();
      };
      step();
      timer = setInterval(step, 1200);
    },
  }, '▶ Replay rounds');
  more.addEventListener('click', () => {
    shown += PAGE;
    render();
  });
  for (const sel of [agentSel, kindSel]) sel.addEventListener('change', refilter);
  roundSel.addEventListener('change', () => {
    stop();
    refilter();
  });
  const reset = h('button', { type: 'button', class: 'link', onclick: () => { stop(); agentSel.value = ''; kindSel.value = ''; roundSel.value = ''; refilter(); } }, 'clear filters');
  render();
  const root = h(
    'div',
    { class: 'chat', id: 'chat-replay' },
    h('div', { class: 'chat-filters' }, agentSel, kindSel, roundSel, play, reset, count),
    entries.length ? list : h('p', { class: 'muted' }, 'No chat entries.'),
    more,
  );
  signal?.addEventListener('abort', stop);
  return root;
}
