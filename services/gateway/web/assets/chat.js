// The chat replay (chat_log.json / result_chat_log) with filters by agent, action type and round,
// and a "play" mode that steps through the rounds. Trades read as sentences; every post and trade
// has an element id (chat-post-<id>, chat-trade-<id>) that a 'chat-reveal' event can bring into
// view; an optional shared timeline (timeline.js) keeps the round in step with the other figures.
// Scheduled events ("news" entries: day, headline, text, the side they favour) open their round.

import { h } from './dom.js';
import { favoursText } from './events.js';

const PAGE = 150;
const KIND_LABELS = {
  post: 'post',
  reply: 'reply',
  repost: 'repost',
  market_comment: 'market comment',
  trade: 'trade',
  thought: 'thought',
  news: 'news',
};
// Older engines wrote only the text: "bought 12.50 YES on m1 for 8.20 (YES 0.480 -> 0.520)".
const TRADE_TEXT = /^(bought|sold)\s+([\d.]+)\s+(YES|NO)\s+on\s+(\S+)\s+for\s+([\d.]+)\s*\(YES\s+([\d.]+)\s*->\s*([\d.]+)\)/i;
const TRADE_SHORT = /^(buy|sell)s?\s+([\d.]+)\s+(YES|NO)\s+on\s+(\S+)/i;

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

/** The element id of an entry: chat-trade-<trade_id> for trades, chat-post-<post_id> for posts of any kind; null for thoughts. */
export function chatEntryId(e) {
  const trade = String(e?.kind) === 'trade';
  const id = trade ? e?.trade_id : e?.post_id;
  if (id === null || id === undefined || id === '' || !Number.isInteger(Number(id))) return null;
  return `chat-${trade ? 'trade' : 'post'}-${Number(id)}`;
}

const finite = (v) => (v === null || v === undefined || v === '' ? null : Number.isFinite(Number(v)) ? Number(v) : null);

/** A trade's facts from its fields, or parsed from the text of older logs; null when neither says. */
export function tradeFacts(e) {
  if (e?.side && e?.outcome && finite(e.shares) !== null) {
    return {
      side: String(e.side).toLowerCase() === 'sell' ? 'sell' : 'buy',
      outcome: String(e.outcome).toUpperCase(),
      shares: finite(e.shares),
      cash: finite(e.cash),
      before: finite(e.price_before),
      after: finite(e.price_after),
      market: e.market_id ?? null,
    };
  }
  const text = String(e?.text ?? '').trim();
  const full = TRADE_TEXT.exec(text);
  if (full) {
    return { side: full[1].toLowerCase() === 'sold' ? 'sell' : 'buy', outcome: full[3].toUpperCase(), shares: Number(full[2]), cash: Number(full[5]), before: Number(full[6]), after: Number(full[7]), market: e.market_id ?? full[4] };
  }
  const short = TRADE_SHORT.exec(text);
  if (short) {
    return { side: short[1].toLowerCase() === 'sell' ? 'sell' : 'buy', outcome: short[3].toUpperCase(), shares: Number(short[2]), cash: null, before: null, after: null, market: e.market_id ?? short[4] };
  }
  return null;
}

const shareCount = (v) => String(Math.round(v * 100) / 100);

function questionOf(markets, id) {
  if (!markets || id === null || id === undefined) return '';
  const q = markets instanceof Map ? markets.get(String(id)) ?? markets.get(id) : markets[id];
  return q && String(q) !== String(id) ? String(q) : '';
}

/** Two prices as percentages, with a decimal when whole numbers would look the same. */
function pricePair(a, b) {
  const digits = Math.round(a * 100) === Math.round(b * 100) ? 1 : 0;
  return [`${(a * 100).toFixed(digits)}%`, `${(b * 100).toFixed(digits)}%`];
}

/** "Mayor Dana Okafor bought 12.5 YES shares in m1 (“Will …?”) for 8.20, moving YES from 48% to 52%." */
export function tradeSentence(e, markets) {
  const f = tradeFacts(e);
  if (!f) return String(e?.text ?? '');
  const who = e.author ?? `Agent ${e.author_id ?? '?'}`;
  const question = questionOf(markets, f.market);
  let out = `${who} ${f.side === 'sell' ? 'sold' : 'bought'} ${shareCount(f.shares)} ${f.outcome} ${f.shares === 1 ? 'share' : 'shares'}`;
  if (f.market) out += ` in ${f.market}${question ? ` (“${question}”)` : ''}`;
  if (f.cash !== null) out += ` for ${f.cash.toFixed(2)}`;
  if (f.before !== null && f.after !== null) {
    const [from, to] = pricePair(f.before, f.after);
    out += from === to ? `, leaving YES at ${from}` : `, moving YES from ${from} to ${to}`;
  }
  return `${out}.`;
}

