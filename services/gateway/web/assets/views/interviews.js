// A COMPLETED job's "Interviews" section: ask one agent, a camp or a coalition a question and read
// the answers as they stream in (POST /api/jobs/{id}/interviews answers application/x-ndjson: one
// line per answer, then a "done" line with the stored transcript, or an "error" line); below, the
// job's past transcripts (GET /api/jobs/{id}/interviews), newest first. Each agent answers from the
// run's final checkpoint; with the heuristic backend the answer is a template filled from the
// agent's state, and the transcript says so.

import { ApiError, api } from '../api.js';
import { formatDate, h } from '../dom.js';
import { pct } from '../forecast.js';
import { clearFieldError, handleSubmit, sentence, showFieldError } from './ui.js';

export const QUESTION_MAX = 500;
export const HEURISTIC_LABEL = 'Templated from the agent’s state (heuristic backend), not written by a model';
const CAMP_WORDS = { yes: 'YES camp', no: 'NO camp', undecided: 'Undecided middle' };
const fmt = (n) => Number(n).toLocaleString('en-US');

/** The run's agents ([{id, name, summary}]) from profiles.json, else from the chat replay's authors. */
export function interviewAgents(profiles, entries) {
  const out = new Map();
  for (const a of Array.isArray(profiles?.agents) ? profiles.agents : []) {
    const id = Number(a?.agent_id);
    if (Number.isInteger(id) && !out.has(id)) out.set(id, { id, name: String(a.name || `Agent ${id}`), summary: String(a.summary || '') });
  }
  if (!out.size) {
    for (const e of entries || []) {
      const id = Number(e?.author_id);
      if (e?.kind !== 'news' && Number.isInteger(id) && e.author_id !== null && !out.has(id)) out.set(id, { id, name: String(e.author || `Agent ${id}`), summary: '' });
    }
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id);
}

/** What the API refused, in plain words (the server's own sentence when it has one that helps). */
function refusalText(err) {
  const status = err?.status;
  if (status === 429) return 'You have asked this simulation’s agents too many questions in the last hour. Wait a while, then ask again.';
  if (status === 503) return 'No runner is free to answer right now (the agents are restored from the run by a simulation runner). Try again in a minute.';
  if (status === 404) return 'This simulation no longer exists, or is not yours.';
  if (status === 409) return sentence(err.message || 'This simulation cannot be interviewed: it has no saved final state.');
  return sentence(err?.message || String(err));
}

function answerCard(answer, { templated }) {
  const camp = String(answer.camp || '');
  const p = Number(answer.probability);
  return h(
    'li',
    { class: 'interview-answer', 'data-agent': answer.agent_id ?? null },
    h(
      'div',
      { class: 'answer-head' },
      h('strong', { class: 'answer-name' }, answer.agent_name || `Agent ${answer.agent_id ?? '?'}`),
      h('span', { class: 'answer-stance' },
        Number.isFinite(p) ? h('span', { class: 'answer-probability' }, `${pct(p)} for the goal`) : null,
        camp ? h('span', { class: ['tag', 'answer-camp', `camp-${camp.replace(/[^a-z]/g, '')}`] }, CAMP_WORDS[camp] || camp) : null,
        templated ? h('span', { class: 'tag answer-templated', title: HEURISTIC_LABEL }, 'templated') : null,
      ),
    ),
    answer.persona ? h('p', { class: 'answer-persona muted small' }, answer.persona) : null,
    h('blockquote', { class: 'answer-text' }, String(answer.answer ?? '')),
    answer.reason ? h('p', { class: 'answer-reason muted small' }, 'Last stated reason: ', answer.reason) : null,
  );
}

/**
 * One transcript: the question, whom it asked and when, the source of the answers, the answers.
 * `live` transcripts start empty; add(answer) appends a card, finish(interview) fills in what the
 * stored interview says, fail(message) says why it stopped.
 */
