"""A hand-built run in the artifact shape the engine writes (docs/artifacts.md, docs/forecasting.md).

The reporter's tests need artifacts with the forecast over replicates, its interval, the seed's
evidence and the agents' stated beliefs. `synthetic_run` builds all ten files from a small seeded
model: stakeholders with a lean, agents who state a probability per market and drift towards the
crowd, LMSR markets moved by their trades, posts, replies, likes and follows, R replicates, and
the forecast combined exactly as docs/forecasting.md §4 says. It is not the engine: it produces
the documented shape and the internal consistency the reporter relies on (curves match trades,
volumes add up, ids exist), so the report can be checked against the numbers in the files.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from dataclasses import dataclass, replace
from typing import Any

GOAL = "Will the strike end by June?"
STAKEHOLDERS = (
    ("Port Authority", "organisation"),
    ("Mayor Jane Smith", "person"),
    ("Harbour Workers' Union", "organisation"),
    ("Shipping Companies", "organisation"),
    ("Green Party", "organisation"),
    ("Chamber of Commerce", "organisation"),
)
VIEWPOINTS = (("Optimists (expect YES)", 0.8), ("Sceptics (expect NO)", -0.8))
FIRST_NAMES = ("Aldo", "Bea", "Cleo", "Dario", "Edda", "Femi", "Gus", "Hana", "Ivo", "Jun", "Kira", "Lars")
SUBSIDY = 15.0
W_MAX = 0.5  # the most weight a heavily traded market's price gets against the stated beliefs
LEVEL = 0.8
BOOTSTRAP = 200
P_MIN, P_MAX = 0.01, 0.99


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _logit(p: float) -> float:
    p = min(P_MAX, max(P_MIN, p))
    return math.log(p / (1.0 - p))


def _clip(p: float) -> float:
    return min(P_MAX, max(P_MIN, p))


def _r4(x: float) -> float:
    return round(float(x), 4)


def _percentile(values: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _pooled(probs: list[float], confidences: list[float]) -> float:
    """Confidence-weighted stated beliefs pooled in log-odds."""
    total = sum(confidences)
    return _sigmoid(sum(c * _logit(p) for p, c in zip(probs, confidences, strict=True)) / total)


def _combined(price: float, belief: float, volume_cash: float) -> float:
    w = W_MAX * (1.0 - math.exp(-volume_cash / (2.0 * SUBSIDY)))
    return _sigmoid(w * _logit(price) + (1.0 - w) * _logit(belief))


def _canonical(obj: Any) -> bytes:
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


@dataclass(frozen=True)
class SyntheticRun:
    """What `run_simulation` hands back, as far as the reporter and the runner event need it."""

    artifacts: dict[str, bytes]
    result_graph: dict[str, Any]
    markets_config: list[dict[str, Any]]
    summary: dict[str, Any]

    def json(self, name: str) -> Any:
        return json.loads(self.artifacts[name])

    def with_json(self, name: str, data: Any) -> SyntheticRun:
        """A copy with one artifact replaced (for runs a test shapes by hand)."""
        return replace(self, artifacts={**self.artifacts, name: _canonical(data)})


class _Lmsr:
    """A binary LMSR market maker: b from the subsidy (worst-case loss b·ln 2)."""

    def __init__(self, opening: float) -> None:
        self.b = SUBSIDY / math.log(2.0)
        self.q = [self.b * _logit(opening), 0.0]

    def cost(self, q: list[float]) -> float:
        top = max(q)
        return top + self.b * math.log(sum(math.exp((x - top) / self.b) for x in q))

    def price(self) -> float:
        return _sigmoid((self.q[0] - self.q[1]) / self.b)

    def trade(self, outcome: int, shares: float) -> float:
        """Buys (shares > 0) or sells (< 0) an outcome; returns the cash paid (negative: received)."""
        after = list(self.q)
        after[outcome] += shares
        paid = self.cost(after) - self.cost(self.q)
        self.q = after
        return paid


def _markets(stakeholders: list[str], n: int) -> list[dict[str, Any]]:
    first = stakeholders[0] if stakeholders else "the Port Authority"
    last = stakeholders[-1] if stakeholders else "the union"
    rows = [
        {
            "id": "m1",
            "question": GOAL,
            "initial_price_yes": 0.5,
            "kind": "goal",
            "link": 1.0,
            "rationale": "The prediction goal itself.",
            "resolution": "YES if the strike has ended (work resumed at the port) by 30 June.",
        },
        {
            "id": "m2",
            "question": f"Will {first} and the union sign a written deal by 31 May?",
            "initial_price_yes": 0.3,
            "kind": "milestone",
            "link": 0.8,
            "rationale": f"A deal with {first} is the usual way such strikes end.",
            "resolution": "YES if a signed agreement is published by 31 May.",
        },
        {
            "id": "m3",
            "question": f"Will {last} publicly oppose the settlement within 15 days?",
            "initial_price_yes": 0.6,
            "kind": "stakeholder",
            "link": -0.5,
            "rationale": f"{last} has taken a side in the seed.",
            "resolution": f"YES if {last} states its opposition in public within 15 days.",
        },
    ]
    return rows[:n]


def synthetic_run(
    agents: int = 24,
    rounds: int = 12,
    seed: int = 1,
    *,
    replicates: int = 5,
    stakeholders: int = 4,
    markets: int = 3,
    lean: float = 0.4,
) -> SyntheticRun:
    """A run of `agents` × `rounds` with `replicates` replicate runs; `stakeholders` (0..6) named in
    the seed (fewer than 3 is low evidence); `lean` is the evidence's log-odds for the goal."""
    rng = random.Random(seed)
    named = [name for name, _ in STAKEHOLDERS[:stakeholders]]
    entities: list[dict[str, Any]] = [
        {"id": f"e{i + 1}", "name": name, "kind": kind, "lean": rng.choice((-1, 1)) * rng.uniform(0.3, 0.9)}
        for i, (name, kind) in enumerate(STAKEHOLDERS[:stakeholders])
    ]
    for name, viewpoint_lean in VIEWPOINTS:
        entities.append(
            {"id": f"e{len(entities) + 1}", "name": name, "kind": "viewpoint", "lean": viewpoint_lean}
        )
    specs = _markets(named, markets)
    ids = [m["id"] for m in specs]
    evidence_items = [
        {
            "kind": "poll",
            "text": "A poll of members shows 58% ready to accept a deal.",
            "weight": 0.32,
            "entity": None,
        },
        *(
            {
                "kind": "endorsement" if e["lean"] > 0 else "opposition",
                "text": f"{e['name']} {'backs' if e['lean'] > 0 else 'opposes'} an early settlement.",
                "weight": _r4(0.5 * e["lean"]),
                "entity": e["id"],
            }
            for e in entities[:stakeholders]
        ),
    ]
    evidence = {
        "prior": _r4(_sigmoid(lean)),
        "stakeholders": stakeholders,
        "low_evidence": stakeholders < 3,
        "items": evidence_items,
    }

    # Agents: one per entity first, then sampled from the entity mix.
    people: list[dict[str, Any]] = []
    for i in range(agents):
        entity = entities[i] if i < len(entities) else rng.choice(entities)
        name = (
            entity["name"]
            if i < len(entities)
            else f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {chr(65 + i // 12)}."
        )
        people.append(
            {
                "agent_id": i,
                "name": name,
                "entity": entity,
                "activity": _r4(rng.uniform(0.3, 0.9)),
                "sociability": _r4(rng.uniform(0.2, 0.9)),
                "trader": _r4(rng.uniform(0.2, 0.9)),
                "stubbornness": _r4(rng.uniform(0.1, 0.8)),
            }
        )
    priors = {m["id"]: _sigmoid(lean) if m["id"] == "m1" else m["initial_price_yes"] for m in specs}

    runs = [_replicate(k, seed, people, specs, priors, rounds) for k in range(replicates)]

    # The forecast (docs/forecasting.md §4).
    forecast_markets: dict[str, dict[str, Any]] = {}
    for m in ids:
        per_run = [_combined(r["final"][m], r["belief"][m], r["volume"][m]) for r in runs]
        probability = _sigmoid(sum(_logit(f) for f in per_run) / len(per_run))
        if replicates > 1:
            low, high = _percentile(per_run, (1 - LEVEL) / 2), _percentile(per_run, (1 + LEVEL) / 2)
        else:
            low, high = _bootstrap(runs[0], m, random.Random(seed * 7919 + ids.index(m)))
        forecast_markets[m] = {
            "probability": _r4(probability),
            "interval": [_r4(min(low, probability)), _r4(max(high, probability))],
            "market": _r4(_sigmoid(sum(_logit(r["final"][m]) for r in runs) / len(runs))),
            "belief": _r4(_sigmoid(sum(_logit(r["belief"][m]) for r in runs) / len(runs))),
        }
    forecast = {
        "goal": {"market_id": "m1", "level": LEVEL, "replicates": replicates, **forecast_markets["m1"]},
        "markets": forecast_markets,
        "method": (
            "Per run, the final LMSR price weighted by its traded volume and the confidence-weighted stated "
            "beliefs are pooled in log-odds; "
            + (
                f"the {replicates} runs are averaged in log-odds, and the 80% interval spans their 10th to "
                "90th percentiles."
                if replicates > 1
                else "the 80% interval comes from a bootstrap over the agents."
            )
        ),
    }
    return _assemble(runs, people, entities, specs, forecast, evidence, rounds, replicates)


def _bootstrap(run: dict[str, Any], m: str, rng: random.Random) -> tuple[float, float]:
    """R = 1: resample the agents of the run, re-pool their beliefs, and take the 10th-90th percentiles."""
    final = run["final_beliefs"][m]
    conf = run["final_confidence"]
    values = []
    for _ in range(BOOTSTRAP):
        picks = [rng.randrange(len(final)) for _ in final]
        belief = _pooled([final[i] for i in picks], [conf[i] for i in picks])
        values.append(_combined(run["final"][m], belief, run["volume"][m]))
    return _percentile(values, (1 - LEVEL) / 2), _percentile(values, (1 + LEVEL) / 2)


def _replicate(
    k: int,
    seed: int,
    people: list[dict[str, Any]],
    specs: list[dict[str, Any]],
    priors: dict[str, float],
    rounds: int,
) -> dict[str, Any]:
    """One replicate: beliefs drift towards the crowd and the prices, agents trade and post."""
    rng = random.Random(seed * 1000 + k)
    ids = [m["id"] for m in specs]
    n = len(people)
    link = {m["id"]: float(m["link"]) for m in specs}
    belief = [
        {
            m: _clip(_sigmoid(_logit(priors[m]) + 1.2 * link[m] * p["entity"]["lean"] + rng.gauss(0, 0.4)))
            for m in ids
        }
        for p in people
    ]
    confidence = [rng.uniform(0.3, 0.9) for _ in people]
    cash = [100.0] * n
    holdings = [{m: [0.0, 0.0] for m in ids} for _ in people]
    markets = {m["id"]: _Lmsr(m["initial_price_yes"]) for m in specs}
    history = {m: [[_r4(b[m]) for b in belief]] for m in ids}
    conf_history = [[_r4(c) for c in confidence]]
    curves = {
        m: [{"round": 0, "price_yes": _r4(markets[m].price()), "volume_shares": 0.0, "volume_cash": 0.0}]
        for m in ids
    }
    pooled = {m: [_r4(_pooled([b[m] for b in belief], confidence))] for m in ids}
    posts: list[dict[str, Any]] = []
    trades: list[dict[str, Any]] = []
    follows: set[tuple[int, int]] = set()
    reasons: list[dict[str, Any]] = []
    for i in range(n):  # start by following a few like-minded agents
        for j in rng.sample(range(n), min(n, 4)):
            if j != i and (belief[i]["m1"] - 0.5) * (belief[j]["m1"] - 0.5) > 0:
                follows.add((i, j))
    for r in range(1, rounds + 1):
        crowd = {m: _pooled([b[m] for b in belief], confidence) for m in ids}
        volume = {m: [0.0, 0.0] for m in ids}
        for i in rng.sample(range(n), n):
            person = people[i]
            pull = 0.15 * (1.0 - person["stubbornness"])
            for m in ids:
                target = 0.7 * _logit(crowd[m]) + 0.3 * _logit(markets[m].price())
                new = _clip(
                    _sigmoid(
                        _logit(belief[i][m]) + pull * (target - _logit(belief[i][m])) + rng.gauss(0, 0.12)
                    )
                )
                if abs(new - belief[i][m]) >= 0.05:
                    reasons.append(
                        {
                            "round": r,
                            "agent_id": i,
                            "market_id": m,
                            "reason": "The feed moved me."
                            if new > belief[i][m]
                            else "The case looks weaker.",
                        }
                    )
                belief[i][m] = new
            confidence[i] = min(0.95, max(0.05, confidence[i] + rng.gauss(0, 0.03)))
            if rng.random() < person["trader"] * 0.6:
                m = rng.choice(ids)
                _trade(rng, i, m, r, belief[i][m], markets[m], cash, holdings, trades, volume)
            if rng.random() < person["activity"] * person["sociability"]:
                _post(rng, i, r, people, belief[i], ids, posts)
            _react(rng, i, belief[i]["m1"], posts, follows, r)
        for m in ids:
            curves[m].append(
                {
                    "round": r,
                    "price_yes": _r4(markets[m].price()),
                    "volume_shares": _r4(volume[m][0]),
                    "volume_cash": _r4(volume[m][1]),
                }
            )
            history[m].append([_r4(b[m]) for b in belief])
            pooled[m].append(_r4(_pooled([b[m] for b in belief], confidence)))
        conf_history.append([_r4(c) for c in confidence])
    final = {m: curves[m][-1]["price_yes"] for m in ids}
    return {
        "curves": curves,
        "history": history,
        "conf_history": conf_history,
        "pooled": pooled,
        "final": final,
        "belief": {m: pooled[m][-1] for m in ids},
        "volume": {m: sum(p["volume_cash"] for p in curves[m]) for m in ids},
        "final_beliefs": {m: [b[m] for b in belief] for m in ids},
        "final_confidence": list(confidence),
        "cash": cash,
        "holdings": holdings,
        "posts": posts,
        "trades": trades,
        "follows": follows,
        "reasons": reasons,
    }


def _trade(
    rng: random.Random,
    i: int,
    m: str,
    r: int,
    p: float,
    market: _Lmsr,
    cash: list[float],
    holdings: list[dict[str, list[float]]],
    trades: list[dict[str, Any]],
    volume: dict[str, list[float]],
) -> None:
    price = market.price()
    held = holdings[i][m]
    if abs(p - price) < 0.03:
        return
    outcome = 0 if p > price else 1
    if held[1 - outcome] > 1.0 and rng.random() < 0.3:  # sell the side it no longer believes in
        shares = _r4(held[1 - outcome] / 2)
        side = "sell"
        paid = market.trade(1 - outcome, -shares)
        held[1 - outcome] -= shares
        traded_outcome = 1 - outcome
    else:
        budget = cash[i] * 0.15 * abs(p - price) / max(p, 1 - p)
        if budget < 0.5:
            return
        unit = price if outcome == 0 else 1 - price
        shares = _r4(budget / unit)
        side = "buy"
        paid = market.trade(outcome, shares)
        held[outcome] += shares
        traded_outcome = outcome
    cash[i] -= paid
    volume[m][0] += shares
    volume[m][1] += abs(paid)
    trades.append(
        {
            "id": len(trades),
            "round": r,
            "agent_id": i,
            "market_id": m,
            "side": side,
            "outcome": "yes" if traded_outcome == 0 else "no",
            "shares": shares,
            "cash": _r4(abs(paid)),
            "price_before": _r4(price),
            "price_after": _r4(market.price()),
        }
    )


def _post(
    rng: random.Random,
    i: int,
    r: int,
    people: list[dict[str, Any]],
    belief: dict[str, float],
    ids: list[str],
    posts: list[dict[str, Any]],
) -> None:
    person = people[i]
    stance = _r4(2 * belief["m1"] - 1)
    kind = "post"
    parent: dict[str, Any] | None = None
    market_id: str | None = None
    earlier = [p for p in posts if p["kind"] != "repost" and p["round"] >= r - 2]
    roll = rng.random()
    if earlier and roll < 0.3:
        kind, parent = "reply", rng.choice(earlier)
    elif earlier and roll < 0.4:
        kind, parent = "repost", rng.choice(earlier)
    elif roll < 0.55:
        kind, market_id = "market_comment", rng.choice(ids)
        stance = _r4(2 * belief[market_id] - 1)
    if kind == "repost":
        assert parent is not None
        text = parent["text"]
    elif kind == "market_comment":
        assert market_id is not None
        text = (
            f"At these prices {market_id} is {'cheap' if stance > 0 else 'too dear'}; "
            f"my number is {belief[market_id] * 100:.0f} in 100."
        )
    elif stance > 0.2:
        text = f"{person['name']} here: the strike ends soon, the talks are real and the pay gap is small."
    elif stance < -0.2:
        text = f"{person['name']} here: nobody is moving, this strike runs past June #{r}."
    else:
        text = "Hard to call: both sides have reasons to hold out a little longer."
    if parent is not None:
        parent["replies" if kind == "reply" else "reposts"] += 1
        if kind == "reply":
            text = (
                f"{parent['author']}, {'I agree' if stance * parent['stance'] > 0 else 'I disagree'}: {text}"
            )
    posts.append(
        {
            "id": len(posts),
            "round": r,
            "author_id": i,
            "author": person["name"],
            "kind": kind,
            "text": text,
            "stance": stance,
            "parent_id": parent["id"] if parent is not None else None,
            "market_id": market_id,
            "likes": 0,
            "dislikes": 0,
            "replies": 0,
            "reposts": 0,
        }
    )


def _react(
    rng: random.Random, i: int, p: float, posts: list[dict[str, Any]], follows: set[tuple[int, int]], r: int
) -> None:
    """Likes what agrees, dislikes what does not, follows an author it liked."""
    recent = [q for q in posts if q["round"] >= r - 1 and q["author_id"] != i]
    for post in rng.sample(recent, min(3, len(recent))):
        agrees = (2 * p - 1) * post["stance"] > 0
        if rng.random() < 0.6:
            post["likes" if agrees else "dislikes"] += 1
            if agrees and rng.random() < 0.2:
                follows.add((i, post["author_id"]))


def _score(post: dict[str, Any]) -> float:
    return post["likes"] + 2 * post["reposts"] + 1.5 * post["replies"] - 0.5 * post["dislikes"]


def _assemble(
    runs: list[dict[str, Any]],
    people: list[dict[str, Any]],
    entities: list[dict[str, Any]],
    specs: list[dict[str, Any]],
    forecast: dict[str, Any],
    evidence: dict[str, Any],
    rounds: int,
    replicates: int,
) -> SyntheticRun:
    run = runs[0]
    ids = [m["id"] for m in specs]
    n = len(people)
    posts, trades = run["posts"], run["trades"]
    prices = {m: run["final"][m] for m in ids}
    final_conf = run["conf_history"][-1]
    goal_probs = [run["history"]["m1"][-1][i] for i in range(n)]
    weights = final_conf
    total = sum(weights)
    goal_belief = sum(p * c for p, c in zip(goal_probs, weights, strict=True)) / total
    spread = math.sqrt(
        sum((p - goal_belief) ** 2 * c for p, c in zip(goal_probs, weights, strict=True)) / total
    )

    def goal_point(k: int) -> dict[str, Any]:
        probs = run["history"]["m1"][k]
        conf = run["conf_history"][k]
        mean = sum(p * c for p, c in zip(probs, conf, strict=True)) / sum(conf)
        sd = math.sqrt(sum((p - mean) ** 2 * c for p, c in zip(probs, conf, strict=True)) / sum(conf))
        return {"round": k, "probability": _r4(mean), "spread": _r4(sd)}

    market_rows = []
    for spec in specs:
        m = spec["id"]
        market_trades = [t for t in trades if t["market_id"] == m]
        market_rows.append(
            {
                **{
                    key: spec[key]
                    for key in (
                        "id",
                        "question",
                        "rationale",
                        "resolution",
                        "kind",
                        "link",
                        "initial_price_yes",
                    )
                },
                "liquidity_b": _r4(SUBSIDY / math.log(2.0)),
                "subsidy": SUBSIDY,
                "final_price_yes": prices[m],
                "belief_probability": run["belief"][m],
                "forecast": forecast["markets"][m],
                "total_volume_shares": _r4(sum(t["shares"] for t in market_trades)),
                "total_volume_cash": _r4(sum(t["cash"] for t in market_trades)),
                "curve": run["curves"][m],
            }
        )
    curves = {
        "rounds": rounds,
        "replicates": replicates,
        "forecast": forecast,
        "evidence": evidence,
        "markets": market_rows,
        "goal": {
            "question": GOAL,
            "belief_probability": _r4(goal_belief),
            "spread": _r4(spread),
            "market_probability": prices["m1"],
            "p10": _r4(_percentile(goal_probs, 0.1)),
            "p50": _r4(_percentile(goal_probs, 0.5)),
            "p90": _r4(_percentile(goal_probs, 0.9)),
            "agents": n,
            "curve": [goal_point(k) for k in range(rounds + 1)],
        },
        "replicate_curves": [
            {
                "replicate": k,
                "prices": {m: [p["price_yes"] for p in r["curves"][m]] for m in ids},
                "beliefs": {m: r["pooled"][m] for m in ids},
            }
            for k, r in enumerate(runs)
        ],
    }
    trajectories: dict[str, Any] = {
        "rounds": list(range(rounds + 1)),
        "agents": [
            {
                "agent_id": i,
                "name": people[i]["name"],
                "entity_id": people[i]["entity"]["id"],
                "position": [_r4(2 * run["history"]["m1"][k][i] - 1) for k in range(rounds + 1)],
                "confidence": [run["conf_history"][k][i] for k in range(rounds + 1)],
                "beliefs": {m: [run["history"][m][k][i] for k in range(rounds + 1)] for m in ids},
                "reasons": [
                    {"round": x["round"], "market_id": x["market_id"], "reason": x["reason"]}
                    for x in run["reasons"]
                    if x["agent_id"] == i
                ],
            }
            for i in range(n)
        ],
    }
    followers = [sum(1 for _, b in run["follows"] if b == i) for i in range(n)]
    following = [sum(1 for a, _ in run["follows"] if a == i) for i in range(n)]
    likes = [sum(p["likes"] for p in posts if p["author_id"] == i) for i in range(n)]
    dislikes = [sum(p["dislikes"] for p in posts if p["author_id"] == i) for i in range(n)]
    n_posts = [sum(1 for p in posts if p["author_id"] == i) for i in range(n)]
    n_trades = [sum(1 for t in trades if t["agent_id"] == i) for i in range(n)]
    profiles = []
    for i, person in enumerate(people):
        holdings = {
            m: {"yes": _r4(run["holdings"][i][m][0]), "no": _r4(run["holdings"][i][m][1])} for m in ids
        }
        value = run["cash"][i] + sum(
            h["yes"] * prices[m] + h["no"] * (1 - prices[m]) for m, h in holdings.items()
        )
        profiles.append(
            {
                "agent_id": i,
                "name": person["name"],
                "entity_id": person["entity"]["id"],
                "kind": person["entity"]["kind"],
                "summary": f"{person['entity']['name']} in the harbour strike.",
                "enriched_summary": f"{person['entity']['name']}; it wrote {n_posts[i]} posts.",
                "traits": {key: person[key] for key in ("activity", "sociability", "trader", "stubbornness")},
                "initial": {
                    "position": trajectories["agents"][i]["position"][0],
                    "confidence": run["conf_history"][0][i],
                },
                "final": {"position": trajectories["agents"][i]["position"][-1], "confidence": final_conf[i]},
                "cash": _r4(run["cash"][i]),
                "holdings": holdings,
                "portfolio_value": _r4(value),
                "pnl": _r4(value - 100.0),
                "stats": {
                    "posts": n_posts[i],
                    "likes_received": likes[i],
                    "dislikes_received": dislikes[i],
                    "trades": n_trades[i],
                    "rejected_actions": 0,
                    "followers": followers[i],
                    "following": following[i],
                },
            }
        )
    graph = {
        "nodes": [
            {
                "id": i,
                "name": people[i]["name"],
                "entity_id": people[i]["entity"]["id"],
                "followers": followers[i],
                "following": following[i],
                "position": trajectories["agents"][i]["position"][-1],
            }
            for i in range(n)
        ],
        "edges": [{"source": a, "target": b, "type": "follows"} for a, b in sorted(run["follows"])],
    }
    top = sorted((p for p in posts if p["kind"] != "repost"), key=lambda p: (-_score(p), p["id"]))[:25]
    per_round = []
    for r in range(1, rounds + 1):
        row: dict[str, Any] = {"round": r}
        for p in posts:
            if p["round"] == r:
                row[p["kind"]] = row.get(p["kind"], 0) + 1
        for t in trades:
            if t["round"] == r:
                row[t["side"]] = row.get(t["side"], 0) + 1
        per_round.append(row)
    totals: dict[str, int] = {}
    for row in per_round:
        for key, value in row.items():
            if key != "round":
                totals[key] = totals.get(key, 0) + value
    by_kind = {
        kind: sum(1 for p in posts if p["kind"] == kind)
        for kind in ("post", "reply", "repost", "market_comment")
    }
    engagement = {
        "backend": {"name": "heuristic", "model": "heuristic-rules-v2", "heuristic": True},
        "agents": n,
        "rounds": rounds,
        "replicates": replicates,
        "totals": totals,
        "per_round": per_round,
        "posts_by_kind": by_kind,
        "rejections": {},
        "insufficient_funds": 0,
        "failed_turns": [],
        "llm": {
            "calls": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "invalid_turns": 0,
            "retries": 0,
            "errors": 0,
        },
        "llm_calls": [],
        "top_agents": [
            {
                "agent_id": i,
                "name": people[i]["name"],
                "followers": followers[i],
                "likes_received": likes[i],
                "posts": n_posts[i],
            }
            for i in sorted(range(n), key=lambda i: (-followers[i], i))[:5]
        ],
    }
    names = {i: people[i]["name"] for i in range(n)}
    chat = []
    for r in range(1, rounds + 1):
        for p in posts:
            if p["round"] == r:
                entry = {
                    "round": r,
                    "kind": p["kind"],
                    "author_id": p["author_id"],
                    "author": p["author"],
                    "text": p["text"],
                    "post_id": p["id"],
                    "parent_id": p["parent_id"],
                    "market_id": p["market_id"],
                }
                if p["parent_id"] is not None:
                    entry["reply_to_author"] = posts[p["parent_id"]]["author"]
                chat.append(entry)
        for t in trades:
            if t["round"] == r:
                chat.append(
                    {
                        "round": r,
                        "kind": "trade",
                        "author_id": t["agent_id"],
                        "author": names[t["agent_id"]],
                        "text": f"{t['side']}s {t['shares']:.1f} {t['outcome'].upper()} on {t['market_id']}",
                        "trade_id": t["id"],
                        "market_id": t["market_id"],
                    }
                )
    relations = [
        {
            "source": a["id"],
            "target": b["id"],
            "source_name": a["name"],
            "target_name": b["name"],
            "type": "opposes" if a["lean"] * b["lean"] < 0 else "aligned_with",
            "weight": 1.0,
            "origin": "seed",
            "evidence": ["seed:sentence:1"],
        }
        for a, b in itertools.pairwise(entities)
    ]
    artifacts = {
        "market_curves.json": curves,
        "agent_trajectories.json": trajectories,
        "engagement_summary.json": engagement,
        "top_posts.json": {"posts": [{**p, "score": _score(p)} for p in top]},
        "posts.json": {"posts": posts},
        "trades.json": {"trades": trades},
        "social_graph.json": graph,
        "profiles.json": {"agents": profiles},
        "chat_log.json": {"entries": chat},
        "relations.json": {"relations": relations},
    }
    result_graph = {
        "nodes": [
            {
                "id": e["id"],
                "label": e["name"],
                "kind": e["kind"],
                "summary": "",
                "initial_stance": _r4(e["lean"]),
                "stance": _r4(e["lean"]),
                "sentiment": 0.0,
                "influence": _r4(1 / len(entities)),
                "agents": sum(1 for p in people if p["entity"] is e),
            }
            for e in entities
        ],
        "edges": [
            {"source": r["source"], "target": r["target"], "type": r["type"], "weight": 1, "origin": "seed"}
            for r in relations
        ],
    }
    summary = {
        "backend": engagement["backend"],
        "forecast": forecast,
        "evidence": evidence,
        "probabilities": {m: forecast["markets"][m]["probability"] for m in ids},
        "goal_probability": forecast["goal"]["probability"],
        "counts": {
            "agents": n,
            "rounds": rounds,
            "posts": len(posts),
            "trades": len(trades),
            "replicates": replicates,
        },
    }
    markets_config = [
        {
            key: spec[key]
            for key in ("id", "question", "initial_price_yes", "rationale", "link", "resolution", "kind")
        }
        for spec in specs
    ]
    return SyntheticRun(
        artifacts={name: _canonical(data) for name, data in artifacts.items()},
        result_graph=result_graph,
        markets_config=markets_config,
        summary=summary,
    )
