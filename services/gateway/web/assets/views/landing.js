// The home page: what swarmcast does, in a few sentences, and the sample seeds to try it on.

import { appConfig, session } from '../api.js';
import { h, replace } from '../dom.js';

/** Where "Run this sample" leads: the pre-filled form, through sign-up for a visitor. */
export function sampleHref(id) {
  const q = `sample=${encodeURIComponent(id)}`;
  return session.signedIn ? `/jobs/new?${q}` : `/signup?${q}`;
}

function sampleCard(sample) {
  const titleId = `sample-${sample.id}-title`;
  return h(
    'article',
    { class: 'card sample', id: `sample-${sample.id}`, 'aria-labelledby': titleId },
    h('h3', { id: titleId }, sample.title),
    h('p', { class: 'sample-question' }, h('span', { class: 'sample-label' }, 'Question: '), sample.goal),
    h('p', { class: 'sample-summary muted' }, sample.summary),
    h('a', { href: sampleHref(sample.id), 'data-link': true, class: 'button primary run-sample', 'data-sample': sample.id }, 'Run this sample', h('span', { class: 'sr-only' }, `: ${sample.title}`)),
  );
}

export async function landingView(main, { signal }) {
  const samplesBox = h('div', { class: 'sample-grid', id: 'samples-list' }, h('p', { class: 'muted' }, 'Loading the samples…'));
  const actions = session.signedIn
    ? [h('a', { href: '/jobs/new', 'data-link': true, class: 'button primary' }, 'New simulation'), h('a', { href: '/jobs', 'data-link': true, class: 'button secondary' }, 'Your simulations')]
    : [h('a', { href: '/signup', 'data-link': true, class: 'button primary', id: 'landing-signup' }, 'Create an account'), h('a', { href: '/login', 'data-link': true, class: 'button secondary' }, 'Log in')];

  replace(
    main,
    h('section', { class: 'hero', 'aria-labelledby': 'landing-title' },
      h('h1', { id: 'landing-title' }, 'Forecast a yes/no question by simulating the people in your document'),
      h('p', { class: 'lead' },
        'Give swarmcast a seed document — a briefing, a news article, meeting notes — and one yes/no question about an event in it. ',
        'The people and groups in the document become simulated agents: over many rounds they post, reply to each other and trade on prediction markets about your question.'),
      h('p', { class: 'lead' },
        'You get a forecast with an interval (for example “63%, 80% interval 55–70%”), a written report, a graph of who stands where, and a replay of the whole conversation.'),
      h('div', { class: 'actions hero-actions' }, actions),
    ),
    h('section', { class: 'how', 'aria-labelledby': 'how-title' },
      h('h2', { id: 'how-title' }, 'How it works'),
      h('ol', { class: 'steps' },
        h('li', {}, h('strong', {}, 'Seed and question. '), 'Paste a document (up to 50,000 characters) and ask a yes/no question it can inform.'),
        h('li', {}, h('strong', {}, 'Simulated debate. '), 'Agents drawn from the document argue, react to each other and put their beliefs into market prices.'),
        h('li', {}, h('strong', {}, 'Forecast and evidence. '), 'Read the probability with its interval, the report, the entity graph, and replay every post and trade.'),
      ),
    ),
    h('section', { class: 'samples', id: 'samples', 'aria-labelledby': 'samples-title' },
      h('h2', { id: 'samples-title' }, 'Try a sample'),
      h('p', { class: 'muted' }, session.signedIn ? 'Each sample opens the new-simulation form filled in; look it over and start it.' : 'Each sample asks you to create an account, then opens the new-simulation form filled in.'),
      samplesBox,
    ),
  );

  let config;
  try {
    config = await appConfig();
  } catch {
    if (!signal.aborted) replace(samplesBox, h('p', { class: 'muted' }, 'The samples could not be loaded just now; reload the page to try again.'));
    return;
  }
  if (signal.aborted) return;
  const samples = Array.isArray(config.samples) ? config.samples : [];
  replace(samplesBox, samples.length ? samples.map(sampleCard) : h('p', { class: 'muted' }, 'No samples are set up on this server.'));
}
