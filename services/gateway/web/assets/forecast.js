// The forecast of a finished job, from what it carries: result_structured (the reporter's; its
// `forecast` is the engine's forecast over replicates with an 80% interval, docs/forecasting.md §4), else
// market_curves.json's own `forecast`, else (results from before intervals) the final prices;
// markets_config gives the questions.

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

/** [low, high] when it is a real interval of probabilities, else null. */
function intervalOf(value) {
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [low, high] = value;
  return isProbability(low) && isProbability(high) && low <= high ? [low, high] : null;
}

/** "63%" (digits 0) or "63.0%": the same rounding everywhere in the card. */
export function pct(p, digits = 0) {
  return `${(p * 100).toFixed(digits)}%`;
}

/** "55–70%": an interval with one % sign. */
export function intervalText(interval, digits = 0) {
  return `${(interval[0] * 100).toFixed(digits)}–${(interval[1] * 100).toFixed(digits)}%`;
}

/** "63% (80% interval 55–70%)": a forecast with its interval, as the headline shows it. */
export function estimateText(p, interval, level = 0.8, digits = 0) {
  if (!interval) return pct(p, digits);
  return `${pct(p, digits)} (${Math.round(level * 100)}% interval ${intervalText(interval, digits)})`;
}

function questionsOf(st, curves, marketsConfig) {
  const questions = new Map();
  for (const m of Array.isArray(marketsConfig) ? marketsConfig : []) questions.set(String(m.id), m.question);
  for (const m of curves?.markets || []) questions.set(String(m.id), m.question);
  for (const m of Array.isArray(st.markets) ? st.markets : []) questions.set(String(m.id), m.question);
  return questions;
}

/** The forecast object ({goal, markets, method}) from the report, else from the run's curves. */
function forecastObject(st, curves) {
  for (const candidate of [st.forecast, curves?.forecast]) {
    if (candidate && typeof candidate === 'object' && candidate.markets && typeof candidate.markets === 'object') return candidate;
  }
  return null;
}

function marketRows(st, curves, forecast) {
  // 1. The forecast over replicates: {"markets": {"m1": {probability, interval, market, belief}}}.
  if (forecast) {
    return Object.entries(forecast.markets).map(([id, f]) => ({ id, probability: f?.probability, interval: intervalOf(f?.interval) }));
  }
  // 2. An older report: {"probabilities": {"markets": {"m1": 0.46, ...}}}.
  const byId = st.probabilities?.markets;
  if (byId && typeof byId === 'object' && !Array.isArray(byId)) {
    return Object.entries(byId).map(([id, p]) => ({ id, probability: p, interval: null }));
  }
  if (Array.isArray(st.markets) && st.markets.length) {
    return st.markets.map((m) => ({ id: m.id, probability: m.final_price ?? m.probability, interval: null }));
  }
  // 3. The run's own curves.
  if (Array.isArray(curves?.markets)) return curves.markets.map((m) => ({ id: m.id, probability: m.final_price_yes, interval: null }));
  return [];
}

/**
 * What the job and share pages show:
 * {headline: {probability, interval, level, replicates, market, belief, method} | null, verdict, label,
 *  lowEvidence, stakeholders, markets: [{id, label, probability, interval}], belief, heuristic}.
 * `markets` lists every market's forecast (the goal first); `belief` is the agents' own belief in the
 * goal at the end of the quoted (first) run, shown apart from the forecast.
 */
export function forecastSummary({ structured, curves, marketsConfig }) {
  const st = parseJson(structured) || {};
  const forecast = forecastObject(st, curves);
  const verdict = typeof st.verdict === 'string' ? st.verdict : st.verdict?.sentence || null;
  const questions = questionsOf(st, curves, marketsConfig);
  const markets = marketRows(st, curves, forecast)
    .filter((r) => isProbability(r.probability))
    .sort((a, b) => String(a.id).localeCompare(String(b.id), undefined, { numeric: true }))
    .map((r) => ({ id: String(r.id), label: questions.get(String(r.id)) || String(r.id), probability: r.probability, interval: r.interval }));
  const goal = forecast?.goal;
  const headline = goal && isProbability(goal.probability)
    ? {
        marketId: String(goal.market_id || 'm1'),
        probability: goal.probability,
        interval: intervalOf(goal.interval),
        level: isProbability(goal.level) ? goal.level : 0.8,
        replicates: Number.isInteger(goal.replicates) ? goal.replicates : null,
        market: isProbability(goal.market) ? goal.market : null,
        belief: isProbability(goal.belief) ? goal.belief : null,
        method: typeof forecast.method === 'string' ? forecast.method : '',
      }
    : null;
  // Schema 1 put the agents' belief in probabilities.goal; schema 2 calls it goal_belief.
  const belief = forecast ? (st.probabilities?.goal_belief ?? curves?.goal?.belief_probability) : (st.probabilities?.goal ?? curves?.goal?.belief_probability);
  const evidence = st.evidence || curves?.evidence || null;
  return {
    headline,
    verdict,
    label: st.verdict?.label || null,
    lowEvidence: Boolean(st.verdict?.low_evidence ?? evidence?.low_evidence),
    stakeholders: Number.isInteger(evidence?.stakeholders) ? evidence.stakeholders : null,
    markets,
    belief: isProbability(belief) ? belief : null,
    heuristic: Boolean(st.backend?.heuristic),
    structured: st,
  };
}
