"""The run being reported on: what the runner adds to its artifacts (`RunContext`), indexes over
its artifacts that every fact builder shares (`RunIndex`), and the facts about the run itself -
the backend that drove its agents and its scale.

Posts, trades, agents and curves are replicate 0's, the run the report quotes. Lookups that may
miss (an agent without a profile or a node in the social graph) fall back to neutral values here,
once, instead of in every builder.
"""

from __future__ import annotations

import typing
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from services.reporter.artifacts import RunArtifacts

from .conventions import (
    CAMPS,
    DEFAULT_FORECAST_DAYS,
    camp_of,
    post_score,
    probability,
    r4,
    round_day,
    weighted_goal,
)

# One record of an artifact (a post, trade, profile, graph node) as the builders read it: by key,
# defensively where a field may be missing.
Row: TypeAlias = Mapping[str, Any]
_Fact = TypeVar("_Fact")
_PLAIN_TYPES = (int, float, str, bool)


def _plain_fields(cls: type) -> dict[str, Callable[[Any], Any]]:
    """The fields of dataclass ``cls`` declared int, float, str or bool, by name, with that type."""
    return {name: hint for name, hint in typing.get_type_hints(cls).items() if hint in _PLAIN_TYPES}


def from_row(cls: type[_Fact], row: Row, **computed: Any) -> _Fact:
    """A ``cls`` fact whose plain fields (int, float, str, bool) are copied from the same keys of
    ``row``, cast to their declared type; every other field is given in ``computed``."""
    copied = {name: cast(row[name]) for name, cast in _plain_fields(cls).items() if name not in computed}
    return cls(**copied, **computed)


@dataclass(frozen=True)
class RunContext:
    """What the runner.completed event adds to the artifacts."""

    job_id: int
    run_id: str
    goal: str
    forecast_days: int


@dataclass(frozen=True)
class BackendInfo:
    """The backend that drove the agents (engagement_summary.json → backend)."""

    name: str
    model: str
    heuristic: bool


@dataclass(frozen=True)
class Scale:
    """How big the run was: agents, rounds and horizon, activity and volume, failures."""

    agents: int
    entities: int
    rounds: int
    forecast_days: int
    days_per_round: float
    posts: int
    trades: int
    markets: int
    volume_cash: float
    volume_shares: float
    posts_by_kind: dict[str, int]
    failed_turns: int
    rejected_actions: int
    replicates: int


