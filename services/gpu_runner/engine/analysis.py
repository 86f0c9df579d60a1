"""Stage 4: the forecast, typed relations between entities, enriched personas, the entity graph."""

from __future__ import annotations

import math
from typing import Any

from .beliefs import goal_probability
from .types import Agent, Relation
from .world import World

POSITIVE = ("likes", "reposts", "follows")


def r4(x: float) -> float:
    return round(float(x), 4)


def _quantile(sorted_xs: list[float], q: float) -> float:
    if not sorted_xs:
        return 0.5
    pos = q * (len(sorted_xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


def forecast(world: World) -> dict[str, Any]:
    """Per-market probability (final price and belief-weighted view) and the goal's probability
    weighted by the agents' confidence, with its spread and quantiles across agents."""
    agents = world.agents
    positions = [a.belief.position for a in agents]
    confs = [a.belief.confidence for a in agents]
    total_conf = sum(confs) or 1.0
    prices = world.prices()
    markets = []
    for spec in world.specs:
        views = [world.subjective(a, spec) for a in agents]
        markets.append(
            {
                "market_id": spec.id,
                "question": spec.question,
                "probability": r4(prices[spec.id]),
                "belief_probability": r4(sum(v * c for v, c in zip(views, confs, strict=True)) / total_conf),
                "initial_price_yes": spec.initial_price_yes,
            }
        )
    prob, spread = goal_probability(positions, confs)
    probs = sorted((p + 1.0) / 2.0 for p in positions)
    return {
        "goal": {
            "question": world.specs[0].question,
            "belief_probability": r4(prob),
            "spread": r4(spread),
            "market_probability": r4(prices[world.specs[0].id]),
            "p10": r4(_quantile(probs, 0.1)),
            "p50": r4(_quantile(probs, 0.5)),
            "p90": r4(_quantile(probs, 0.9)),
            "agents": len(agents),
        },
        "markets": markets,
    }


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
    start = world.positions[0][agent.id]
    end = agent.belief.position
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
        stance = sum(a.belief.position for a in members) / len(members) if members else e.stance
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