function transcriptView({ question, target, createdAt, backend, modelId, leftOut, answers = [], id = null }) {
  let templated = backend === 'heuristic';
  const source = h('p', { class: 'interview-source small' });
  const list = h('ol', { class: 'interview-answers', 'aria-live': 'polite' });
  const status = h('p', { class: 'interview-status muted small', role: 'status' });
  const meta = h('p', { class: 'interview-meta muted small' });
  const root = h(
    'article',
    { class: 'interview', 'data-interview': id ?? '' },
    h('h4', { class: 'interview-question' }, `“${question}”`),
    meta,
    source,
    list,
    status,
  );
  const setMeta = (tgt, when, out) => {
    const parts = [`Asked ${tgt || 'the agents'}`];
    if (when) parts.push(formatDate(when));
    if (out) parts.push(`${fmt(out)} more agent${out === 1 ? '' : 's'} of the group left out by the limit per interview`);
    meta.textContent = parts.join(' · ');
  };
  const setSource = (name, model) => {
    templated = name === 'heuristic';
    source.classList.toggle('heuristic', templated);
    if (templated) source.textContent = HEURISTIC_LABEL;
    else if (name) source.textContent = `Written by ${model ? `the model ${model}` : 'a language model'} (${name} backend), in character, from the agent’s state.`;
    else source.textContent = '';
    source.hidden = !source.textContent;
    // Cards already shown learn how they were written.
    for (const card of list.querySelectorAll('.interview-answer')) {
      const stance = card.querySelector('.answer-stance');
      if (templated && !card.querySelector('.answer-templated')) stance.append(h('span', { class: 'tag answer-templated', title: HEURISTIC_LABEL }, 'templated'));
    }
  };
  setMeta(target, createdAt, leftOut);
  setSource(backend, modelId);
  for (const a of answers) list.append(answerCard(a, { templated }));
  return {
    root,
    add(answer) {
      list.append(answerCard(answer, { templated }));
      const n = list.children.length;
      status.textContent = `${n} answer${n === 1 ? '' : 's'} so far…`;
    },
    finish(interview) {
      root.dataset.interview = String(interview.id ?? '');
      setMeta(interview.target || target, interview.created_at, Number(interview.left_out) || 0);
      setSource(interview.backend, interview.model_id);
      const n = list.children.length;
      status.textContent = n ? `${n} answer${n === 1 ? '' : 's'}.` : 'No agent answered.';
    },
    fail(message) {
      status.textContent = '';
      root.append(h('p', { class: 'alert error interview-error', role: 'alert' }, message));
    },
  };
}

/** Reads an application/x-ndjson body line by line, calling onLine(object) for each. */
async function readLines(res, onLine) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffer += value;
    let cut;
    while ((cut = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, cut).trim();
      buffer = buffer.slice(cut + 1);
      if (line) onLine(JSON.parse(line));
    }
    if (done) break;
  }
  if (buffer.trim()) onLine(JSON.parse(buffer));
}

/**
 * The section. `agents` ([{id, name, summary}]) and `coalitions` (result_structured.coalitions)
 * fill the target picker; `heuristic` says the run used the heuristic backend, so answers are
 * labelled as templated while they stream (the "done" line confirms it).
 */
