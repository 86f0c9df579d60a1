"""The run artifacts the report is computed from, parsed and checked (pure: no I/O here).

The engine's JSON shapes are documented in docs/artifacts.md. The reporter reads eight of the ten
files; `chat_log.json` and `relations.json` add nothing the others do not already carry. Parsing
checks every field the facts use, so a corrupt or truncated artifact becomes one clear
`ArtifactError` (a permanent failure: retrying cannot fix the bytes) instead of a KeyError deep in
the fact computation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# What the reporter reads, in the order it reads them.
REQUIRED_ARTIFACTS: tuple[str, ...] = (
    "market_curves.json",
    "agent_trajectories.json",
    "engagement_summary.json",
    "top_posts.json",
    "posts.json",
    "trades.json",
    "social_graph.json",
    "profiles.json",
)


class ArtifactError(Exception):
    """An artifact is missing, not JSON, or lacks a field the report needs (permanent)."""


@dataclass(frozen=True)
class RunArtifacts:
    """The parsed artifacts of one run; lists keep the engine's order (ids ascending)."""

    market_curves: dict[str, Any]
    trajectories: dict[str, Any]
    engagement: dict[str, Any]
    top_posts: list[dict[str, Any]]
    posts: list[dict[str, Any]]
    trades: list[dict[str, Any]]
    social_graph: dict[str, Any]
    profiles: list[dict[str, Any]]

    @property
    def rounds(self) -> int:
        return int(self.market_curves["rounds"])

    @property
    def markets(self) -> list[dict[str, Any]]:
        return list(self.market_curves["markets"])

    @property
    def goal(self) -> dict[str, Any]:
        return dict(self.market_curves["goal"])

    @property
    def agents(self) -> list[dict[str, Any]]:
        return list(self.trajectories["agents"])

    @property
    def forecast(self) -> dict[str, Any]:
        """The forecast over all replicates (docs/forecasting.md §4), checked by `parse_artifacts`."""
        return dict(self.market_curves["forecast"])

    @property
    def evidence(self) -> dict[str, Any] | None:
        """What the engine read from the seed; None for artifacts written before it recorded this."""
        evidence = self.market_curves.get("evidence")
        return dict(evidence) if isinstance(evidence, Mapping) else None

    @property
    def baselines(self) -> dict[str, Any] | None:
        """What the forecast is compared with (opening price, a single forecast without simulation);
        None for artifacts written before the engine recorded them."""
        baselines = self.market_curves.get("baselines")
        return dict(baselines) if isinstance(baselines, Mapping) else None

    @property
    def replicates(self) -> int:
        return int(self.market_curves["forecast"]["goal"]["replicates"])


