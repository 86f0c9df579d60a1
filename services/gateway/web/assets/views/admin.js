// Operator page: tier routing (editable) and captured errors.

import { api } from '../api.js';
import { formatDate, h, replace } from '../dom.js';
import { errorBox, handleSubmit } from './ui.js';

// What each route column is called, for screen readers (the visible header row names them too).
const ROUTE_LABELS = { sim_tier: 'Tier', model_id: 'Model', gpu_type: 'GPU type', max_rounds: 'Maximum rounds', target_agents: 'Agents', vllm_args: 'vLLM arguments' };

function routeForm(route, reload) {
  const input = (name, type = 'text') => h('input', { type, name, value: String(route[name] ?? ''), required: name !== 'vllm_args', 'aria-label': `${ROUTE_LABELS[name]}${route.sim_tier ? ` (${route.sim_tier})` : ' (new route)'}` });
  const form = h(
    'form',
    { class: 'route-row' },
    input('sim_tier'), input('model_id'), input('gpu_type'), input('max_rounds', 'number'), input('target_agents', 'number'), input('vllm_args'),
    h('button', { type: 'submit', class: 'secondary small' }, route.id ? 'Save' : 'Add'),
  );
  handleSubmit(form, async (v) => {
    await api('PUT', '/api/admin/routes', {
      body: { ...v, max_rounds: Number(v.max_rounds), target_agents: Number(v.target_agents), vllm_args: v.vllm_args || null },
    });
    await reload();
  });
  return form;
}

export async function adminView(main) {
  const routesBox = h('section', { class: 'card', id: 'routes' });
  const errorsBox = h('section', { class: 'card', id: 'errors' });
  const source = h('select', { 'aria-label': 'Error source' }, [['', 'All sources'], ['api', 'API'], ['worker', 'Worker'], ['gpu', 'GPU runner']].map(([v, t]) => h('option', { value: v }, t)));

  const loadRoutes = async () => {
    try {
      const { routes } = await api('GET', '/api/admin/routes');
      replace(
        routesBox,
        h('h2', {}, 'Tier routing'),
        h('div', { class: 'route-row head' }, ['Tier', 'Model', 'GPU', 'Max rounds', 'Agents', 'vLLM args', ''].map((t) => h('span', {}, t))),
        routes.map((r) => routeForm(r, loadRoutes)),
        routeForm({ sim_tier: '', model_id: '', gpu_type: '', max_rounds: 10, target_agents: 10 }, loadRoutes),
      );
    } catch (err) {
      replace(routesBox, h('h2', {}, 'Tier routing'), errorBox(err));
    }
  };
  const loadErrors = async () => {
    try {
      const q = source.value ? `&source=${source.value}` : '';
      const data = await api('GET', `/api/admin/errors?page=1&per_page=50${q}`);
      replace(
        errorsBox,
        h('div', { class: 'section-head' }, h('h2', {}, `Captured errors (${data.total})`), source),
        data.events.length
          ? h('ul', { class: 'error-events' }, data.events.map((e) => h('li', {}, h('div', { class: 'chat-meta' }, h('span', { class: 'tag' }, e.source), h('strong', {}, e.level), h('span', { class: 'muted' }, formatDate(e.timestamp)), e.request_path ? h('code', {}, e.request_path) : null, e.job_id ? h('span', {}, `job ${e.job_id}`) : null), h('div', {}, e.message), e.traceback ? h('details', {}, h('summary', {}, 'Traceback'), h('pre', {}, e.traceback)) : null)))
          : h('p', { class: 'muted' }, 'No errors captured.'),
      );
    } catch (err) {
      replace(errorsBox, h('h2', {}, 'Captured errors'), errorBox(err));
    }
  };
  source.addEventListener('change', loadErrors);
  replace(main, h('h1', {}, 'Operations'), routesBox, errorsBox);
  await Promise.all([loadRoutes(), loadErrors()]);
}
