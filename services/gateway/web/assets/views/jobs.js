// The job list: search, status filter and sort (all kept in the URL, so reload and back keep them),
// the headline probability per job, paginated, refreshed while something is running. On a phone
// each row is a card.

import { api } from '../api.js';
import { debounce, formatDate, h, replace } from '../dom.js';
import { digitsFor, insightAfterHeadline, intervalText, isProbability, pct } from '../forecast.js';
import { LIVE, badge, confirmAndRun, errorBox, runAction, statusOf } from './ui.js';

const PER_PAGE = 20;
const REFRESH_MS = 4000;
const SEARCH_DELAY_MS = 300;
const STATUSES = [
  ['', 'All statuses'],
  ['DRAFT', 'Draft'],
  ['PENDING', 'Pending'],
  ['PROVISIONING', 'Provisioning'],
  ['RUNNING', 'Running'],
  ['REPORTING', 'Reporting'],
  ['COMPLETED', 'Completed'],
  ['FAILED', 'Failed or cancelled'],
  ['REFUNDED', 'Refunded'],
];
const SORTS = [
  ['newest', 'Newest first'],
  ['oldest', 'Oldest first'],
  ['probability_high', 'Highest probability'],
  ['probability_low', 'Lowest probability'],
];

/** The filters from the URL, each checked against what the list offers. */
function filtersOf(query) {
  const status = query.get('status') || '';
  const sort = query.get('sort') || 'newest';
  return {
    q: (query.get('q') || '').slice(0, 200),
    status: STATUSES.some(([v]) => v === status) ? status : '',
    sort: SORTS.some(([v]) => v === sort) ? sort : 'newest',
    page: Math.max(1, Math.floor(Number(query.get('page'))) || 1),
  };
}

/** The query string for these filters (defaults left out, so /jobs stays /jobs). */
function searchOf({ q, status, sort, page }) {
  const params = new URLSearchParams();
  if (q) params.set('q', q);
  if (status) params.set('status', status);
  if (sort && sort !== 'newest') params.set('sort', sort);
  if (page > 1) params.set('page', String(page));
  const text = params.toString();
  return text ? `?${text}` : '';
}


/** "63%" with its 80% interval ("55–70%") beneath; "—" when the job has no forecast. As on the
 * job's page, a narrow interval keeps one decimal so its ends stay apart. */
function probabilityCell(job) {
  const p = job.forecast_probability;
  if (!isProbability(p)) return h('span', { class: 'prob-none muted', title: 'no forecast' }, '—');
  const lo = job.forecast_low;
  const hi = job.forecast_high;
  const interval = isProbability(lo) && isProbability(hi) ? [lo, hi] : null;
  const digits = digitsFor(interval);
  return [
    h('span', { class: 'prob-headline' }, pct(p, digits)),
    interval ? h('span', { class: 'prob-range muted small', title: '80% interval' }, intervalText(interval, digits)) : null,
  ];
}

function statusDetail(job) {
  if (job.status === 'PENDING' && Number.isInteger(job.queue_position) && job.queue_position > 0) {
    const wait = Number(job.queue_estimate_seconds);
    const about = Number.isFinite(wait) && wait > 0 ? ` · about ${wait < 90 ? `${Math.max(1, Math.round(wait))} s` : `${Math.round(wait / 60)} min`}` : '';
    return h('div', { class: 'muted small' }, `number ${job.queue_position} in the queue${about}`);
  }
  if (LIVE.has(job.status) && job.live_status?.stage_name) {
    return h('div', { class: 'muted small' }, `${job.live_status.stage_name}${job.live_status.max_rounds ? ` · round ${job.live_status.round}/${job.live_status.max_rounds}` : ''}`);
  }
  return null;
}

function actions(job, reload) {
  const buttons = [];
  const what = job.goal ? `“${job.goal.length > 80 ? `${job.goal.slice(0, 79)}…` : job.goal}”` : `simulation #${job.id}`;
  if (LIVE.has(job.status)) {
    const b = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Cancel simulation #${job.id}` }, 'Cancel');
    b.addEventListener('click', () => confirmAndRun(`Cancel ${what}?`, b, async () => { await api('POST', `/api/jobs/${job.id}/cancel`); await reload(); }));
    buttons.push(b);
  }
  if (job.status === 'FAILED') {
    const b = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Retry simulation #${job.id}` }, 'Retry');
    b.addEventListener('click', () => runAction(b, async () => { await api('POST', `/api/jobs/${job.id}/retry`); await reload(); }));
    buttons.push(b);
  }
  const del = h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete simulation #${job.id}` }, 'Delete');
  del.addEventListener('click', () => confirmAndRun(`Delete ${what} and its results?`, del, async () => { await api('DELETE', `/api/jobs/${job.id}`); await reload(); }));
  buttons.push(del);
  return h('div', { class: 'row-actions' }, buttons);
}

// A cell with the column's name shown beside its value when the rows are cards (phone).
const cell = (label, attrs, ...content) => h('td', attrs, h('span', { class: 'cell-label', 'aria-hidden': 'true' }, label), content);

