// A small, safe Markdown renderer: Markdown → DOM nodes (never an HTML string).
// Supports headings, paragraphs, emphasis, inline code, fenced code, links (http, https, mailto
// and same-site only), block quotes, ordered/unordered lists with nesting, tables and rules.
// Raw HTML in the source is shown as text: there is no way to inject markup through a report.
// Report citations ("[post #12]", "[posts #3, #4]", "[post #3; trade #9]") become links to that
// entry of the chat replay on the same page.

import { h, safeUrl } from './dom.js';

const INLINE = [
  // [regex, builder(match) → node]; the first that matches earliest wins.
  [/`([^`]+)`/, (m) => h('code', {}, m[1])],
  [/\*\*(.+?)\*\*|__(.+?)__/, (m) => h('strong', {}, inline(m[1] ?? m[2]))],
  [/(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)|(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)/, (m) => h('em', {}, inline(m[1] ?? m[2]))],
  [/\[([^\]]+)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/, link],
  [/<(https?:\/\/[^\s>]+)>/, (m) => link([m[0], m[1], m[1]])],
  // After the link rule: "[post #3](url)" at the same place stays a link.
  [/\[([^\[\]]*?\b(?:posts?|trades?)\b[^\[\]]*?#\d+[^\[\]]*)\](?!\()/i, citationGroup],
];

// As services/reporter/citations.py reads them: each "#<id>" cites the kind named last before it.
const CITED = /(?:\b(posts?|trades?)\b\s*)?#(\d+)\b/gi;

/** The chat replay (#chat-replay) shows, highlights and focuses an entry it is told about. */
export function revealChatEntry(kind, id) {
  const replay = document.getElementById('chat-replay');
  if (!replay) return false;
  replay.dispatchEvent(new CustomEvent('chat-reveal', { detail: { kind, id } }));
  const entry = document.getElementById(`chat-${kind}-${id}`);
  (entry || replay).scrollIntoView({ block: 'center' });
  return Boolean(entry);
}

function citationGroup(m) {
  const body = m[1];
  const out = ['['];
  let kind = null;
  let at = 0;
  for (const c of body.matchAll(CITED)) {
    if (c[1]) kind = c[1].toLowerCase().startsWith('post') ? 'post' : 'trade';
    if (c.index > at) out.push(body.slice(at, c.index));
    if (!kind) {
      out.push(c[0]);
    } else {
      const id = Number(c[2]);
      const target = kind;
      out.push(
        h(
          'a',
          {
            href: `#chat-${target}-${id}`,
            class: 'citation',
            'data-kind': target,
            'data-id': String(id),
            title: `Show ${target} #${id} in the chat replay`,
            onclick: (ev) => {
              if (ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.button !== 0) return;
              ev.preventDefault();
              revealChatEntry(target, id);
            },
          },
          c[0],
        ),
      );
    }
    at = c.index + c[0].length;
  }
  if (at < body.length) out.push(body.slice(at));
  out.push(']');
  return h('span', { class: 'citations' }, out);
}

function link(m) {
  const href = safeUrl(m[2]);
  if (!href) return document.createTextNode(m[1]);
  const external = /^(https?:|mailto:)/.test(href);
  return h('a', { href, ...(external ? { target: '_blank', rel: 'noopener noreferrer' } : {}) }, inline(m[1]));
}

/** Inline markup of one piece of text → array of nodes. */
export function inline(text) {
  const out = [];
  let rest = text;
  while (rest) {
    let best = null;
    for (const [re, build] of INLINE) {
      const m = re.exec(rest);
      if (m && (best === null || m.index < best.m.index)) best = { m, build };
    }
    if (!best) {
      out.push(rest);
      break;
    }
    if (best.m.index > 0) out.push(rest.slice(0, best.m.index));
    out.push(best.build(best.m));
    rest = rest.slice(best.m.index + best.m[0].length);
  }
  return out;
}

// A table wider than its box scrolls inside it; keyboard users reach it (a focusable region) only then.
const sideways = typeof ResizeObserver === 'function'
  ? new ResizeObserver((changes) => {
      for (const { target } of changes) {
        if (target.scrollWidth > target.clientWidth + 1) {
          target.tabIndex = 0;
          target.setAttribute('role', 'region');
          target.setAttribute('aria-label', 'Table (scrolls sideways)');
        } else {
          target.removeAttribute('tabindex');
          target.removeAttribute('role');
          target.removeAttribute('aria-label');
        }
      }
    })
  : null;

