// The forecast of a finished job, from what it carries: result_structured (the reporter's verdict
// and per-market probabilities, schema_version 1), else market_curves.json, with markets_config
// for the questions.

export function parseJson(value) {
  if (value && typeof value === 'object') return value;
  if (typeof value !== 'string' || !value) return null;
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}

const isProbability = (p) => typeof p === 'number' && Number.isFinite(p) && p >= 0 && p <= 1;

function questionsOf(st, curves, marketsConfig) {
  const questions = new Map();
  for (const m of Array.isArray(marketsConfig) ? marketsConfig : []) questions.set(String(m.id), m.question);
  for (const m of curves?.markets || []) questions.set(String(m.id), m.question);
  for (const m of Array.isArray(st.markets) ? st.markets : []) questions.set(String(m.id), m.question);
  return questions;
}

function marketRows(st, curves) {
  // 1. The reporter: {"probabilities": {"markets": {"m1": 0.46, ...}}, "markets": [{id, final_price}]}
  const byId = st.probabilities?.markets;
  if (byId && typeof byId === 'object' && !Array.isArray(byId)) {
    return Object.entries(byId).map(([id, p]) => ({ id, probability: p }));
  }
  if (Array.isArray(st.markets) && st.markets.length) {
    return st.markets.map((m) => ({ id: m.id, probability: m.final_price ?? m.probability }));
  }
  // 2. The run's own curves.
  if (Array.isArray(curves?.markets)) return curves.markets.map((m) => ({ id: m.id, probability: m.final_price_yes }));
  return [];
}

/**
 * {verdict, label, probabilities: [{id, label, probability}], heuristic} for the job and share
 * pages. The first rows are the markets; the agents' own belief in the goal comes last.
 */
export function forecastSummary({ structured, curves, marketsConfig }) {
  const st = parseJson(structured) || {};
  const verdict = typeof st.verdict === 'string' ? st.verdict : st.verdict?.sentence || null;
  const questions = questionsOf(st, curves, marketsConfig);
  const probabilities = marketRows(st, curves)
    .filter((r) => isProbability(r.probability))
    .map((r) => ({ id: r.id, label: questions.get(String(r.id)) ? `${questions.get(String(r.id))}` : String(r.id), probability: r.probability }));
  const goalBelief = st.probabilities?.goal ?? curves?.goal?.belief_probability;
  if (isProbability(goalBelief)) {
    probabilities.push({ id: 'belief', label: 'Agents’ own belief that the goal happens (confidence-weighted)', probability: goalBelief });
  }
  return {
    verdict,
    label: st.verdict?.label || null,
    probabilities,
    heuristic: Boolean(st.backend?.heuristic),
    structured: st,
  };
}
