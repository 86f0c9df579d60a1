// The new-simulation form: seed text or file, goal, tier, forecast days, web enrichment.
// Also edits a saved draft (/jobs/new?draft=ID): save keeps it a draft, start launches it, and
// opens pre-filled from a sample (/jobs/new?sample=ID).
// "Suggest questions" offers yes/no questions read from the seed; a goal the service refuses as
// open-ended shows its reason and the suggested questions at the goal field, a seed too short to
// forecast from shows its message at the seed field. A seed over the limit is refused at the field
// before anything is sent — never cut short (a textarea maxlength would silently drop a paste's end).
// Optional scheduled events (news on a day of the horizon) go with a new simulation as `events`.

import { ApiError, api, appConfig } from '../api.js';
import { clear, h, replace } from '../dom.js';
import { eventEditor } from '../events.js';
import { checkField, clearFieldError, field, friendlyMessage, handleSubmit, notice, problems, radioCards, showFieldError } from './ui.js';

const SEED_MAX = 50000;
const SEED_MIN_WORDS = 30;
const GOAL_MAX = 2000;
// Words as the jobs service counts them: Chinese and Japanese characters one each, otherwise runs of
// letters and digits joined across an inner apostrophe, hyphen or point ("light-rail", "0.5").
const WORD = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[\p{L}\p{N}\p{M}_]+(?:['’.\-][\p{L}\p{N}\p{M}_]+)*/gu;
const FILE_MAX_BYTES = 1024 * 1024;
const TIERS = [
  ['small', 'Small', '10 agents, 15 rounds (fastest)'],
  ['medium', 'Medium', '20 agents, 100 rounds'],
  ['large', 'Large', '35 agents, 200 rounds'],
];

const fmt = (n) => Number(n).toLocaleString('en-US');
const plural = (n, word) => `${fmt(n)} ${word}${n === 1 ? '' : 's'}`;

function payload(values, events = []) {
  const body = {
    seed_text: values.seed_text,
    goal: values.goal.trim(),
    tier: values.tier || 'small',
    forecast_days: Number(values.forecast_days) || 30,
    enrich_web: Boolean(values.enrich_web),
  };
  if (events.length) body.events = events;
  return body;
}

async function loadSample(id) {
  if (!id) return null;
  try {
    return await api('GET', `/api/samples/${encodeURIComponent(id)}`, { auth: false });
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return { missing: true };
    throw err;
  }
}

export async function newJobView(main, { query, navigate }) {
  const draftId = Number(query.get('draft')) || null;
  const [draft, sample, config] = await Promise.all([
    draftId ? api('GET', `/api/jobs/${draftId}`).then((r) => r.job) : null,
    draftId ? null : loadSample(query.get('sample')),
    appConfig().catch(() => null), // without it: the usual limits, and enrichment left to the server
  ]);
  const seedMax = Number(config?.seed_max_chars) || SEED_MAX;
  const seedMinWords = Number(config?.seed_min_words) || SEED_MIN_WORDS;
  const welcome = sessionStorage.getItem('swarmcast.notice');
  sessionStorage.removeItem('swarmcast.notice');
  const filled = draft || (sample && !sample.missing ? sample : null);

  const counter = h('small', { class: 'hint counter', id: 'seed_counter' });
  const seed = h('textarea', { name: 'seed_text', id: 'seed_text', rows: 14, required: true, placeholder: 'Paste a briefing, an article, meeting notes… the people and groups in it become the agents.' });
  seed.value = filled?.seed_text || '';
  const seedField = field('Seed document', seed, counter, { errorId: 'seed_error' });
  const overMessage = (length, source) =>
    `${source} is ${fmt(length)} characters; the limit is ${fmt(seedMax)}. Shorten it by ${plural(length - seedMax, 'character')} to continue.`;
  const count = () => {
    const words = (seed.value.match(WORD) || []).length;
    counter.textContent = `${words.toLocaleString()} words (at least ${seedMinWords}) · ${seed.value.length.toLocaleString()} / ${seedMax.toLocaleString()} characters`;
    counter.classList.toggle('over', seed.value.length > seedMax);
  };
  // Over the limit is said as soon as it happens (a paste), and stays said until it is fixed.
  const checkLength = (source = 'The seed') => {
    if (seed.value.length > seedMax) showFieldError(seed, overMessage(seed.value.length, source));
  };
  seed.addEventListener('input', () => {
    count();
    checkLength();
  });

  const fileInfo = h('small', { class: 'hint', id: 'seed_file_info', role: 'status' });
  const file = h('input', { type: 'file', id: 'seed_file', accept: '.txt,.md,.markdown,text/plain,text/markdown', 'aria-describedby': 'seed_file_info' });
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (!f) return;
    clearFieldError(seed);
    if (f.size > FILE_MAX_BYTES) {
      fileInfo.textContent = '';
      showFieldError(seed, `${f.name} is ${(f.size / (1024 * 1024)).toFixed(1)} MB; a seed is at most ${fmt(seedMax)} characters. Pick a shorter file.`);
      return;
    }
    seed.value = await f.text();
    fileInfo.textContent = `Loaded ${f.name}.`;
    count();
    checkLength(f.name);
  });

  const goal = h('input', { type: 'text', name: 'goal', id: 'goal', required: true, placeholder: 'e.g. Will Measure T pass on 14 March?', 'aria-describedby': 'goal_help' });
  goal.value = filled?.goal || '';
  const goalInfo = h('p', { class: 'hint', id: 'goal_info', role: 'status' });
  const suggestionList = h('ul', { class: 'suggestions', id: 'goal_suggestions', 'aria-label': 'Suggested yes/no questions', hidden: true });
  const suggestButton = h('button', { type: 'button', class: 'secondary small', id: 'suggest-questions' }, 'Suggest questions');

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
            clearFieldError(goal);
            goalInfo.textContent = 'Goal set from a suggestion.';
            showSuggestions(null);
            goal.focus();
          },
        }, question)),
      );
    }
  };
  /** A refused goal: its reason at the field, and the questions offered instead. */
  const refuseGoal = (message, questions) => {
    showFieldError(goal, message);
    goalInfo.textContent = questions.length ? 'Pick one of these yes/no questions:' : 'No questions could be suggested from this seed; ask one yes/no question about an event in it.';
    showSuggestions(questions);
  };

  const days = h('input', { type: 'number', name: 'forecast_days', id: 'forecast_days', min: 1, max: 365, step: 1, inputmode: 'numeric', value: String(filled?.forecast_days || 30) });
  // Scheduled events: a new simulation only (a draft does not keep them).
  const horizon = () => {
    const n = Number(days.value);
    return Number.isInteger(n) && n >= 1 && n <= 365 ? n : 30;
  };
  const events = draft
    ? null
    : eventEditor({
        legend: 'Scheduled events (optional)',
        hint: 'News that reaches every agent’s feed on its day of the forecast horizon, such as a poll, a ruling or an endorsement. Up to 10.',
        minDay: 1,
        maxDay: horizon(),
        addLabel: 'Add a scheduled event',
      });
  if (events) {
    events.root.id = 'scheduled-events';
    days.addEventListener('input', () => events.setMaxDay(horizon()));
  }

  suggestButton.addEventListener('click', async () => {
    if (!seed.value.trim()) {
      showFieldError(seed, 'Paste the seed document first: the questions come from it.');
      seed.focus();
      return;
    }
    if (seed.value.length > seedMax) {
      checkLength();
      seed.focus();
      return;
    }
    suggestButton.disabled = true;
    goalInfo.textContent = 'Reading the seed…';
    try {
      const body = { seed_text: seed.value, goal: goal.value.trim(), forecast_days: Number(days.value) || 30 };
      const reply = await api('POST', '/api/jobs/suggest-questions', { body });
      clearFieldError(goal);
      if (body.goal && reply.goal_ok) goalInfo.textContent = 'Your goal is a yes/no question. Other questions the seed can answer:';
      else if (body.goal) goalInfo.textContent = `Your goal is not a yes/no question (${reply.reason}). Try one of these:`;
      else goalInfo.textContent = reply.suggestions.length ? 'Yes/no questions this seed can answer:' : '';
      if (!reply.suggestions.length) goalInfo.textContent += ' No questions could be suggested from this seed; add more about the events it covers.';
      showSuggestions(reply.suggestions);
    } catch (err) {
      goalInfo.textContent = '';
      if (err instanceof ApiError && err.fields.seed_text) showFieldError(seed, friendlyMessage('seed_text', err.fields.seed_text));
      else showFieldError(goal, friendlyMessage('goal', err.fields?.goal || err.message || String(err)));
    } finally {
      suggestButton.disabled = false;
    }
  });

  // Web enrichment needs a search provider: without one it is off, and the form says why.
  const provider = config ? Boolean(config.search_provider) : null;
  const enrich = h('input', {
    type: 'checkbox',
    name: 'enrich_web',
    id: 'enrich_web',
    checked: provider === false ? false : draft ? Boolean(draft.enrich_web) : true,
    disabled: provider === false,
  });
  const enrichHint = provider === false
    ? 'Not available here: this server has no web search set up, so the seed is used as written.'
    : provider
      ? 'Adds recent web results about the question to the seed.'
      : 'Skipped when no search provider is configured.';

  const form = h(
    'form',
    { class: 'card', id: 'new-job' },
    seedField,
    h('div', { class: 'file-row' }, h('label', { for: 'seed_file', class: 'file-label' }, 'Or load a text or Markdown file'), file, fileInfo),
    field('Prediction goal', goal, h('span', { id: 'goal_help' }, 'One yes/no question about an event, e.g. “Will the council approve the levy by June?”'), { errorId: 'goal_error' }),
    h('div', { class: 'file-row' }, suggestButton, goalInfo),
    suggestionList,
    radioCards('Tier', 'tier', TIERS, TIERS.some(([v]) => v === draft?.tier) ? draft.tier : 'small'),
    h('div', { class: 'grid-2' },
      field('Forecast horizon (days)', days, '1 to 365 days'),
      checkField('Enrich the seed with a web search', enrich, enrichHint),
    ),
    events?.root,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', id: 'launch', value: 'launch' }, 'Start simulation'),
      h('button', { type: 'submit', class: 'secondary', id: 'save-draft', value: 'draft' }, draft ? 'Save draft' : 'Save as draft'),
    ),
  );

  // Checked before sending: what can be told without the server. A draft may be unfinished.
  const validate = (values, submitter) => {
    const launching = submitter?.value !== 'draft';
    const seedText = values.seed_text;
    const goalText = values.goal.trim();
    const daysValue = Number(values.forecast_days);
    return problems({
      seed_text: seedText.length > seedMax
        ? overMessage(seedText.length, 'The seed')
        : launching && !seedText.trim() ? 'Paste the seed document here, or load it from a file.' : null,
      goal: goalText.length > GOAL_MAX
        ? `The question is ${fmt(goalText.length)} characters; the limit is ${fmt(GOAL_MAX)}. Shorten it.`
        : launching && !goalText ? 'Write the yes/no question the simulation should forecast.' : null,
      forecast_days: values.forecast_days === '' || (Number.isInteger(daysValue) && daysValue >= 1 && daysValue <= 365) ? null : 'The forecast horizon is a whole number of days from 1 to 365.',
      ...(events && launching ? events.problems() : {}),
    });
  };

  handleSubmit(form, async (values, submitter) => {
    const body = payload(values, events ? events.values() : []);
    showSuggestions(null);
    goalInfo.textContent = '';
    events?.clear();
    if (submitter?.value === 'draft') {
      if (events?.count) {
        events.showProblem('A draft does not keep scheduled events. Start the simulation to use them, or remove them to save a draft.');
        return;
      }
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
      // An open-ended goal: its reason and the questions offered, at the goal field.
      if (err instanceof ApiError && err.status === 422 && err.suggestions) {
        if (err.fields.seed_text) showFieldError(seed, friendlyMessage('seed_text', err.fields.seed_text));
        refuseGoal(friendlyMessage('goal', err.fields.goal || err.message), err.suggestions);
        (err.fields.seed_text ? seed : goal).focus();
        return;
      }
      // The events' problems at their rows; the rest at their fields, or in the form's box.
      if (events && err instanceof ApiError && err.status === 422 && Object.keys(err.fields).some((k) => k.startsWith('events'))) {
        err.fields = events.showApiProblems(err.fields);
        if (!Object.keys(err.fields).length) return;
      }
      throw err; // shown at its field, or in the form's box
    }
    navigate(`/jobs/${job.id}`);
  }, { validate });

  count();
  checkLength();
  replace(
    main,
    h('h1', {}, draft ? `Edit draft #${draft.id}` : 'New simulation'),
    welcome ? notice(welcome, 'success') : null,
    sample?.missing ? notice('That sample is not available any more; paste your own seed instead.', 'info') : null,
    sample && !sample.missing ? notice(`Filled in from the sample “${sample.title}”. Look it over, then start the simulation.`, 'info') : null,
    form,
  );
}
