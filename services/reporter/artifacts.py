"""The run artifacts the report is computed from, parsed and checked (pure: no I/O here).

The files and their shapes are the typed contract of `services.common.artifacts` (what they mean:
docs/artifacts.md). The reporter reads eight of the ten files; `chat_log.json` and
`relations.json` add nothing the others do not already carry. Parsing checks every field the facts
use, so a corrupt or truncated artifact becomes one clear `ArtifactError` (a permanent failure:
retrying cannot fix the bytes) instead of a KeyError deep in the fact computation; what passes is
handed on as the contract's types.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.common.artifacts import (
    ARTIFACT_NAMES,
    AgentTrajectoriesFile,
    AgentTrajectory,
    ArtifactError,
    Baselines,
    CurvePoint,
    DirectForecast,
    EngagementSummaryFile,
    Evidence,
    EvidenceFact,
    FollowEdge,
    Forecast,
    Goal,
    GoalForecast,
    GraphNode,
    Market,
    MarketCurvesFile,
    MarketForecast,
    Post,
    Profile,
    SocialGraphFile,
    TopPost,
    Trade,
    load_artifact,
)

__all__ = [
    "NEEDED",
    "PARENT_ARTIFACTS",
    "REQUIRED_ARTIFACTS",
    "ArtifactError",
    "ParentArtifacts",
    "RunArtifacts",
    "parse_artifacts",
    "parse_parent_artifacts",
]

# What the reporter reads, in the order the runner writes them.
REQUIRED_ARTIFACTS: tuple[str, ...] = tuple(
    name for name in ARTIFACT_NAMES if name not in ("chat_log.json", "relations.json")
)

# What a what-if branch's report reads of its parent: the forecast, the news and the final beliefs.
PARENT_ARTIFACTS: tuple[str, ...] = ("market_curves.json", "agent_trajectories.json")

# The fields the facts rely on, per record type of the contract (the tests keep each a field of it).
# fmt: off
NEEDED: dict[object, tuple[str, ...]] = {
    MarketCurvesFile: ("rounds", "markets", "goal"),
    Market: ("id", "question", "initial_price_yes", "final_price_yes", "belief_probability",
             "total_volume_shares", "total_volume_cash", "curve"),
    CurvePoint: ("round", "price_yes", "volume_cash"),
    Goal: ("question", "belief_probability", "spread", "market_probability", "p10", "p50", "p90"),
    Forecast: ("goal", "markets", "method"),
    GoalForecast: ("market_id", "level", "replicates"),
    MarketForecast: ("probability", "interval", "market", "belief"),
    Evidence: ("prior", "stakeholders", "low_evidence", "items"),
    EvidenceFact: ("kind", "text", "weight"),
    Baselines: ("opening_price", "direct"),
    DirectForecast: ("probability", "source"),
    AgentTrajectory: ("agent_id", "name", "entity_id", "position", "confidence"),
    Post: ("id", "round", "author_id", "author", "kind", "text", "stance", "likes", "dislikes",
           "replies", "reposts"),
    Trade: ("id", "round", "agent_id", "market_id", "side", "outcome", "shares", "cash",
            "price_before", "price_after"),
    SocialGraphFile: ("nodes", "edges"),
    GraphNode: ("id", "name", "followers", "position"),
    FollowEdge: ("source", "target"),
    Profile: ("agent_id", "name", "entity_id", "kind", "initial", "final", "holdings", "pnl", "stats"),
    EngagementSummaryFile: ("backend",),
}
# One scheduled event in market_curves.json → events (docs/artifacts.md).
NEWS_FIELDS: tuple[str, ...] = ("round", "day", "headline")

# fmt: on


@dataclass(frozen=True)
class ParentArtifacts:
    """A run's market curves and belief trajectories: what every reading of a run starts from, and
    all a what-if branch's report reads of its parent."""

    market_curves: MarketCurvesFile
    trajectories: AgentTrajectoriesFile

    @property
    def rounds(self) -> int:
        return int(self.market_curves["rounds"])

    @property
    def agents(self) -> list[AgentTrajectory]:
        return list(self.trajectories["agents"])

    @property
    def forecast(self) -> Forecast:
        """The forecast over all replicates (docs/forecasting.md §4), checked by `parse_artifacts`."""
        return self.market_curves["forecast"].copy()

    @property
    def events(self) -> list[dict[str, Any]]:
        """The scheduled events the run played (round, day, headline, text, favours); empty for
        artifacts written before scheduled events, which had none."""
        return [dict(ev) for ev in self.market_curves.get("events") or ()]