def _load(name: str, raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ArtifactError(f"{name} is not valid JSON: {exc}") from None


def _need(obj: Any, name: str, where: str, fields: tuple[str, ...]) -> None:
    if not isinstance(obj, Mapping):
        raise ArtifactError(f"{name}: {where} is not an object")
    missing = [f for f in fields if f not in obj]
    if missing:
        raise ArtifactError(f"{name}: {where} lacks {', '.join(missing)}")


def _list(obj: Any, name: str, key: str) -> list[dict[str, Any]]:
    _need(obj, name, "the top level", (key,))
    value = obj[key]
    if not isinstance(value, list):
        raise ArtifactError(f"{name}: {key} is not a list")
    return value


def _number(value: Any, name: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ArtifactError(f"{name}: {what} is not a finite number")
    return float(value)


def _probability(value: Any, name: str, what: str) -> float:
    p = _number(value, name, what)
    if not 0.0 <= p <= 1.0:
        raise ArtifactError(f"{name}: {what} ({p}) is outside [0, 1]")
    return p


def _check_estimate(obj: Any, name: str, where: str) -> None:
    """One market's forecast: probability, an interval [low, high] around it, market, belief."""
    _need(obj, name, where, ("probability", "interval", "market", "belief"))
    for key in ("probability", "market", "belief"):
        _probability(obj[key], name, f"{where} {key}")
    interval = obj["interval"]
    if not isinstance(interval, list) or len(interval) != 2:
        raise ArtifactError(f"{name}: {where} interval is not a [low, high] pair")
    low = _probability(interval[0], name, f"{where} interval low")
    high = _probability(interval[1], name, f"{where} interval high")
    if low > high:
        raise ArtifactError(f"{name}: {where} interval [{low}, {high}] is upside down")


def _check_forecast(curves: Mapping[str, Any], name: str, market_ids: list[str]) -> None:
    if "forecast" not in curves:
        # Written by an engine from before replicates and intervals: no headline to report.
        raise ArtifactError(f"{name} lacks forecast (the run predates the forecast with an interval)")
    forecast = curves["forecast"]
    _need(forecast, name, "forecast", ("goal", "markets", "method"))
    goal = forecast["goal"]
    _need(goal, name, "forecast.goal", ("market_id", "level", "replicates"))
    _check_estimate(goal, name, "forecast.goal")
    if goal["market_id"] != market_ids[0]:
        raise ArtifactError(
            f"{name}: forecast.goal is about {goal['market_id']}, not the goal {market_ids[0]}"
        )
    if not 0.0 < _number(goal["level"], name, "forecast.goal level") < 1.0:
        raise ArtifactError(f"{name}: forecast.goal level is not within (0, 1)")
    replicates = goal["replicates"]
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise ArtifactError(f"{name}: forecast.goal replicates is not a positive integer")
    markets = forecast["markets"]
    if not isinstance(markets, Mapping):
        raise ArtifactError(f"{name}: forecast.markets is not an object")
    missing = [m for m in market_ids if m not in markets]
    if missing:
        raise ArtifactError(f"{name}: forecast.markets lacks {', '.join(missing)}")
    for market_id in market_ids:
        _check_estimate(markets[market_id], name, f"forecast.markets.{market_id}")
    if not isinstance(forecast["method"], str):
        raise ArtifactError(f"{name}: forecast.method is not a sentence")


def _check_evidence(evidence: Any, name: str) -> None:
    _need(evidence, name, "evidence", ("prior", "stakeholders", "low_evidence", "items"))
    _probability(evidence["prior"], name, "evidence prior")
    if not isinstance(evidence["items"], list):
        raise ArtifactError(f"{name}: evidence items is not a list")
    for item in evidence["items"]:
        _need(item, name, "an evidence item", ("kind", "text", "weight"))


def _check_baselines(baselines: Any, name: str) -> None:
    _need(baselines, name, "baselines", ("opening_price", "direct"))
    _probability(baselines["opening_price"], name, "baselines opening_price")
    direct = baselines["direct"]
    if direct is None:  # a run checkpointed before the engine recorded it, then resumed
        return
    _need(direct, name, "baselines.direct", ("probability", "source"))
    if not isinstance(direct["source"], str):
        raise ArtifactError(f"{name}: baselines.direct source is not a string")
    if direct["probability"] is None:
        if not isinstance(direct.get("error"), str):
            raise ArtifactError(f"{name}: baselines.direct has no probability and no error")
        return
    _probability(direct["probability"], name, "baselines.direct probability")
    if not isinstance(direct.get("reason", ""), str):
        raise ArtifactError(f"{name}: baselines.direct reason is not a string")


def parse_artifacts(raw: Mapping[str, bytes]) -> RunArtifacts:
    """Parses and checks the artifacts; raises `ArtifactError` naming the file and the problem."""
    missing = [n for n in REQUIRED_ARTIFACTS if n not in raw]
    if missing:
        raise ArtifactError(f"missing artifacts: {', '.join(missing)}")
    data = {name: _load(name, raw[name]) for name in REQUIRED_ARTIFACTS}

    name = "market_curves.json"
    curves = data[name]
    _need(curves, name, "the top level", ("rounds", "markets", "goal"))
    rounds = curves["rounds"]
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 0:
        raise ArtifactError(f"{name}: rounds is not a non-negative integer")
    markets = _list(curves, name, "markets")
    if not markets:
        raise ArtifactError(f"{name}: no markets")
    for i, market in enumerate(markets):
        _need(
            market,
            name,
            f"market {i}",
            ("id", "question", "initial_price_yes", "final_price_yes", "belief_probability",
             "total_volume_shares", "total_volume_cash", "curve"),
        )  # fmt: skip
        curve = market["curve"]
        if not isinstance(curve, list) or len(curve) != rounds + 1:
            raise ArtifactError(f"{name}: market {market['id']} curve does not hold rounds 0..{rounds}")
        for point in curve:
            _need(point, name, f"a curve point of {market['id']}", ("round", "price_yes", "volume_cash"))
            price = _number(point["price_yes"], name, f"a price of {market['id']}")
            if not 0.0 <= price <= 1.0:
                raise ArtifactError(f"{name}: price {price} of {market['id']} is outside [0, 1]")
        _number(market["final_price_yes"], name, f"final_price_yes of {market['id']}")
    _need(
        curves["goal"], name, "goal", ("question", "belief_probability", "spread", "market_probability",
                                       "p10", "p50", "p90")
    )  # fmt: skip
    _check_forecast(curves, name, [str(m["id"]) for m in markets])
    if curves.get("evidence") is not None:  # absent only in artifacts older than the evidence reader
        _check_evidence(curves["evidence"], name)
    if curves.get("baselines") is not None:  # absent in artifacts older than the baselines
        _check_baselines(curves["baselines"], name)

    name = "agent_trajectories.json"
    agents = _list(data[name], name, "agents")
    for agent in agents:
        _need(agent, name, "an agent", ("agent_id", "name", "entity_id", "position", "confidence"))
        if len(agent["position"]) != rounds + 1 or len(agent["confidence"]) != rounds + 1:
            raise ArtifactError(f"{name}: agent {agent['agent_id']} does not hold rounds 0..{rounds}")

    name = "posts.json"
    posts = _list(data[name], name, "posts")
    for post in posts:
        _need(post, name, "a post", ("id", "round", "author_id", "author", "kind", "text", "stance",
                                     "likes", "dislikes", "replies", "reposts"))  # fmt: skip
    name = "trades.json"
    trades = _list(data[name], name, "trades")
    for trade in trades:
        _need(trade, name, "a trade", ("id", "round", "agent_id", "market_id", "side", "outcome", "shares",
                                       "cash", "price_before", "price_after"))  # fmt: skip
    name = "top_posts.json"
    top_posts = _list(data[name], name, "posts")
    name = "social_graph.json"
    graph = data[name]
    _need(graph, name, "the top level", ("nodes", "edges"))
    for node in graph["nodes"]:
        _need(node, name, "a node", ("id", "name", "followers", "position"))
    for edge in graph["edges"]:
        _need(edge, name, "an edge", ("source", "target"))
    name = "profiles.json"
    profiles = _list(data[name], name, "agents")
    for profile in profiles:
        _need(profile, name, "a profile", ("agent_id", "name", "entity_id", "kind", "initial", "final",
                                           "holdings", "pnl", "stats"))  # fmt: skip
    name = "engagement_summary.json"
    engagement = data[name]
    _need(engagement, name, "the top level", ("backend",))
    return RunArtifacts(
        market_curves=curves,
        trajectories=data["agent_trajectories.json"],
        engagement=engagement,
        top_posts=top_posts,
        posts=posts,
        trades=trades,
        social_graph=graph,
        profiles=profiles,
    )