class RunIndex:
    """Indexes over one run's artifacts, built once and shared by the fact builders."""

    def __init__(self, art: RunArtifacts, ctx: RunContext) -> None:
        self.art = art
        self.ctx = ctx
        self.rounds = art.rounds
        self.days = ctx.forecast_days if ctx.forecast_days > 0 else DEFAULT_FORECAST_DAYS
        self.posts = art.posts
        self.trades = art.trades
        self.agents = art.agents
        self.names = {int(a["agent_id"]): str(a["name"]) for a in self.agents}
        self.positions = {int(a["agent_id"]): [float(x) for x in a["position"]] for a in self.agents}
        self.confidences = {int(a["agent_id"]): [float(x) for x in a["confidence"]] for a in self.agents}
        self.profiles: dict[int, Row] = {int(p["agent_id"]): p for p in art.profiles}
        self.nodes: dict[int, Row] = {int(n["id"]): n for n in art.social_graph["nodes"]}
        self.follows: list[tuple[int, int]] = [
            (int(e["source"]), int(e["target"])) for e in art.social_graph["edges"]
        ]
        self.scores = {int(p["id"]): post_score(p) for p in self.posts}
        self.post_by_id = {int(p["id"]): p for p in self.posts}
        self.trade_by_id = {int(t["id"]): t for t in self.trades}
        self.posts_by_author: dict[int, list[Row]] = defaultdict(list)
        for post in self.posts:
            self.posts_by_author[int(post["author_id"])].append(post)
        self.trades_by_agent: dict[int, list[Row]] = defaultdict(list)
        for trade in self.trades:
            self.trades_by_agent[int(trade["agent_id"])].append(trade)
        self.goal_market_id = str(art.markets[0]["id"])

    def day(self, r: float) -> float:
        return r4(round_day(r, self.rounds, self.days))

    def name(self, agent_id: int) -> str:
        return self.names.get(agent_id, f"agent {agent_id}")

    def stats(self, agent_id: int) -> Row:
        """The agent's profile stats (posts, trades, likes received, ...); empty when it has none."""
        return self.profiles.get(agent_id, {}).get("stats") or {}

    def followers(self, agent_id: int, default: int = 0) -> int:
        """The agent's follower count in the social graph (``default`` when the graph lacks it)."""
        return int(self.nodes.get(agent_id, {}).get("followers", default))

    def prob_at(self, agent_id: int, k: int) -> float:
        return probability(self.positions[agent_id][k])

    def goal_at(self, k: int) -> tuple[float, float]:
        ids = sorted(self.positions)
        return weighted_goal([self.positions[i][k] for i in ids], [self.confidences[i][k] for i in ids])

    def camps_at(self, k: int) -> dict[str, int]:
        counts = dict.fromkeys(CAMPS, 0)
        for agent_id in self.positions:
            counts[camp_of(self.prob_at(agent_id, k))] += 1
        return counts

    def price_at(self, market_id: str, k: int) -> float:
        market = next(m for m in self.art.markets if m["id"] == market_id)
        return float(market["curve"][k]["price_yes"])

    def best_first(self, posts: Iterable[Row]) -> list[Row]:
        """Posts by engagement score, best first (the lower id first on ties, so the order is stable)."""
        return sorted(posts, key=lambda p: (-self.scores[int(p["id"])], int(p["id"])))

    def top_posts_of(self, author_ids: Iterable[int], n: int, rounds: range | None = None) -> list[int]:
        """Ids of the `n` best-scored original posts (no reposts) by these authors."""
        pool = [
            p
            for a in author_ids
            for p in self.posts_by_author.get(a, ())
            if p["kind"] != "repost" and (rounds is None or int(p["round"]) in rounds)
        ]
        return [int(p["id"]) for p in self.best_first(pool)[:n]]

    def top_trades(self, trades: Iterable[Row], n: int) -> list[int]:
        ranked = sorted(trades, key=lambda t: (-float(t["cash"]), int(t["id"])))
        return [int(t["id"]) for t in ranked[:n]]


def backend_info(art: RunArtifacts) -> BackendInfo:
    raw: Row = art.engagement.get("backend") or {}
    return BackendInfo(
        name=str(raw.get("name", "unknown")),
        model=str(raw.get("model", "")),
        heuristic=bool(raw.get("heuristic", False)),
    )


def scale(run: RunIndex, entities: int) -> Scale:
    """The run's scale; ``entities`` is how many stakeholders the seed named."""
    art = run.art
    engagement = art.engagement
    kinds: dict[str, int] = defaultdict(int)
    for post in run.posts:
        kinds[str(post["kind"])] += 1
    return Scale(
        agents=len(run.agents),
        entities=entities,
        rounds=run.rounds,
        forecast_days=run.days,
        days_per_round=r4(run.days / run.rounds) if run.rounds else 0.0,
        posts=len(run.posts),
        trades=len(run.trades),
        markets=len(art.markets),
        volume_cash=r4(sum(float(m["total_volume_cash"]) for m in art.markets)),
        volume_shares=r4(sum(float(m["total_volume_shares"]) for m in art.markets)),
        posts_by_kind=dict(sorted(kinds.items())),
        failed_turns=len(engagement.get("failed_turns") or ()),
        rejected_actions=int(sum((engagement.get("rejections") or {}).values())),
        replicates=art.replicates,
    )
