"""The ten artifact files (docs/artifacts.md), built as the typed contract of
:mod:`services.common.artifacts` and written as its canonical JSON bytes.

Floats are rounded where they are measurements: the bytes depend only on the run's state, never
on wall-clock time or hash order.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from services.common import artifacts as contract
from services.common.artifacts import ARTIFACT_NAMES

from . import beliefs
from .analysis import enriched_summary, goal_summary, r4
from .baselines import baselines
from .types import Post, Relation, Trade
from .world import World

TOP_POSTS = 25
ENGAGEMENT_KINDS = ("post", "reply", "repost", "market_comment")


def engagement_score(post: Any) -> float:
    return post.likes + 2.0 * post.reposts + 1.5 * post.replies - 0.5 * post.dislikes


def _post_row(world: World, post: Any) -> contract.Post:
    return {
        "id": post.id,
        "round": post.round,
        "author_id": post.author,
        "author": world.agents[post.author].name,
        "kind": post.kind,
        "text": post.text,
        "stance": r4(post.stance),
        "parent_id": post.parent_id,
        "market_id": post.market_id,
        "likes": post.likes,
        "dislikes": post.dislikes,
        "replies": post.replies,
        "reposts": post.reposts,
    }


def market_curves(worlds: list[World], forecast: contract.Forecast) -> contract.MarketCurvesFile:
    """Replicate 0's curves in full, every replicate's price and belief curves, the forecast and
    the baselines it is compared with."""
    world = worlds[0]
    per_market = forecast["markets"]
    markets: list[contract.Market] = []
    for spec in world.specs:
        market = world.markets[spec.id]
        curve: list[contract.CurvePoint] = [
            {"round": 0, "price_yes": r4(spec.initial_price_yes), "volume_shares": 0.0, "volume_cash": 0.0}
        ]
        for snap, prices in zip(world.snapshots, market.history, strict=True):
            curve.append(
                {
                    "round": snap.round,
                    "price_yes": r4(prices[0]),
                    "volume_shares": r4(snap.volume_shares[spec.id]),
                    "volume_cash": r4(snap.volume_cash[spec.id]),
                }
            )
        markets.append(
            {
                "id": spec.id,
                "question": spec.question,
                "rationale": spec.rationale,
                "resolution": spec.resolution,
                "kind": spec.kind,
                "link": spec.link,
                "initial_price_yes": spec.initial_price_yes,
                "liquidity_b": r4(market.b),
                "subsidy": world.config.market_subsidy,
                "final_price_yes": r4(market.prices()[0]),
                "belief_probability": r4(world.pooled_beliefs()[spec.id]),
                "forecast": per_market[spec.id],
                "total_volume_shares": r4(market.volume_shares),
                "total_volume_cash": r4(market.volume_cash),
                "curve": curve,
            }
        )
    goal_curve: list[contract.GoalPoint] = [
        {"round": s.round, "probability": r4(s.goal_probability), "spread": r4(s.goal_spread)}
        for s in world.snapshots
    ]
    replicate_curves: list[contract.ReplicateCurves] = []
    for w in worlds:
        initial = w.stated[0]
        weights0 = w.confidences[0]
        replicate_curves.append(
            {
                "replicate": w.replicate,
                "prices": {
                    s.id: [r4(s.initial_price_yes), *(r4(h[0]) for h in w.markets[s.id].history)]
                    for s in w.specs
                },
                "beliefs": {
                    s.id: [
                        r4(beliefs.pool([row[k] for row in initial], weights0)),
                        *(r4(snap.beliefs[s.id]) for snap in w.snapshots),
                    ]
                    for k, s in enumerate(w.specs)
                },
            }
        )
    return {
        "rounds": world.round,
        "replicates": len(worlds),
        "forecast": forecast,
        "evidence": world.meta.get("evidence", {}),
        "baselines": baselines(world.specs, world.meta),
        "markets": markets,
        "goal": {**goal_summary(world), "curve": goal_curve},
        "replicate_curves": replicate_curves,
        "events": world.news_rows(),
    }


def agent_trajectories(world: World) -> contract.AgentTrajectoriesFile:
    rounds = len(world.stated)
    ids = world.market_ids
    return {"rounds": list(range(rounds)), "markets": ids, "agents": list(_trajectory_rows(world))}


def _trajectory_rows(world: World) -> Iterator[contract.AgentTrajectory]:
    rounds = len(world.stated)
    ids = world.market_ids
    reasons: dict[int, list[contract.ReasonChange]] = {}
    for r, agent_id, mid, reason in world.reason_log:
        reasons.setdefault(agent_id, []).append({"round": r, "market_id": mid, "reason": reason})
    for a in world.agents:
        yield {
            "agent_id": a.id,
            "name": a.name,
            "entity_id": a.entity_id,
            "position": [r4(2.0 * world.stated[r][a.id][0] - 1.0) for r in range(rounds)],
            "confidence": [world.confidences[r][a.id] for r in range(rounds)],
            "beliefs": {m: [world.stated[r][a.id][k] for r in range(rounds)] for k, m in enumerate(ids)},
            "reasons": reasons.get(a.id, []),
        }


def engagement_summary(
    world: World,
    backend: contract.BackendLabel,
    llm_totals: contract.LlmUsage,
    llm_calls: list[list[Any]],
    replicates: int,
) -> contract.EngagementSummaryFile:
    totals: dict[str, int] = {}
    per_round = []
    for snap in world.snapshots:
        per_round.append({"round": snap.round, **snap.actions})
        for k, v in snap.actions.items():
            totals[k] = totals.get(k, 0) + v
    insufficient = sum(v for k, v in world.rejections.items() if k.endswith(":insufficient_funds"))
    ranked = sorted(world.agents, key=lambda a: (-(a.followers + a.likes_received), a.id))[:10]
    return {
        "backend": backend,
        "replicates": replicates,
        "agents": len(world.agents),
        "rounds": world.round,
        "totals": dict(sorted(totals.items())),
        "posts_by_kind": {k: sum(1 for p in world.posts if p.kind == k) for k in ENGAGEMENT_KINDS},
        "per_round": per_round,
        "rejections": dict(sorted(world.rejections.items())),
        "insufficient_funds": insufficient,
        "failed_turns": world.failed_turns,
        "llm": llm_totals,
        "llm_calls": sorted(llm_calls, key=lambda c: (c[0], c[1], c[2])),
        "top_agents": [
            {
                "agent_id": a.id,
                "name": a.name,
                "followers": a.followers,
                "likes_received": a.likes_received,
                "posts": a.posts,
            }
            for a in ranked
        ],
    }


def top_posts(world: World) -> contract.TopPostsFile:
    ranked = sorted(
        (p for p in world.posts if p.kind != "repost"), key=lambda p: (-engagement_score(p), p.id)
    )[:TOP_POSTS]
    return {"posts": [{**_post_row(world, p), "score": r4(engagement_score(p))} for p in ranked]}


def social_graph(world: World) -> contract.SocialGraphFile:
    nodes: list[contract.GraphNode] = [
        {
            "id": a.id,
            "name": a.name,
            "entity_id": a.entity_id,
            "followers": a.followers,
            "following": len(a.follows),
            "position": r4(2.0 * a.belief.probabilities[world.goal_market] - 1.0),
        }
        for a in world.agents
    ]
    edges: list[contract.FollowEdge] = [
        {"source": a.id, "target": t, "type": "follows"} for a in world.agents for t in sorted(a.follows)
    ]
    return {"nodes": nodes, "edges": edges}


def profiles(world: World) -> contract.ProfilesFile:
    return {"agents": list(_profile_rows(world))}


def _profile_rows(world: World) -> Iterator[contract.Profile]:
    prices = world.prices()
    for a in world.agents:
        value = a.cash + sum(h[0] * prices[m] + h[1] * (1.0 - prices[m]) for m, h in a.holdings.items())
        yield (
            {
                "agent_id": a.id,
                "name": a.name,
                "entity_id": a.entity_id,
                "kind": a.kind,
                "summary": a.summary,
                "enriched_summary": enriched_summary(world, a),
                "traits": {
                    "activity": r4(a.activity),
                    "sociability": r4(a.sociability),
                    "trader": r4(a.trader),
                    "stubbornness": r4(a.stubbornness),
                },
                "initial": {
                    "position": r4(2.0 * world.stated[0][a.id][0] - 1.0),
                    "confidence": world.confidences[0][a.id],
                    "beliefs": dict(zip(world.market_ids, world.stated[0][a.id], strict=True)),
                },
                "final": {
                    "position": r4(2.0 * a.belief.probabilities[world.goal_market] - 1.0),
                    "confidence": r4(a.belief.confidence),
                    "beliefs": {m: r4(p) for m, p in a.belief.probabilities.items()},
                    "reasons": dict(a.belief.reasons),
                },
                "lean": r4(a.lean),
                "cash": r4(a.cash),
                "holdings": {m: {"yes": r4(h[0]), "no": r4(h[1])} for m, h in a.holdings.items()},
                "portfolio_value": r4(value),
                "pnl": r4(value - world.config.initial_cash),
                "stats": {
                    "posts": a.posts,
                    "likes_received": a.likes_received,
                    "dislikes_received": a.dislikes_received,
                    "trades": a.trades,
                    "rejected_actions": a.rejected,
                    "followers": a.followers,
                    "following": len(a.follows),
                },
            }
        )


ChatEntry = contract.ChatNews | contract.ChatThought | contract.ChatPost | contract.ChatTrade


def chat_log(world: World) -> contract.ChatLogFile:
    """Chronological replay: each round's scheduled news first, then (LLM) thoughts, posts, replies,
    reposts, market comments and trades."""
    return {"entries": list(_chat_rows(world))}


def _chat_rows(world: World) -> Iterator[ChatEntry]:
    """The chat log's entries in order of (round, news < thoughts < posts < trades, id): each source
    is already in that order, so they are merged, never all held at once."""
    Keyed = tuple[tuple[int, int, int], Any]
    news: list[Keyed] = sorted(
        (((ev["round"], -1, i), ev) for i, ev in enumerate(world.news_rows())), key=lambda e: e[0]
    )
    thoughts: list[Keyed] = sorted(
        (((r, 0, agent_id), text) for r, rows in world.thoughts.items() for agent_id, text in rows),
        key=lambda e: e[0],
    )
    posts: Iterator[Keyed] = (((p.round, 1, p.id), p) for p in world.posts)
    trades: Iterator[Keyed] = (((t.round, 2, t.id), t) for t in world.trades)
    for (r, source, i), item in heapq.merge(news, thoughts, posts, trades, key=lambda e: e[0]):
        if source == -1:
            yield _news_entry(item)
        elif source == 0:
            yield _thought_entry(world, r, i, item)
        elif source == 1:
            yield _post_entry(world, item)
        else:
            yield _trade_entry(world, item)


def _news_entry(ev: contract.NewsEvent) -> contract.ChatNews:
    return {"kind": "news", **ev}


def _thought_entry(world: World, r: int, agent_id: int, text: str) -> contract.ChatThought:
    return {
        "round": r,
        "kind": "thought",
        "author_id": agent_id,
        "author": world.agents[agent_id].name,
        "entity_id": world.agents[agent_id].entity_id,
        "text": text,
    }


def _post_entry(world: World, p: Post) -> contract.ChatPost:
    row: contract.ChatPost = {
        "round": p.round,
        "kind": p.kind,
        "post_id": p.id,
        "author_id": p.author,
        "author": world.agents[p.author].name,
        "entity_id": world.agents[p.author].entity_id,
        "text": p.text,
        "parent_id": p.parent_id,
        "market_id": p.market_id,
    }
    if p.parent_id is not None:
        row["reply_to_author"] = world.agents[world.posts[p.parent_id].author].name
    return row


def _trade_entry(world: World, t: Trade) -> contract.ChatTrade:
    return {
        "round": t.round,
        "kind": "trade",
        "trade_id": t.id,
        "author_id": t.agent_id,
        "author": world.agents[t.agent_id].name,
        "entity_id": world.agents[t.agent_id].entity_id,
        # `text` stays for readers of older logs; the fields let a reader word it itself
        "text": f"{'bought' if t.side == 'buy' else 'sold'} {t.shares:.2f} "
        f"{t.outcome.upper()} on "
        f"{t.market_id} for {t.cash:.2f} (YES {t.price_before:.3f} -> {t.price_after:.3f})",
        "market_id": t.market_id,
        "side": t.side,
        "outcome": t.outcome,
        "shares": r4(t.shares),
        "cash": r4(t.cash),
        "price_before": r4(t.price_before),
        "price_after": r4(t.price_after),
    }


def _dump_streamed(fixed: Mapping[str, object], key: str, rows: Iterable[object]) -> bytes:
    """The bytes :func:`contract.dump_artifact` gives ``{**fixed, key: list(rows)}`` (sorted keys,
    no spaces), encoding one row at a time instead of holding every row as objects."""
    out = bytearray(b"{")
    for n, name in enumerate(sorted([*fixed, key])):
        out += b"," if n else b""
        out += contract.dump_artifact(name) + b":"
        if name != key:
            out += contract.dump_artifact(fixed[name])
            continue
        out += b"["
        for i, row in enumerate(rows):
            out += b"," if i else b""
            out += contract.dump_artifact(row)
        out += b"]"
    out += b"}"
    return bytes(out)


def relations_file(world: World, relations: list[Relation]) -> contract.RelationsFile:
    names = {e.id: e.name for e in world.entities}
    rows: list[contract.Relation] = [
        {
            "source": r.source,
            "target": r.target,
            "source_name": names[r.source],
            "target_name": names[r.target],
            "type": r.type,
            "weight": r4(r.weight),
            "origin": r.origin,
            "evidence": list(r.evidence),
        }
        for r in relations
    ]
    rows.sort(key=lambda r: (r["origin"], r["source"], r["target"], r["type"]))
    return {"relations": rows}


def build_artifacts(
    worlds: list[World],
    forecast: contract.Forecast,
    relations: list[Relation],
    backend: contract.BackendLabel,
    llm_totals: contract.LlmUsage,
    llm_calls: list[list[Any]],
) -> dict[str, bytes]:
    """All ten artifacts, name -> canonical JSON bytes: replicate 0's posts, trades, agents and
    graph; every replicate's curves and the forecast in ``market_curves.json``."""
    world = worlds[0]
    # Each body is dumped as soon as it is built: at 10k+ agents the posts and the chat log as
    # Python objects take several times their bytes, and only one of them lives at a time.
    builders: dict[str, Callable[[], object]] = {
        "market_curves.json": lambda: market_curves(worlds, forecast),
        "agent_trajectories.json": lambda: _dump_streamed(
            {"rounds": list(range(len(world.stated))), "markets": world.market_ids},
            "agents",
            _trajectory_rows(world),
        ),
        "engagement_summary.json": lambda: engagement_summary(
            world, backend, llm_totals, llm_calls, len(worlds)
        ),
        "top_posts.json": lambda: top_posts(world),
        "posts.json": lambda: _dump_streamed({}, "posts", (_post_row(world, p) for p in world.posts)),
        "trades.json": lambda: {
            "trades": [
                {
                    "id": t.id,
                    "round": t.round,
                    "agent_id": t.agent_id,
                    "market_id": t.market_id,
                    "side": t.side,
                    "outcome": t.outcome,
                    "shares": r4(t.shares),
                    "cash": r4(t.cash),
                    "price_before": r4(t.price_before),
                    "price_after": r4(t.price_after),
                }
                for t in world.trades
            ]
        },
        "social_graph.json": lambda: social_graph(world),
        "profiles.json": lambda: _dump_streamed({}, "agents", _profile_rows(world)),
        "chat_log.json": lambda: _dump_streamed({}, "entries", _chat_rows(world)),
        "relations.json": lambda: relations_file(world, relations),
    }
    assert tuple(builders) == ARTIFACT_NAMES
    out = {}
    for name, build in builders.items():
        body = build()
        out[name] = body if isinstance(body, bytes) else contract.dump_artifact(body)
    return out
