// The new-simulation form: seed text or file, goal, tier, forecast days, web enrichment.
// Also edits a saved draft (/jobs/new?draft=ID): save keeps it a draft, start launches it.
// "Suggest questions" offers yes/no questions read from the seed; a goal the service refuses as
// open-ended shows its reason and the suggested questions at the goal field, a seed too short to
// forecast from shows its message at the seed field.

import { ApiError, api } from '../api.js';
import { clear, h, replace } from '../dom.js';
import { field, handleSubmit, notice } from './ui.js';

const SEED_MAX = 50000;
const SEED_MIN_WORDS = 30;
// Words as the jobs service counts them: Chinese and Japanese characters one each, otherwise runs of
// letters and digits joined across an inner apostrophe, hyphen or point ("light-rail", "0.5").
const WORD = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[\p{L}\p{N}\p{M}_]+(?:['’.\-][\p{L}\p{N}\p{M}_]+)*/gu;
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
  const counter = h('small', { class: 'hint counter', id: 'seed_counter' });
  const count = () => {
    const words = (seed.value.match(WORD) || []).length;
    counter.textContent = `${words.toLocaleString()} words (at least ${SEED_MIN_WORDS}) · ${seed.value.length.toLocaleString()} / ${SEED_MAX.toLocaleString()} characters`;
    counter.classList.toggle('over', seed.value.length > SEED_MAX);
  };
  // Field-level problems, announced to screen readers where the field is.
  const seedError = h('div', { class: 'alert error', id: 'seed_error', role: 'alert', hidden: true });
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
    showSeedError(null);
  });

  const goal = h('input', { type: 'text', name: 'goal', id: 'goal', required: true, maxlength: 2000, placeholder: 'e.g. Will Measure T pass on 14 March?', 'aria-describedby': 'goal_help' });
  goal.value = draft?.goal || '';
  const goalError = h('div', { class: 'alert error', id: 'goal_error', role: 'alert', hidden: true });
  const goalInfo = h('p', { class: 'hint', id: 'goal_info', role: 'status' });
  const suggestionList = h('ul', { class: 'suggestions', id: 'goal_suggestions', 'aria-label': 'Suggested yes/no questions', hidden: true });
  const suggestButton = h('button', { type: 'button', class: 'secondary small', id: 'suggest-questions' }, 'Suggest questions');

  const showSeedError = (message) => {
    seedError.textContent = message || '';
    seedError.hidden = !message;
    if (message) seed.setAttribute('aria-invalid', 'true');
    else seed.removeAttribute('aria-invalid');
  };
  const showSuggestions = (questions) => {
    clear(suggestionList);
    suggestionList.hidden = !questions?.length;
    for (const question of questions || []) {
      suggestionList.append(
        h('li', {}, h('button', {
          type: 'button',
          class: 'secondary small suggestion',
          title: 'Use this question as the goal',
          onclick: () => {
            goal.value = question;
            showGoalError(null);
            goalInfo.textContent = 'Goal set from a suggestion.';
            showSuggestions(null);
            goal.focus();
          },
        }, question)),
      );
    }
  };
  function showGoalError(message, questions = null) {
    goalError.textContent = message || '';
    goalError.hidden = !message;
    if (message) goal.setAttribute('aria-invalid', 'true');
    else goal.removeAttribute('aria-invalid');
    if (questions) {
      goalInfo.textContent = questions.length ? 'Pick one of these yes/no questions:' : 'No questions could be suggested from this seed; ask one yes/no question about an event in it.';
      showSuggestions(questions);
    }
  }
  seed.addEventListener('input', () => showSeedError(null));
  goal.addEventListener('input', () => showGoalError(null));

  suggestButton.addEventListener('click', async () => {
    if (!seed.value.trim()) {
      showSeedError('Paste the seed document first: the questions come from it.');
      seed.focus();
      return;
    }
    suggestButton.disabled = true;
    goalInfo.textContent = 'Reading the seed…';
    try {
      const body = { seed_text: seed.value, goal: goal.value.trim(), forecast_days: Number(days.value) || 30 };
      const reply = await api('POST', '/api/jobs/suggest-questions', { body });
      showGoalError(null);
      if (body.goal && reply.goal_ok) goalInfo.textContent = 'Your goal is a yes/no question. Other questions the seed can answer:';
      else if (body.goal) goalInfo.textContent = `Your goal is not a yes/no question (${reply.reason}). Try one of these:`;
      else goalInfo.textContent = reply.suggestions.length ? 'Yes/no questions this seed can answer:' : '';
      if (!reply.suggestions.length) goalInfo.textContent += ' No questions could be suggested from this seed; add more about the events it covers.';
      showSuggestions(reply.suggestions);
    } catch (err) {
      goalInfo.textContent = '';
      if (err instanceof ApiError && err.fields.seed_text) showSeedError(err.fields.seed_text);
      else showGoalError(err.message || String(err));
    } finally {
      suggestButton.disabled = false;
    }
  });
  const tier = h('select', { name: 'tier', id: 'tier' }, TIERS.map(([v, label]) => h('option', { value: v }, label)));
  tier.value = draft?.tier || 'small';
  const days = h('input', { type: 'number', name: 'forecast_days', id: 'forecast_days', min: 1, max: 365, value: String(draft?.forecast_days || 30) });
  const enrich = h('input', { type: 'checkbox', name: 'enrich_web', id: 'enrich_web', checked: draft ? Boolean(draft.enrich_web) : true });

  const form = h(
    'form',
    { class: 'card', id: 'new-job' },
    field('Seed document', seed, counter),
    seedError,
    h('div', { class: 'file-row' }, file, fileInfo),
    field('Prediction goal', goal, h('span', { id: 'goal_help' }, 'One yes/no question about an event, e.g. “Will the council approve the levy by June?”')),
    goalError,
    h('div', { class: 'file-row' }, suggestButton, goalInfo),
    suggestionList,
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

  /** Shows a refusal at the field it is about; false when it concerns no field here. */
  const showAtField = (err) => {
    if (!(err instanceof ApiError) || err.status !== 422) return false;
    let shown = false;
    if (err.fields.seed_text) {
      showSeedError(err.fields.seed_text);
      seed.focus();
      shown = true;
    }
    if (err.suggestions || err.fields.goal) {
      showGoalError(err.fields.goal || err.message, err.suggestions || null);
      if (!shown) goal.focus();
      shown = true;
    }
    return shown && Object.keys(err.fields).every((name) => name === 'seed_text' || name === 'goal');
  };

  handleSubmit(form, async (values, submitter) => {
    const body = payload(values);
    showSeedError(null);
    showGoalError(null);
    showSuggestions(null);
    goalInfo.textContent = '';
    if (submitter?.value === 'draft') {
      if (draftId) await api('PATCH', `/api/jobs/draft/${draftId}`, { body });
      else await api('POST', '/api/jobs/draft', { body });
      sessionStorage.setItem('swarmcast.notice', 'Draft saved.');
      navigate('/jobs');
      return;
    }
    let job;
    try {
      if (draftId) {
        await api('PATCH', `/api/jobs/draft/${draftId}`, { body });
        job = (await api('POST', `/api/jobs/draft/${draftId}/launch`)).job;
      } else {
        job = (await api('POST', '/api/jobs', { body })).job;
      }
    } catch (err) {
      // Shown at its field; anything else goes to the form's error box.
      if (showAtField(err)) return;
      throw err;
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
