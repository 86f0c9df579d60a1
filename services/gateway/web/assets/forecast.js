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

export const isProbability = (p) => typeof p === 'number' && Number.isFinite(p) && p >= 0 && p <= 1;

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

/** Whole percents read best; a narrow interval keeps one decimal so its ends stay apart. */
export function digitsFor(interval) {
  return interval && interval[1] - interval[0] < 0.05 ? 1 : 0;
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
 * The goal market's opening price: the report's baseline, else its market facts, else the first
 * point of the market's curve (market_curves.json). null when none says.
 */
function openingPrice(st, curves, forecast, marketId) {
  const candidates = [forecast?.baselines?.opening_price];
  const fact = Array.isArray(st.markets) ? st.markets.find((m) => String(m?.id) === marketId) : null;
  candidates.push(fact?.initial_price, fact?.initial_price_yes);
  const market = Array.isArray(curves?.markets) ? curves.markets.find((m) => String(m?.id) === marketId) : null;
  const first = Array.isArray(market?.curve) ? market.curve.find((p) => Number(p?.round) === 0) ?? market.curve[0] : null;
  candidates.push(market?.initial_price_yes, first?.price_yes);
  return candidates.find(isProbability) ?? null;
}

/** "up 13 points since the opening price 50%": the forecast against where the goal's market opened. */
export function moveText(probability, opening) {
  if (!isProbability(probability) || !isProbability(opening)) return '';
  const points = Math.round((probability - opening) * 100);
  if (points === 0) return `level with the opening price ${pct(opening)}`;
  return `${points > 0 ? 'up' : 'down'} ${Math.abs(points)} point${Math.abs(points) === 1 ? '' : 's'} since the opening price ${pct(opening)}`;
}

/**
 * What the job and share pages show:
 * {headline: {marketId, opening, probability, interval, level, replicates, market, belief, method} | null, verdict, label,
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
        opening: openingPrice(st, curves, forecast, String(goal.market_id || 'm1')),
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

// "69.5% (80% interval 67.9–71.2%): " opening a key insight (services/reporter/key_insight.py).
const OPENING_HEADLINE = /^\d+(?:\.\d+)?%\s*(?:\([^)]*\))?\s*[:,]?\s*/;

/**
 * The key insight without the headline and verdict label it usually opens with, for a card that
 * already shows both ("90.5% (…): very likely, across 5 runs; …" → "Across 5 runs; …").
 */
export function insightAfterHeadline(text, label) {
  const value = String(text || '');
  const opening = value.match(OPENING_HEADLINE);
  if (!opening) return value;
  let rest = value.slice(opening[0].length);
  if (label) {
    const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const lead = rest.match(new RegExp(`^${escaped}(?:[,;.]\\s*|$)`, 'i'));
    if (lead) rest = rest.slice(lead[0].length);
  }
  return rest ? rest[0].toUpperCase() + rest.slice(1) : value;
}
