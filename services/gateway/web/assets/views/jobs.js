// The job list: newest first, paginated, refreshed while something is running.

import { api } from '../api.js';
import { formatDate, h, replace } from '../dom.js';
import { LIVE, badge, confirmAndRun, errorBox, runAction } from './ui.js';

const PER_PAGE = 20;
const REFRESH_MS = 4000;

function actions(job, reload) {
  const buttons = [];
  if (LIVE.has(job.status)) {
    const b = h('button', { type: 'button', class: 'small secondary' }, 'Cancel');
    b.addEventListener('click', () => confirmAndRun(`Cancel job ${job.id}?`, b, async () => { await api('POST', `/api/jobs/${job.id}/cancel`); await reload(); }));
    buttons.push(b);
  }
  if (job.status === 'FAILED') {
    const b = h('button', { type: 'button', class: 'small secondary' }, 'Retry');
    b.addEventListener('click', () => runAction(b, async () => { await api('POST', `/api/jobs/${job.id}/retry`); await reload(); }));
    buttons.push(b);
  }
  const del = h('button', { type: 'button', class: 'small danger' }, 'Delete');
  del.addEventListener('click', () => confirmAndRun(`Delete job ${job.id} and its results?`, del, async () => { await api('DELETE', `/api/jobs/${job.id}`); await reload(); }));
  buttons.push(del);
  return h('div', { class: 'row-actions' }, buttons);
}

export async function jobsView(main, { query, signal }) {
  const page = Math.max(1, Number(query.get('page')) || 1);
  const box = h('div');
  const notice = sessionStorage.getItem('swarmcast.notice');
  sessionStorage.removeItem('swarmcast.notice');
  let timer = null;
  signal.addEventListener('abort', () => clearTimeout(timer));

  const reload = async () => {
    clearTimeout(timer);
    let data;
    try {
      data = await api('GET', `/api/jobs?page=${page}&per_page=${PER_PAGE}`, { signal });
    } catch (err) {
      if (!signal.aborted) replace(box, errorBox(err));
      return;
    }
    if (signal.aborted) return;
    if (!data.jobs.length && page === 1) {
      replace(box, h('div', { class: 'card empty' }, h('p', {}, 'No simulations yet.'), h('a', { href: '/jobs/new', 'data-link': true, class: 'button primary' }, 'Start your first simulation')));
      return;
    }
    const rows = data.jobs.map((job) => {
      const href = job.status === 'DRAFT' ? `/jobs/new?draft=${job.id}` : `/jobs/${job.id}`;
      return h(
        'tr',
        { 'data-job-id': job.id },
        h('td', {}, h('a', { href, 'data-link': true }, `#${job.id}`)),
        h('td', { class: 'goal-cell' }, h('a', { href, 'data-link': true }, job.goal || h('em', { class: 'muted' }, 'untitled draft')), job.key_insight ? h('div', { class: 'muted small' }, job.key_insight) : null),
        h('td', {}, job.tier || '—'),
        h('td', {}, badge(job.status), LIVE.has(job.status) && job.live_status?.stage_name ? h('div', { class: 'muted small' }, `${job.live_status.stage_name}${job.live_status.max_rounds ? ` · round ${job.live_status.round}/${job.live_status.max_rounds}` : ''}`) : null),
        h('td', {}, formatDate(job.created_at)),
        h('td', {}, actions(job, reload)),
      );
    });
    const pages = Math.max(1, Math.ceil(data.total / data.per_page));
    replace(
      box,
      h('div', { class: 'table-wrap card flush' }, h('table', { class: 'jobs' }, h('thead', {}, h('tr', {}, ['Job', 'Goal', 'Tier', 'Status', 'Created', ''].map((t) => h('th', {}, t)))), h('tbody', {}, rows))),
      h(
        'nav',
        { class: 'pager' },
        page > 1 ? h('a', { href: `/jobs?page=${page - 1}`, 'data-link': true }, '← Newer') : h('span'),
        h('span', { class: 'muted' }, `page ${page} of ${pages} · ${data.total} simulations`),
        page < pages ? h('a', { href: `/jobs?page=${page + 1}`, 'data-link': true }, 'Older →') : h('span'),
      ),
    );
    if (data.jobs.some((j) => LIVE.has(j.status))) timer = setTimeout(reload, REFRESH_MS);
  };

  replace(
    main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Your simulations'), h('a', { href: '/jobs/new', 'data-link': true, class: 'button primary' }, 'New simulation')),
    notice ? h('div', { class: 'alert success' }, notice) : null,
    box,
  );
  await reload();
}