@dataclass(frozen=True)
class RunArtifacts(ParentArtifacts):
    """The parsed artifacts of one run; lists keep the engine's order (ids ascending)."""

    engagement: EngagementSummaryFile
    top_posts: list[TopPost]
    posts: list[Post]
    trades: list[Trade]
    social_graph: SocialGraphFile
    profiles: list[Profile]

    @property
    def markets(self) -> list[Market]:
        return list(self.market_curves["markets"])

    @property
    def goal(self) -> Goal:
        return self.market_curves["goal"].copy()

    @property
    def evidence(self) -> Evidence | None:
        """What the engine read from the seed; None for artifacts written before it recorded this."""
        evidence = self.market_curves.get("evidence")
        return evidence.copy() if isinstance(evidence, Mapping) else None

    @property
    def baselines(self) -> Baselines | None:
        """What the forecast is compared with (opening price, a single forecast without simulation);
        None for artifacts written before the engine recorded them."""
        baselines = self.market_curves.get("baselines")
        return baselines.copy() if isinstance(baselines, Mapping) else None

    @property
    def replicates(self) -> int:
        return int(self.market_curves["forecast"]["goal"]["replicates"])


def _need(obj: Any, name: str, where: str, fields: tuple[str, ...]) -> None:
    if not isinstance(obj, Mapping):
        raise ArtifactError(f"{name}: {where} is not an object")
    missing = [f for f in fields if f not in obj]
    if missing:
        raise ArtifactError(f"{name}: {where} lacks {', '.join(missing)}")


def _list(obj: Any, name: str, key: str) -> list[Any]:
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
    _need(obj, name, where, NEEDED[MarketForecast])
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
    _need(forecast, name, "forecast", NEEDED[Forecast])
    goal = forecast["goal"]
    _need(goal, name, "forecast.goal", NEEDED[GoalForecast])
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
    _need(evidence, name, "evidence", NEEDED[Evidence])
    _probability(evidence["prior"], name, "evidence prior")
    if not isinstance(evidence["items"], list):
        raise ArtifactError(f"{name}: evidence items is not a list")
    for item in evidence["items"]:
        _need(item, name, "an evidence item", NEEDED[EvidenceFact])


def _check_baselines(baselines: Any, name: str) -> None:
    _need(baselines, name, "baselines", NEEDED[Baselines])
    _probability(baselines["opening_price"], name, "baselines opening_price")
    direct = baselines["direct"]
    if direct is None:  # a run checkpointed before the engine recorded it, then resumed
        return
    _need(direct, name, "baselines.direct", NEEDED[DirectForecast])
    if not isinstance(direct["source"], str):
        raise ArtifactError(f"{name}: baselines.direct source is not a string")
    if direct["probability"] is None:
        if not isinstance(direct.get("error"), str):
            raise ArtifactError(f"{name}: baselines.direct has no probability and no error")
        return
    _probability(direct["probability"], name, "baselines.direct probability")
    if not isinstance(direct.get("reason", ""), str):
        raise ArtifactError(f"{name}: baselines.direct reason is not a string")


def _check_events(events: Any, name: str, rounds: int) -> None:
    if not isinstance(events, list):
        raise ArtifactError(f"{name}: events is not a list")
    for i, event in enumerate(events, start=1):
        _need(event, name, f"event {i}", NEWS_FIELDS)
        round_no = event["round"]
        if isinstance(round_no, bool) or not isinstance(round_no, int) or not 1 <= round_no <= max(rounds, 1):
            raise ArtifactError(f"{name}: event {i} round is not within 1..{rounds}")
        _number(event["day"], name, f"event {i} day")
        if not isinstance(event["headline"], str) or not isinstance(event.get("text", ""), str):
            raise ArtifactError(f"{name}: event {i} headline or text is not a string")
        if event.get("favours", "") not in ("yes", "no", ""):
            raise ArtifactError(f"{name}: event {i} favours is not yes, no or empty")


