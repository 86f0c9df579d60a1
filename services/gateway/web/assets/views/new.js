// The new-simulation form: seed text or file, goal, tier, forecast days, web enrichment.
// Also edits a saved draft (/jobs/new?draft=ID): save keeps it a draft, start launches it.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { field, handleSubmit, notice } from './ui.js';

const SEED_MAX = 50000;
const FILE_MAX_BYTES = 1024 * 1024;
const TIERS = [
  ['small', 'Small — 10 agents, 15 rounds (fastest)'],
  ['medium', 'Medium — 20 agents, 100 rounds'],
  ['large', 'Large — 35 agents, 200 rounds'],
];

function payload(values) {
  return {
    seed_text: values.seed_text,
    goal: values.goal.trim(),
    tier: values.tier,
    forecast_days: Number(values.forecast_days) || 30,
    enrich_web: Boolean(values.enrich_web),
  };
}

export async function newJobView(main, { query, navigate }) {
  const draftId = Number(query.get('draft')) || null;
  const draft = draftId ? (await api('GET', `/api/jobs/${draftId}`)).job : null;
  const welcome = sessionStorage.getItem('swarmcast.notice');
  sessionStorage.removeItem('swarmcast.notice');

  const seed = h('textarea', { name: 'seed_text', id: 'seed_text', rows: 14, required: true, maxlength: SEED_MAX, placeholder: 'Paste a briefing, an article, meeting notes… the people and groups in it become the agents.' });
  seed.value = draft?.seed_text || '';
  const counter = h('small', { class: 'hint counter' });
  const count = () => {
    counter.textContent = `${seed.value.length.toLocaleString()} / ${SEED_MAX.toLocaleString()} characters`;
    counter.classList.toggle('over', seed.value.length > SEED_MAX);
  };
  seed.addEventListener('input', count);
  count();

  const fileInfo = h('small', { class: 'hint' }, 'or load a text or Markdown file');
  const file = h('input', { type: 'file', id: 'seed_file', accept: '.txt,.md,.markdown,text/plain,text/markdown' });
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (!f) return;
    if (f.size > FILE_MAX_BYTES) {
      fileInfo.textContent = `${f.name} is too large (over 1 MiB)`;
      return;
    }
    seed.value = await f.text();
    fileInfo.textContent = `loaded ${f.name}`;
    count();
  });

  const goal = h('input', { type: 'text', name: 'goal', id: 'goal', required: true, maxlength: 2000, placeholder: 'e.g. Will Measure T pass on 14 March?' });
  goal.value = draft?.goal || '';
  const tier = h('select', { name: 'tier', id: 'tier' }, TIERS.map(([v, label]) => h('option', { value: v }, label)));
  tier.value = draft?.tier || 'small';
  const days = h('input', { type: 'number', name: 'forecast_days', id: 'forecast_days', min: 1, max: 365, value: String(draft?.forecast_days || 30) });
  const enrich = h('input', { type: 'checkbox', name: 'enrich_web', id: 'enrich_web', checked: draft ? Boolean(draft.enrich_web) : true });

  const form = h(
    'form',
    { class: 'card', id: 'new-job' },
    field('Seed document', seed, counter),
    h('div', { class: 'file-row' }, file, fileInfo),
    field('Prediction goal', goal, 'One yes/no question the simulation should forecast.'),
    h('div', { class: 'grid-3' },
      field('Tier', tier),
      field('Forecast horizon (days)', days),
      h('label', { class: 'field checkbox' }, enrich, h('span', {}, 'Enrich the seed with a web search'), h('small', { class: 'hint' }, 'skipped when no search provider is configured')),
    ),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', id: 'launch', value: 'launch' }, 'Start simulation'),
      h('button', { type: 'submit', class: 'secondary', id: 'save-draft', value: 'draft', formnovalidate: true }, draft ? 'Save draft' : 'Save as draft'),
    ),
  );

  handleSubmit(form, async (values, submitter) => {
    const body = payload(values);
    if (submitter?.value === 'draft') {
      if (draftId) await api('PATCH', `/api/jobs/draft/${draftId}`, { body });
      else await api('POST', '/api/jobs/draft', { body });
      sessionStorage.setItem('swarmcast.notice', 'Draft saved.');
      navigate('/jobs');
      return;
    }
    let job;
    if (draftId) {
      await api('PATCH', `/api/jobs/draft/${draftId}`, { body });
      job = (await api('POST', `/api/jobs/draft/${draftId}/launch`)).job;
    } else {
      job = (await api('POST', '/api/jobs', { body })).job;
    }
    navigate(`/jobs/${job.id}`);
  });

  replace(
    main,
    h('h1', {}, draft ? `Edit draft #${draft.id}` : 'New simulation'),
    welcome ? notice(welcome, 'success') : null,
    form,
  );
}
