"""A what-if branch against its parent: the news injected after the branch round, the goal's
forecast before (the parent's) and after (this run's) with their intervals and the move, each
market's forecast before and after, and the camps at the end of the parent against the end of
the branch.

"Before" comes from the parent's recorded forecast (`BranchSource.parent_forecast`, the parent's
result_structured "forecast"); the parent's artifacts add the camps and tell the parent's own
news from the injected. Without them (the parent was deleted) the forecasts are still compared
and the camps give only the branch's side.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.reporter.artifacts import ParentArtifacts

from .conventions import CAMPS, camp_of, probability, r4
from .events import NewsEvent
from .forecast import ForecastFacts
from .markets import MarketFacts


@dataclass(frozen=True)
class BranchOrigin:
    """What runner.completed says about a branch (events_pb2.BranchSource, as plain data)."""

    parent_job_id: int
    round: int
    # The parent's result_structured "forecast" ({} when the jobs service had none).
    parent_forecast: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ForecastPoint:
    probability: float
    interval: list[float]
    level: float


@dataclass(frozen=True)
class MarketShift:
    market_id: str
    # None when neither the parent's forecast nor its artifacts give this market.
    before: float | None
    after: float


@dataclass(frozen=True)
class CampShift:
    camp: str
    # None when the parent's artifacts are gone.
    before_agents: int | None
    after_agents: int
    # Mean goal probability of the camp's agents; None for an empty camp or an unknown parent.
    before_mean: float | None
    after_mean: float | None


@dataclass(frozen=True)
class BranchFacts:
    parent_job_id: int
    round: int
    # The day of the horizon on which the branch round ends (the parent's state it starts from).
    round_day: float
    # The news injected into the branch (the parent's own scheduled news left out when known).
    events: list[NewsEvent]
    # The goal's forecast before (the parent's; None when nothing recorded it) and after.
    before: ForecastPoint | None
    after: ForecastPoint
    # after - before, None without a before.
    delta: float | None
    markets: list[MarketShift]
    camps: list[CampShift]
    # Whether the parent's artifacts were read (camps before, the parent's own news).
    parent_artifacts: bool


def _point(raw: Any) -> ForecastPoint | None:
    """A goal forecast {probability, interval, level} from a recorded forecast, or None."""
    if not isinstance(raw, Mapping):
        return None
    p, interval = raw.get("probability"), raw.get("interval")
    if not isinstance(p, int | float) or not isinstance(interval, list | tuple) or len(interval) != 2:
        return None
    level = raw.get("level", 0.8)
    return ForecastPoint(
        probability=r4(p),
        interval=[r4(interval[0]), r4(interval[1])],
        level=float(level) if isinstance(level, int | float) else 0.8,
    )


def _market_before(
    recorded: Mapping[str, Any], parent: ParentArtifacts | None, market_id: str
) -> float | None:
    sources: list[Mapping[str, Any]] = [recorded]
    if parent is not None:
        sources.append(parent.forecast)
    for source in sources:
        markets = source.get("markets")
        if isinstance(markets, Mapping):
            entry = markets.get(market_id)
            if isinstance(entry, Mapping) and isinstance(entry.get("probability"), int | float):
                return r4(entry["probability"])
    return None


def _news_key(raw: Mapping[str, Any]) -> tuple[int, int, str, str, str]:
    """The parent's news as `NewsEvent.key` reads it."""
    return (
        int(raw["round"]),
        int(raw["day"]),
        str(raw["headline"]),
        str(raw.get("text", "")),
        str(raw.get("favours", "")),
    )


def camp_standing(final_positions: Iterable[float]) -> dict[str, tuple[int, float | None]]:
    """Camp -> (agents, mean goal probability) of agents at these final positions."""
    members: dict[str, list[float]] = {c: [] for c in CAMPS}
    for position in final_positions:
        p = probability(position)
        members[camp_of(p)].append(p)
    return {c: (len(ps), r4(sum(ps) / len(ps)) if ps else None) for c, ps in members.items()}


def branch_facts(
    origin: BranchOrigin,
    parent: ParentArtifacts | None,
    *,
    forecast: ForecastFacts,
    markets: list[MarketFacts],
    final_positions: Iterable[float],
    events: list[NewsEvent],
    round_day: float,
) -> BranchFacts:
    """The comparison of a branch (this run's forecast, markets, final positions and news) with
    its parent."""
    recorded = origin.parent_forecast
    before = _point(recorded.get("goal")) or (_point(parent.forecast["goal"]) if parent is not None else None)
    after = ForecastPoint(
        probability=forecast.probability, interval=list(forecast.interval), level=forecast.level
    )
    parent_news = {_news_key(e) for e in parent.events} if parent is not None else set()
    injected = [ev for ev in events if ev.round > origin.round and ev.key() not in parent_news]
    after_camps = camp_standing(final_positions)
    before_camps = (
        camp_standing(float(a["position"][-1]) for a in parent.agents) if parent is not None else None
    )
    camps = [
        CampShift(
            camp=camp,
            before_agents=before_camps[camp][0] if before_camps is not None else None,
            after_agents=after_camps[camp][0],
            before_mean=before_camps[camp][1] if before_camps is not None else None,
            after_mean=after_camps[camp][1],
        )
        for camp in CAMPS
    ]
    return BranchFacts(
        parent_job_id=origin.parent_job_id,
        round=origin.round,
        round_day=round_day,
        events=injected,
        before=before,
        after=after,
        delta=r4(after.probability - before.probability) if before is not None else None,
        markets=[
            MarketShift(market_id=m.id, before=_market_before(recorded, parent, m.id), after=m.probability)
            for m in markets
        ],
        camps=camps,
        parent_artifacts=parent is not None,
    )


def parent_missing_note(branch: BranchFacts) -> str:
    """What the report says when the parent's artifacts are gone."""
    known = (
        "the forecast before comes from the parent's recorded forecast"
        if branch.before is not None
        else "no forecast of the parent was recorded either, so only this branch's numbers are shown"
    )
    return (
        f"The artifacts of the parent job {branch.parent_job_id} are no longer available (deleted or "
        "unreadable), "
        f"so beliefs by camp before the branch cannot be shown; {known}."
    )
