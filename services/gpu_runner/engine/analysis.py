"""Stage 4: the forecast, typed relations between entities, enriched personas, the entity graph."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from services.common import artifacts as contract

from . import beliefs
from .types import Agent, Relation
from .world import STREAM_BOOTSTRAP, World, rng_for

POSITIVE = ("likes", "reposts", "follows")
W_MAX = 0.5  # the most a traded market's final price counts in a forecast (the rest: stated beliefs)
LEVEL = 0.8  # the interval's coverage
BOOTSTRAP_SAMPLES = 200  # resamples over agents when a run has a single replicate


def r4(x: float) -> float:
    return round(float(x), 4)


def _quantile(sorted_xs: list[float], q: float) -> float:
    if not sorted_xs:
        return 0.5
    pos = q * (len(sorted_xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


def combine(market: float, belief: float, weight: float) -> float:
    """The forecast of one replicate: ``sigmoid(w logit(market) + (1 - w) logit(belief))``."""
    return beliefs.sigmoid(weight * beliefs.logit(market) + (1.0 - weight) * beliefs.logit(belief))


def replicate_view(world: World) -> dict[str, dict[str, float]]:
    """Per market of one replicate: final price ``market``, pooled stated ``belief``, the price's
    ``weight`` (from the cash traded on it) and their combination ``probability``."""
    prices = world.prices()
    pooled = world.pooled_beliefs()
    out = {}
    for mid in world.market_ids:
        w = beliefs.market_weight(world.volume_cash(mid), world.config.market_subsidy, W_MAX)
        out[mid] = {
            "market": prices[mid],
            "belief": pooled[mid],
            "weight": w,
            "probability": combine(prices[mid], pooled[mid], w),
        }
    return out


def _bootstrap(world: World, mid: str, market: float, weight: float) -> list[float]:
    """Forecasts of a single replicate with its agents resampled (with replacement)."""
    agents = world.agents
    n = len(agents)
    probs = np.array([a.belief.probabilities[mid] for a in agents])
    confs = np.array([a.belief.confidence for a in agents])
    x = np.log(probs / (1.0 - probs))
    picks = rng_for(world.seed, STREAM_BOOTSTRAP, 0).integers(0, n, size=(BOOTSTRAP_SAMPLES, n))
    pooled_x = (x[picks] * confs[picks]).sum(axis=1) / confs[picks].sum(axis=1)
    mx = beliefs.logit(market)
    return [beliefs.sigmoid(weight * mx + (1.0 - weight) * float(b)) for b in pooled_x]


def _mean_logit(values: list[float]) -> float:
    return beliefs.sigmoid(sum(beliefs.logit(v) for v in values) / len(values))


def forecast(worlds: list[World]) -> contract.Forecast:
    """The run's forecast (docs/forecasting.md §4): per market, the replicates' combined forecasts averaged in
    log-odds, with an 80% interval across replicates (a bootstrap over agents for one replicate)."""
    views = [replicate_view(w) for w in worlds]
    first = worlds[0]
    lo_q, hi_q = (1.0 - LEVEL) / 2.0, 1.0 - (1.0 - LEVEL) / 2.0
    markets: dict[str, contract.MarketForecast] = {}
    for mid in first.market_ids:
        per = [v[mid] for v in views]
        probability = _mean_logit([p["probability"] for p in per])
        if len(worlds) > 1:
            spread = sorted(p["probability"] for p in per)
        else:
            spread = sorted(_bootstrap(first, mid, per[0]["market"], per[0]["weight"]))
        lo = min(_quantile(spread, lo_q), probability)
        hi = max(_quantile(spread, hi_q), probability)
        markets[mid] = {
            "probability": r4(probability),
            "interval": [r4(lo), r4(hi)],
            "market": r4(_mean_logit([p["market"] for p in per])),
            "belief": r4(_mean_logit([p["belief"] for p in per])),
        }
    goal_id = first.goal_market
    n = len(worlds)
    spread_how = "across replicates" if n > 1 else "from a bootstrap over agents"
    return {
        "goal": {"market_id": goal_id, **markets[goal_id], "level": LEVEL, "replicates": n},
        "markets": markets,
        "method": (
            f"Mean in log-odds over {n} replicate simulation{'s' if n > 1 else ''} of the final market "
            f"price and the agents' confidence-weighted stated beliefs (the price weighted by the cash "
            f"traded on it, at most {W_MAX:.0%}); {LEVEL:.0%} interval {spread_how}."
        ),
    }


def goal_summary(world: World) -> contract.GoalSummary:
    """One replicate's view of the goal: pooled stated belief, spread and quantiles across agents."""
    goal_id = world.goal_market
    agents = world.agents
    probs = [a.belief.probabilities[goal_id] for a in agents]
    confs = [a.belief.confidence for a in agents]
    ordered = sorted(probs)
    return {
        "question": world.specs[0].question,
        "belief_probability": r4(beliefs.pool(probs, confs)),
        "spread": r4(beliefs.spread(probs, confs)),
        "market_probability": r4(world.prices()[goal_id]),
        "p10": r4(_quantile(ordered, 0.1)),
        "p50": r4(_quantile(ordered, 0.5)),
        "p90": r4(_quantile(ordered, 0.9)),
        "agents": len(agents),
    }