const isRule = (line) => /^ {0,3}([-*_])( *\1){2,} *$/.test(line);
const heading = (line) => /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
const listItem = (line) => /^( *)([-*+]|\d{1,9}[.)])\s+(.*)$/.exec(line);
const isTableSep = (line) => /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/.test(line);
const cells = (line) =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());

function parseList(lines, start) {
  // Returns [element, nextIndex]. Items at the first item's indent; deeper lines nest.
  const first = listItem(lines[start]);
  const indent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const list = h(ordered ? 'ol' : 'ul');
  let i = start;
  let item = null;
  while (i < lines.length) {
    const line = lines[i];
    const m = listItem(line);
    if (m && m[1].length === indent && /\d/.test(m[2]) === ordered) {
      item = h('li', {}, inline(m[3]));
      list.append(item);
      i += 1;
    } else if (m && m[1].length > indent && item) {
      const [nested, next] = parseList(lines, i);
      item.append(nested);
      i = next;
    } else if (line.trim() && /^\s+/.test(line) && item && !m) {
      item.append(' ', ...inline(line.trim()));
      i += 1;
    } else {
      break;
    }
  }
  return [list, i];
}

/** Markdown text → a DocumentFragment. */
export function renderMarkdown(source) {
  const frag = document.createDocumentFragment();
  const lines = String(source || '').replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i += 1;
      continue;
    }
    const fence = /^ {0,3}(```|~~~)\s*([\w-]*)/.exec(line);
    if (fence) {
      const body = [];
      i += 1;
      while (i < lines.length && !lines[i].trimStart().startsWith(fence[1])) body.push(lines[i++]);
      i += 1;
      frag.append(h('pre', {}, h('code', fence[2] ? { class: `lang-${fence[2]}` } : {}, body.join('\n'))));
      continue;
    }
    const hd = heading(line);
    if (hd) {
      frag.append(h(`h${hd[1].length}`, {}, inline(hd[2])));
      i += 1;
      continue;
    }
    if (isRule(line)) {
      frag.append(h('hr'));
      i += 1;
      continue;
    }
    if (/^ {0,3}>/.test(line)) {
      const quoted = [];
      while (i < lines.length && /^ {0,3}>/.test(lines[i])) quoted.push(lines[i++].replace(/^ {0,3}> ?/, ''));
      frag.append(h('blockquote', {}, renderMarkdown(quoted.join('\n'))));
      continue;
    }
    if (line.includes('|') && i + 1 < lines.length && isTableSep(lines[i + 1])) {
      const head = cells(line);
      const align = cells(lines[i + 1]).map((c) => (c.endsWith(':') ? (c.startsWith(':') ? 'center' : 'right') : null));
      i += 2;
      const rows = [];
      while (i < lines.length && lines[i].includes('|') && lines[i].trim()) rows.push(cells(lines[i++]));
      const cellAttrs = (k) => (align[k] ? { class: `align-${align[k]}` } : {});
      const wrap = h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          {},
          h('thead', {}, h('tr', {}, head.map((c, k) => h('th', cellAttrs(k), inline(c))))),
          h('tbody', {}, rows.map((r) => h('tr', {}, head.map((_, k) => h('td', cellAttrs(k), inline(r[k] ?? '')))))),
        ),
      );
      sideways?.observe(wrap);
      frag.append(wrap);
      continue;
    }
    if (listItem(line)) {
      const [list, next] = parseList(lines, i);
      frag.append(list);
      i = next;
      continue;
    }
    const para = [];
    while (
      i < lines.length &&
      lines[i].trim() &&
      !heading(lines[i]) &&
      !isRule(lines[i]) &&
      !listItem(lines[i]) &&
      !/^ {0,3}(>|```|~~~)/.test(lines[i])
    ) {
      para.push(lines[i++].trim());
    }
    const p = h('p');
    para.forEach((text, k) => {
      if (k) p.append(' ');
      p.append(...inline(text));
    });
    frag.append(p);
  }
  return frag;
}