def _check_curves(curves: Any) -> MarketCurvesFile:
    """market_curves.json: rounds, markets with a curve per round, the goal, the forecast and the
    optional evidence, baselines and events."""
    name = "market_curves.json"
    _need(curves, name, "the top level", NEEDED[MarketCurvesFile])
    rounds = curves["rounds"]
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 0:
        raise ArtifactError(f"{name}: rounds is not a non-negative integer")
    markets = _list(curves, name, "markets")
    if not markets:
        raise ArtifactError(f"{name}: no markets")
    for i, market in enumerate(markets):
        _need(market, name, f"market {i}", NEEDED[Market])
        curve = market["curve"]
        if not isinstance(curve, list) or len(curve) != rounds + 1:
            raise ArtifactError(f"{name}: market {market['id']} curve does not hold rounds 0..{rounds}")
        for point in curve:
            _need(point, name, f"a curve point of {market['id']}", NEEDED[CurvePoint])
            price = _number(point["price_yes"], name, f"a price of {market['id']}")
            if not 0.0 <= price <= 1.0:
                raise ArtifactError(f"{name}: price {price} of {market['id']} is outside [0, 1]")
        _number(market["final_price_yes"], name, f"final_price_yes of {market['id']}")
    _need(curves["goal"], name, "goal", NEEDED[Goal])
    _check_forecast(curves, name, [str(m["id"]) for m in markets])
    if curves.get("evidence") is not None:  # absent only in artifacts older than the evidence reader
        _check_evidence(curves["evidence"], name)
    if curves.get("baselines") is not None:  # absent in artifacts older than the baselines
        _check_baselines(curves["baselines"], name)
    if curves.get("events") is not None:  # absent in artifacts older than scheduled events
        _check_events(curves["events"], name, rounds)
    result: MarketCurvesFile = curves
    return result


def _check_agents(trajectories: Any, rounds: int) -> AgentTrajectoriesFile:
    """agent_trajectories.json: every agent with a position and confidence per round 0..rounds."""
    name = "agent_trajectories.json"
    agents = _list(trajectories, name, "agents")
    for agent in agents:
        _need(agent, name, "an agent", NEEDED[AgentTrajectory])
        if len(agent["position"]) != rounds + 1 or len(agent["confidence"]) != rounds + 1:
            raise ArtifactError(f"{name}: agent {agent['agent_id']} does not hold rounds 0..{rounds}")
    result: AgentTrajectoriesFile = trajectories
    return result


def parse_artifacts(raw: Mapping[str, bytes]) -> RunArtifacts:
    """Parses and checks the artifacts; raises `ArtifactError` naming the file and the problem."""
    missing = [n for n in REQUIRED_ARTIFACTS if n not in raw]
    if missing:
        raise ArtifactError(f"missing artifacts: {', '.join(missing)}")
    data = {name: load_artifact(name, raw[name]) for name in REQUIRED_ARTIFACTS}

    curves = _check_curves(data["market_curves.json"])
    rounds = int(curves["rounds"])
    _check_agents(data["agent_trajectories.json"], rounds)

    name = "posts.json"
    posts = _list(data[name], name, "posts")
    for post in posts:
        _need(post, name, "a post", NEEDED[Post])
    name = "trades.json"
    trades = _list(data[name], name, "trades")
    for trade in trades:
        _need(trade, name, "a trade", NEEDED[Trade])
    name = "top_posts.json"
    top_posts = _list(data[name], name, "posts")
    name = "social_graph.json"
    graph = data[name]
    _need(graph, name, "the top level", NEEDED[SocialGraphFile])
    for node in graph["nodes"]:
        _need(node, name, "a node", NEEDED[GraphNode])
    for edge in graph["edges"]:
        _need(edge, name, "an edge", NEEDED[FollowEdge])
    name = "profiles.json"
    profiles = _list(data[name], name, "agents")
    for profile in profiles:
        _need(profile, name, "a profile", NEEDED[Profile])
    name = "engagement_summary.json"
    engagement = data[name]
    _need(engagement, name, "the top level", NEEDED[EngagementSummaryFile])
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


def parse_parent_artifacts(raw: Mapping[str, bytes]) -> ParentArtifacts:
    """The parent's market_curves.json and agent_trajectories.json, checked as `parse_artifacts`
    checks them; raises `ArtifactError`."""
    missing = [n for n in PARENT_ARTIFACTS if n not in raw]
    if missing:
        raise ArtifactError(f"missing artifacts: {', '.join(missing)}")
    curves = _check_curves(load_artifact("market_curves.json", raw["market_curves.json"]))
    agents = _check_agents(
        load_artifact("agent_trajectories.json", raw["agent_trajectories.json"]), int(curves["rounds"])
    )
    return ParentArtifacts(market_curves=curves, trajectories=agents)