def stakeholder_count(world: World) -> int:
    return sum(1 for e in world.entities if e.kind != "viewpoint")


def mention_counts(world: World) -> dict[tuple[str, str], list[Any]]:
    """(author entity, mentioned entity) -> [count, first post ids] from post texts."""
    named = [(e.id, e.name) for e in world.entities if e.kind != "viewpoint" and len(e.name) >= 3]
    out: dict[tuple[str, str], list[Any]] = {}
    for post in world.posts:
        if post.kind == "repost":
            continue
        src = world.agents[post.author].entity_id
        text = post.text
        for eid, name in named:
            if eid != src and name in text:
                slot = out.setdefault((src, eid), [0, []])
                slot[0] += 1
                if len(slot[1]) < 3:
                    slot[1].append(f"post:{post.id}")
    return out


def simulation_relations(world: World) -> list[Relation]:
    """Typed, directed entity relations from what agents did to each other: ``supports`` (likes,
    reposts, follows dominate), ``opposes`` (dislikes dominate), ``engages_with`` (mostly replies),
    plus ``mentions`` from post texts."""
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for key, (count, evidence) in world.interactions.items():
        src, dst, kind = key.split("|")
        slot = pairs.setdefault((src, dst), {"pos": 0, "neg": 0, "replies": 0, "evidence": []})
        if kind in POSITIVE:
            slot["pos"] += count
        elif kind == "dislikes":
            slot["neg"] += count
        else:
            slot["replies"] += count
        slot["evidence"].extend(evidence[: 3 - len(slot["evidence"])])
    relations = []
    for (src, dst), s in pairs.items():
        if s["pos"] > 2 * s["neg"] and s["pos"] >= 2:
            kind = "supports"
        elif s["neg"] > s["pos"] and s["neg"] >= 2:
            kind = "opposes"
        else:
            kind = "engages_with"
        relations.append(
            Relation(
                src, dst, kind, float(s["pos"] + s["neg"] + s["replies"]), "simulation", tuple(s["evidence"])
            )
        )
    for (src, dst), (count, evidence) in mention_counts(world).items():
        relations.append(Relation(src, dst, "mentions", float(count), "simulation", tuple(evidence)))
    return relations


def enriched_summary(world: World, agent: Agent) -> str:
    """The persona's summary plus what the simulation revealed about it."""
    goal_id = world.goal_market
    start = 2.0 * world.stated[0][agent.id][0] - 1.0
    end = 2.0 * agent.belief.probabilities[goal_id] - 1.0
    drift = end - start
    if abs(drift) < 0.05:
        moved = "held its view"
    else:
        moved = f"moved {'towards' if drift > 0 else 'away from'} the outcome ({start:+.2f} -> {end:+.2f})"
    return (
        f"{agent.summary} Over {world.round} rounds it {moved}, wrote {agent.posts} posts, received "
        f"{agent.likes_received} likes and {agent.dislikes_received} dislikes, made {agent.trades} trades "
        f"and gained {agent.followers} followers."
    )[:600]


def entity_graph(world: World, relations: list[Relation]) -> dict[str, Any]:
    """Nodes = entities with stance (mean final position of their agents), sentiment (reactions their
    agents received) and influence (share of followers and likes); typed edges from follows,
    replies, votes, mentions and the extracted relations."""
    by_entity: dict[str, list[Agent]] = {}
    for a in world.agents:
        by_entity.setdefault(a.entity_id, []).append(a)
    reach = {eid: sum(a.followers + a.likes_received for a in members) for eid, members in by_entity.items()}
    total_reach = sum(reach.values()) or 1
    nodes = []
    for e in world.entities:
        members = by_entity.get(e.id, [])
        likes = sum(a.likes_received for a in members)
        dislikes = sum(a.dislikes_received for a in members)
        stance = (
            sum(2.0 * a.belief.probabilities[world.goal_market] - 1.0 for a in members) / len(members)
            if members
            else e.stance
        )
        nodes.append(
            {
                "id": e.id,
                "label": e.name,
                "kind": e.kind,
                "summary": e.summary,
                "initial_stance": e.stance,
                "stance": r4(stance),
                "sentiment": r4((likes - dislikes) / (likes + dislikes + 1)),
                "influence": r4(reach.get(e.id, 0) / total_reach),
                "agents": len(members),
            }
        )
    edges: list[dict[str, Any]] = []
    for key, (count, _) in world.interactions.items():
        src, dst, kind = key.split("|")
        edges.append({"source": src, "target": dst, "type": kind, "weight": count, "origin": "simulation"})
    for rel in relations:
        if rel.origin == "seed" or rel.type == "mentions":
            edges.append(
                {
                    "source": rel.source,
                    "target": rel.target,
                    "type": rel.type,
                    "weight": r4(rel.weight),
                    "origin": rel.origin,
                }
            )
    edges.sort(key=lambda e: (e["source"], e["target"], e["type"], e["origin"]))
    return {"nodes": nodes, "edges": edges}