export async function jobsView(main, { query, signal, updateUrl }) {
  const filters = filtersOf(query);
  const box = h('div', { id: 'job-results', 'aria-live': 'polite', 'aria-busy': 'false' });
  const noticeText = sessionStorage.getItem('swarmcast.notice');
  sessionStorage.removeItem('swarmcast.notice');
  let timer = null;
  let seq = 0; // only the newest answer is shown when several are in flight
  signal.addEventListener('abort', () => clearTimeout(timer));

  const search = h('input', { type: 'search', id: 'job-search', name: 'q', value: filters.q, placeholder: 'Words in the question…', autocomplete: 'off', enterkeyhint: 'search' });
  const status = h('select', { id: 'job-status-filter', name: 'status' }, STATUSES.map(([v, t]) => h('option', { value: v, selected: v === filters.status }, t)));
  const sort = h('select', { id: 'job-sort', name: 'sort' }, SORTS.map(([v, t]) => h('option', { value: v, selected: v === filters.sort }, t)));
  status.value = filters.status;
  sort.value = filters.sort;
  const filtering = () => Boolean(filters.q || filters.status);

  const reload = async () => {
    clearTimeout(timer);
    const mine = ++seq;
    const params = new URLSearchParams({ page: String(filters.page), per_page: String(PER_PAGE), sort: filters.sort });
    if (filters.q) params.set('q', filters.q);
    if (filters.status) params.set('status', filters.status);
    let data;
    box.setAttribute('aria-busy', 'true');
    try {
      data = await api('GET', `/api/jobs?${params}`, { signal });
    } catch (err) {
      if (!signal.aborted && mine === seq) replace(box, errorBox(err));
      return;
    } finally {
      if (mine === seq) box.setAttribute('aria-busy', 'false');
    }
    if (signal.aborted || mine !== seq) return;
    if (!data.jobs.length && filters.page === 1) {
      replace(box, filtering()
        ? h('div', { class: 'card empty', id: 'jobs-empty' }, h('p', {}, 'No simulations match.'), h('a', { href: `/jobs${searchOf({ ...filters, q: '', status: '', page: 1 })}`, 'data-link': true, id: 'clear-filters' }, 'Clear the filters'))
        : h('div', { class: 'card empty', id: 'jobs-empty' }, h('p', {}, 'No simulations yet.'), h('a', { href: '/jobs/new', 'data-link': true, class: 'button primary' }, 'Start your first simulation')));
      return;
    }
    const rows = data.jobs.map((job) => {
      const href = job.status === 'DRAFT' ? `/jobs/new?draft=${job.id}` : `/jobs/${job.id}`;
      const shown = statusOf(job);
      return h(
        'tr',
        { 'data-job-id': job.id, 'data-status': shown },
        cell('Job', { class: 'id-cell' }, h('a', { href, 'data-link': true }, `#${job.id}`)),
        cell('Question', { class: 'goal-cell' }, h('a', { href, 'data-link': true }, job.goal || h('em', { class: 'muted' }, 'untitled draft')), job.key_insight ? h('div', { class: 'muted small' }, insightAfterHeadline(job.key_insight)) : null),
        cell('Forecast', { class: 'prob-cell num' }, probabilityCell(job)),
        cell('Tier', { class: 'tier-cell' }, job.tier || '—'),
        cell('Status', { class: 'status-cell' }, badge(shown), shown === 'CANCELLED' ? null : statusDetail(job)),
        cell('Created', { class: 'created-cell' }, formatDate(job.created_at)),
        h('td', { class: 'actions-cell' }, actions(job, reload)),
      );
    });
    const pages = Math.max(1, Math.ceil(data.total / data.per_page));
    const pageHref = (page) => `/jobs${searchOf({ ...filters, page })}`;
    replace(
      box,
      h('div', { class: 'table-wrap card flush' },
        h('table', { class: 'jobs jobs-table' },
          h('caption', { class: 'sr-only' }, 'Your simulations'),
          h('thead', {}, h('tr', {}, [['Job'], ['Question'], ['Forecast', 'num'], ['Tier'], ['Status'], ['Created'], ['Actions', 'sr-col']].map(([t, c]) => h('th', { scope: 'col', class: c || null }, c === 'sr-col' ? h('span', { class: 'sr-only' }, t) : t)))),
          h('tbody', {}, rows))),
      h(
        'nav',
        { class: 'pager', 'aria-label': 'Pages' },
        filters.page > 1 ? h('a', { href: pageHref(filters.page - 1), 'data-link': true, rel: 'prev' }, filters.sort === 'oldest' ? '← Older' : '← Previous') : h('span'),
        h('span', { class: 'muted', id: 'jobs-count' }, `page ${filters.page} of ${pages} · ${data.total} simulation${data.total === 1 ? '' : 's'}`),
        filters.page < pages ? h('a', { href: pageHref(filters.page + 1), 'data-link': true, rel: 'next' }, 'Next →') : h('span'),
      ),
    );
    if (data.jobs.some((j) => LIVE.has(j.status))) timer = setTimeout(reload, REFRESH_MS);
  };

  // A new filter starts again at page 1; the URL follows (typing replaces it, a choice adds a step).
  const apply = (push) => {
    filters.q = search.value.trim();
    filters.status = status.value;
    filters.sort = sort.value;
    filters.page = 1;
    updateUrl(`/jobs${searchOf(filters)}`, { push });
    reload();
  };
  search.addEventListener('input', debounce(() => {
    if (!signal.aborted && search.value.trim() !== filters.q) apply(false);
  }, SEARCH_DELAY_MS));
  status.addEventListener('change', () => apply(true));
  sort.addEventListener('change', () => apply(true));

  const controls = h(
    'form',
    { class: 'job-filters', role: 'search', 'aria-label': 'Find simulations', onsubmit: (ev) => { ev.preventDefault(); apply(false); } },
    h('div', { class: 'filter search-filter' }, h('label', { for: 'job-search' }, 'Search'), search),
    h('div', { class: 'filter' }, h('label', { for: 'job-status-filter' }, 'Status'), status),
    h('div', { class: 'filter' }, h('label', { for: 'job-sort' }, 'Sort'), sort),
  );

  replace(
    main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Your simulations'), h('a', { href: '/jobs/new', 'data-link': true, class: 'button primary' }, 'New simulation')),
    noticeText ? h('div', { class: 'alert success', role: 'status' }, noticeText) : null,
    controls,
    box,
  );
  await reload();
}