export function interviewsSection(job, { agents = [], coalitions = [], heuristic = false, signal } = {}) {
  const target = h('select', { id: 'interview-target', name: 'target', 'aria-describedby': 'interview-target-hint' });
  const campOptions = Object.entries(CAMP_WORDS).map(([camp, words]) => h('option', { value: `camp:${camp}` }, `The ${words}`));
  const groups = [h('optgroup', { label: 'Camps (by final belief in the goal)' }, campOptions)];
  const known = (Array.isArray(coalitions) ? coalitions : []).filter((c) => c && c.id !== undefined && c.id !== null);
  if (known.length) {
    groups.push(h('optgroup', { label: 'Coalitions' }, known.map((c) =>
      h('option', { value: `coalition:${c.id}` }, `${c.label || `Coalition ${c.id}`} (${c.size ?? (c.members || []).length} agents${c.camp ? `, ${CAMP_WORDS[c.camp] || c.camp}` : ''})`))));
  }
  if (agents.length) {
    groups.push(h('optgroup', { label: 'One agent' }, agents.map((a) => h('option', { value: `agent:${a.id}` }, a.summary ? `${a.name} — ${a.summary.slice(0, 60)}${a.summary.length > 60 ? '…' : ''}` : a.name))));
  }
  target.append(...groups);
  const targetHint = h('small', { class: 'hint', id: 'interview-target-hint' }, 'A camp or a coalition asks each of its agents in turn (at most 12).');
  const targetProblem = h('p', { class: 'field-problem', id: 'interview-target-error', role: 'alert', hidden: true });
  target.dataset.errorId = targetProblem.id;

  const question = h('textarea', { id: 'interview-question', name: 'question', rows: 3, placeholder: 'e.g. What would change your mind about the levy?', 'aria-describedby': 'interview-question-count' });
  const counter = h('small', { class: 'hint counter', id: 'interview-question-count' });
  const questionProblem = h('p', { class: 'field-problem', id: 'interview-question-error', role: 'alert', hidden: true });
  question.dataset.errorId = questionProblem.id;
  const count = () => {
    const n = question.value.length;
    counter.textContent = `${fmt(n)} / ${QUESTION_MAX} characters`;
    counter.classList.toggle('over', n > QUESTION_MAX);
  };
  const tooLong = (n) => `The question is ${fmt(n)} characters; the limit is ${QUESTION_MAX}. Shorten it by ${fmt(n - QUESTION_MAX)} to ask it.`;
  // Over the limit is said as soon as it happens, and stays said until it is fixed (the form
  // clears a field's problem on change, e.g. when Ask takes the focus: said again at once, so
  // nothing under it moves).
  const sayOver = () => {
    if (question.value.length > QUESTION_MAX) showFieldError(question, tooLong(question.value.length));
  };
  question.addEventListener('input', () => {
    count();
    if (question.value.length > QUESTION_MAX) sayOver();
    else clearFieldError(question);
  });
  question.addEventListener('change', sayOver);
  count();

  const ask = h('button', { type: 'submit', class: 'primary', id: 'interview-ask' }, 'Ask');
  const form = h(
    'form',
    { class: 'interview-form', id: 'interview-form' },
    h('div', { class: 'field' }, h('label', { class: 'field-label', for: 'interview-target' }, 'Whom to ask'), target, targetProblem, targetHint),
    h('div', { class: 'field' }, h('label', { class: 'field-label', for: 'interview-question' }, 'Your question'), question, questionProblem, counter),
    h('div', { class: 'actions' }, ask),
  );
  const transcripts = h('div', { class: 'interview-list', id: 'interview-transcripts' });
  const historyNote = h('p', { class: 'muted small', id: 'interview-history-note' }, 'Loading earlier interviews…');

  const validate = (values) => {
    const text = String(values.question || '').trim();
    if (!text) return { question: 'Write a question for the agents to answer.' };
    if (text.length > QUESTION_MAX) return { question: tooLong(text.length) };
    return {};
  };

  handleSubmit(form, async (values) => {
    const text = values.question.trim();
    const [kind, ...rest] = String(values.target).split(':');
    const value = rest.join(':');
    const body = { question: text };
    if (kind === 'agent') body.agent_ids = [Number(value)];
    else if (kind === 'camp') body.camp = value;
    else body.coalition = value;
    let res;
    try {
      res = await api('POST', `/api/jobs/${job.id}/interviews`, { body, raw: true, signal });
    } catch (err) {
      if (err instanceof ApiError && (err.status === 422 || err.status === 400) && Object.keys(err.fields).length) {
        // The target's problems belong to the picker, the question's to the question.
        const fields = {};
        for (const [name, message] of Object.entries(err.fields)) fields[/^(agent_ids|camp|coalition)/.test(name) ? 'target' : name] = message;
        err.fields = fields;
        throw err;
      }
      if (err instanceof ApiError && (err.status === 422 || err.status === 400)) {
        showFieldError(/question/i.test(err.message) ? question : target, sentence(err.message));
        return;
      }
      // Said in plain words in the form's box (with how long to wait, when the server said).
      const refused = new Error(refusalText(err));
      refused.retryAfter = err?.retryAfter || null;
      throw refused;
    }
    historyNote.hidden = true;
    const live = transcriptView({ question: text, target: target.selectedOptions[0]?.textContent, backend: heuristic ? 'heuristic' : '' });
    transcripts.prepend(live.root);
    live.root.scrollIntoView({ block: 'nearest' });
    let finished = false;
    try {
      await readLines(res, (line) => {
        if (line.type === 'answer' && line.answer) live.add(line.answer);
        else if (line.type === 'done') {
          finished = true;
          live.finish(line.interview || {});
        } else if (line.type === 'error') {
          finished = true;
          live.fail(refusalText({ status: line.status, message: line.message }));
        }
      });
    } catch (err) {
      if (signal?.aborted) return;
      finished = true;
      live.fail('The answers stopped coming: the connection broke. The interview is listed here once it finishes; reload to see it.');
    }
    if (!finished) live.fail('The answers stopped before the interview finished. Try asking again.');
    question.value = '';
    count();
  }, { validate });

  (async () => {
    try {
      const data = await api('GET', `/api/jobs/${job.id}/interviews`, { signal });
      const past = Array.isArray(data?.interviews) ? data.interviews : [];
      // A transcript asked on this page before the list came is not shown twice.
      const shown = new Set([...transcripts.querySelectorAll('.interview')].map((el) => el.dataset.interview));
      for (const iv of past) {
        if (shown.has(String(iv.id))) continue;
        transcripts.append(
          transcriptView({ question: iv.question, target: iv.target, createdAt: iv.created_at, backend: iv.backend, modelId: iv.model_id, leftOut: Number(iv.left_out) || 0, answers: Array.isArray(iv.answers) ? iv.answers : [], id: iv.id }).root,
        );
      }
      historyNote.textContent = past.length ? '' : 'No interviews yet: ask the first question above.';
      historyNote.hidden = !historyNote.textContent || transcripts.children.length > 0;
    } catch (err) {
      if (signal?.aborted) return;
      historyNote.textContent = `Earlier interviews could not be loaded: ${refusalText(err)}`;
    }
  })();

  return h(
    'section',
    { class: 'card', id: 'interviews', 'aria-labelledby': 'interviews-title' },
    h('h2', { id: 'interviews-title' }, 'Interviews'),
    h('p', { class: 'muted' }, 'Ask the simulated agents a question. Each answers in character from where the run left it — its persona, stated belief and reasons, memory, posts and trades — with its probability for the goal.'),
    form,
    h('h3', { class: 'small-heading' }, 'Transcripts'),
    historyNote,
    transcripts,
  );
}