function options(select, values, allLabel, label = (v) => v) {
  select.replaceChildren(h('option', { value: '' }, allLabel), ...values.map((v) => h('option', { value: String(v) }, label(v))));
}

/** A scheduled event as the agents saw it: day, headline, which side it favours, its text. */
function newsView(e) {
  return h(
    'li',
    { class: 'chat-entry kind-news', tabindex: -1 },
    h(
      'div',
      { class: 'chat-meta' },
      h('span', { class: 'round' }, `R${e.round ?? '?'}`),
      h('span', { class: 'tag news-tag' }, 'News'),
      h('span', { class: 'muted news-day' }, `day ${e.day ?? '?'}`),
      h('span', { class: ['tag', 'news-favours', `favours-${String(e.favours || 'neutral').toLowerCase()}`] }, favoursText(e.favours)),
    ),
    h('p', { class: 'news-headline' }, String(e.headline ?? e.text ?? '')),
    e.text && e.headline ? h('div', { class: 'chat-text news-text' }, String(e.text)) : null,
  );
}

function entryView(e, markets) {
  const kind = String(e.kind || 'post');
  if (kind === 'news') return newsView(e);
  const question = questionOf(markets, e.market_id);
  return h(
    'li',
    { class: ['chat-entry', `kind-${kind.replace(/[^a-z_]/g, '')}`], id: chatEntryId(e), tabindex: -1 },
    h(
      'div',
      { class: 'chat-meta' },
      h('span', { class: 'round' }, `R${e.round ?? '?'}`),
      h('strong', { class: 'author' }, e.author ?? `agent ${e.author_id ?? '?'}`),
      h('span', { class: 'tag' }, KIND_LABELS[kind] || kind),
      e.reply_to_author ? h('span', { class: 'muted' }, `↪ ${e.reply_to_author}`) : null,
      e.market_id ? h('span', { class: 'muted', title: question || null }, `market ${e.market_id}`) : null,
    ),
    h('div', { class: 'chat-text' }, kind === 'trade' ? tradeSentence(e, markets) : String(e.text ?? '')),
  );
}

/**
 * The replay widget for `entries`; a running replay stops when `signal` aborts (page left).
 * `timeline` (timeline.js) shares the round with the chart and the graph; `markets` (Map id →
 * question) words the trades; `pageSize` how many entries each "Show more" adds.
 */
export function chatReplay(entries, { signal, timeline, markets, pageSize = PAGE } = {}) {
  const page = Math.max(1, Number(pageSize) || PAGE);
  const agents = [...new Set(entries.map((e) => e.author).filter((a) => a !== undefined && a !== null))].sort((a, b) => String(a).localeCompare(String(b)));
  const kinds = [...new Set(entries.map((e) => String(e.kind || 'post')))].sort();
  const rounds = [...new Set(entries.map((e) => Number(e.round)).filter(Number.isFinite))].sort((a, b) => a - b);
  // The select also offers the timeline's rounds without entries (round 0: before anyone acts).
  const selectable = [...new Set([...rounds, ...(timeline?.rounds || [])])].sort((a, b) => a - b);
  const agentSel = h('select', { 'aria-label': 'filter by agent', name: 'agent' });
  const kindSel = h('select', { 'aria-label': 'filter by action type', name: 'kind' });
  const roundSel = h('select', { 'aria-label': 'filter by round', name: 'round' });
  options(agentSel, agents, 'all agents');
  options(kindSel, kinds, 'all actions', (k) => KIND_LABELS[k] || k);
  options(roundSel, selectable, 'all rounds', (r) => `round ${r}`);
  // Focusable: the list scrolls on its own, and keyboard users must be able to scroll it.
  const list = h('ol', { class: 'chat-list', tabindex: 0, 'aria-label': 'chat entries' });
  const empty = h('p', { class: 'muted chat-none', hidden: true }, 'No entries match these filters.');
  const count = h('span', { class: 'muted chat-count', 'aria-live': 'polite' });
  const note = h('p', { class: 'muted chat-note', hidden: true, role: 'status' });
  const more = h('button', { type: 'button', class: 'secondary chat-more', hidden: true }, 'Show more');
  let shown = page;
  let timer = null;
  let highlightTimer = null;

  const matching = () =>
    entries.filter(
      (e) =>
        // News reached every agent's feed, so it stays when one agent is picked.
        (!agentSel.value || String(e.author) === agentSel.value || e.kind === 'news') &&
        (!kindSel.value || String(e.kind || 'post') === kindSel.value) &&
        (!roundSel.value || String(e.round) === roundSel.value),
    );
  const render = () => {
    const rows = matching();
    list.replaceChildren(...rows.slice(0, shown).map((e) => entryView(e, markets)));
    count.textContent = `${Math.min(shown, rows.length)} of ${rows.length} entries` + (rows.length !== entries.length ? ` (${entries.length} in all)` : '');
    const left = rows.length - shown;
    more.hidden = left <= 0;
    more.textContent = left > 0 ? `Show ${Math.min(page, left)} more (${left} not shown yet)` : 'Show more';
    empty.hidden = !entries.length || rows.length > 0;
  };
  const refilter = () => {
    shown = page;
    note.hidden = true;
    render();
  };
  const stop = () => {
    clearInterval(timer);
    timer = null;
    play.textContent = '▶ Replay rounds';
  };
  const showRound = (round) => {
    roundSel.value = round === null || round === undefined ? '' : String(round);
    refilter();
  };
  const play = h('button', {
    type: 'button',
    class: 'secondary',
    onclick: () => {
      if (timer) return stop();
      let k = roundSel.value ? rounds.findIndex((r) => r > Number(roundSel.value)) : 0;
      if (k < 0) k = 0;
      play.textContent = '■ Stop';
      const step = () => {
        if (k >= rounds.length) return stop();
        const round = rounds[k++];
        showRound(round);
        timeline?.set(round, 'chat');
      };
      step();
      timer = setInterval(step, 1200);
    },
  }, '▶ Replay rounds');
  more.addEventListener('click', () => {
    shown += page;
    render();
  });
  for (const sel of [agentSel, kindSel]) sel.addEventListener('change', refilter);
  roundSel.addEventListener('change', () => {
    stop();
    refilter();
    timeline?.set(roundSel.value === '' ? null : Number(roundSel.value), 'chat');
  });
  const clearFilters = () => {
    agentSel.value = '';
    kindSel.value = '';
    roundSel.value = '';
    timeline?.set(null, 'chat');
  };
  const reset = h('button', { type: 'button', class: 'link', onclick: () => { stop(); clearFilters(); refilter(); } }, 'clear filters');

  /** Brings one post or trade into view: filters cleared if they hide it, paged far enough, focused. */
  const reveal = ({ kind, id } = {}) => {
    const wanted = `chat-${kind === 'trade' ? 'trade' : 'post'}-${Number(id)}`;
    const target = entries.find((e) => chatEntryId(e) === wanted);
    if (!target) {
      note.textContent = `That ${kind === 'trade' ? 'trade' : 'post'} is not in this replay.`;
      note.hidden = false;
      return;
    }
    stop();
    if (!matching().includes(target)) clearFilters();
    const index = matching().indexOf(target);
    shown = Math.max(page, Math.ceil((index + 1) / page) * page);
    note.hidden = true;
    render();
    const el = list.querySelector(`#${wanted}`);
    if (!el) return;
    el.scrollIntoView({ block: 'center' });
    el.focus({ preventScroll: true });
    for (const old of list.querySelectorAll('.highlight')) old.classList.remove('highlight');
    el.classList.add('highlight');
    clearTimeout(highlightTimer);
    highlightTimer = setTimeout(() => el.classList.remove('highlight'), 2500);
  };

  render();
  const root = h(
    'div',
    { class: 'chat', id: 'chat-replay' },
    h('div', { class: 'chat-filters' }, agentSel, kindSel, roundSel, play, reset, count),
    note,
    entries.length ? list : h('p', { class: 'muted' }, 'No chat entries.'),
    empty,
    more,
  );
  root.addEventListener('chat-reveal', (ev) => reveal(ev.detail || {}));
  const unsubscribe = timeline?.subscribe((round, source) => {
    if (source === 'chat') return; // our own echo
    stop(); // someone else picked a round: the replay gives way
    showRound(round);
  });
  if (timeline && timeline.round !== null) showRound(timeline.round);
  signal?.addEventListener('abort', () => {
    stop();
    clearTimeout(highlightTimer);
    unsubscribe?.();
  });
  return root;
}
