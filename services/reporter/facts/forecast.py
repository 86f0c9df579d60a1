"""The headline forecast and what it rests on: the forecast over all replicates with its interval
(docs/forecasting.md §4), the evidence the engine read from the seed, the baselines it is compared
with, and the verdict drawn from it.

The verdict's label and leaning come from the forecast alone - it already weighs the market price
against the agents' pooled belief. A seed that named fewer than 3 stakeholders marks the forecast
as low evidence, and the verdict says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from services.reporter import fmt
from services.reporter.artifacts import RunArtifacts

from .beliefs import GoalFacts
from .run import from_row

# Evidence items the facts keep (the strongest by weight): enough to say what the number rests on.
MAX_EVIDENCE_ITEMS = 8


@dataclass(frozen=True)
class ForecastFacts:
    """forecast.goal of market_curves.json: the headline probability and its interval."""

    market_id: str
    probability: float
    # [low, high]: the `level` (0.8) interval across replicates (a bootstrap over agents when R = 1).
    interval: list[float]
    level: float
    replicates: int
    # The replicate means (in log-odds) of the final price and of the pooled stated beliefs.
    market: float
    belief: float
    # One sentence from the engine: how the number was made.
    method: str


@dataclass(frozen=True)
class EvidenceItem:
    kind: str
    text: str
    # Log-odds for the positive outcome (docs/forecasting.md §1).
    weight: float
    entity: str | None


@dataclass(frozen=True)
class EvidenceFacts:
    """What the engine read from the seed (market_curves.json → evidence)."""

    prior: float
    stakeholders: int
    # Fewer than 3 stakeholders: the number rests on little and is to be read as weak.
    low_evidence: bool
    # How many items the seed gave, and the strongest of them (MAX_EVIDENCE_ITEMS at most).
    item_count: int
    items: list[EvidenceItem]


@dataclass(frozen=True)
class DirectForecast:
    """A single forecast without simulation (market_curves.json → baselines.direct): one call to
    the run's model with the seed and the goal, or the heuristic backend's seed-evidence prior."""

    # None when the call failed (``error`` says why).
    probability: float | None
    source: str  # llm or heuristic_prior
    reason: str
    error: str | None


@dataclass(frozen=True)
class BaselineFacts:
    """What the forecast is compared with (market_curves.json → baselines)."""

    # The goal market's opening price.
    opening_price: float
    # None for a run checkpointed before the engine recorded it.
    direct: DirectForecast | None


@dataclass(frozen=True)
class Verdict:
    # very likely / likely / too close to call / unlikely / very unlikely, from the forecast.
    label: str
    leaning: str  # yes, no or even
    market_id: str
    # The goal's forecast (forecast.goal.probability) and its interval.
    probability: float
    interval: list[float]
    level: float
    replicates: int
    # The seed named fewer than 3 stakeholders: the verdict says the number is weak.
    low_evidence: bool
    # The agents' confidence-weighted belief at the end of the quoted run, and its spread.
    goal_probability: float
    goal_spread: float


def interval(raw: Any) -> list[float]:
    return [float(raw[0]), float(raw[1])]


_T = TypeVar("_T")


def _optional(value: Any, cast: Callable[[Any], _T]) -> _T | None:
    """``cast(value)``, or None where the artifact holds none."""
    return None if value is None else cast(value)


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


def forecast_facts(art: RunArtifacts) -> ForecastFacts:
    raw = art.forecast
    goal = raw["goal"]
    return from_row(ForecastFacts, goal, interval=interval(goal["interval"]), method=fmt.plain(raw["method"]))


def evidence_facts(art: RunArtifacts) -> EvidenceFacts | None:
    raw = art.evidence
    if raw is None:
        return None
    items = [
        from_row(EvidenceItem, item, text=_one_line(item["text"]), entity=_optional(item.get("entity"), str))
        for item in raw["items"]
    ]
    # Strongest first; the engine's order breaks ties, so the choice is stable.
    strongest = sorted(range(len(items)), key=lambda i: (-abs(items[i].weight), i))[:MAX_EVIDENCE_ITEMS]
    return from_row(EvidenceFacts, raw, item_count=len(items), items=[items[i] for i in strongest])


def baseline_facts(art: RunArtifacts) -> BaselineFacts | None:
    raw = art.baselines
    if raw is None:
        return None
    direct = raw["direct"]
    return BaselineFacts(
        opening_price=float(raw["opening_price"]),
        direct=None
        if direct is None
        else DirectForecast(
            probability=_optional(direct["probability"], float),
            source=str(direct["source"]),
            reason=_one_line(direct.get("reason") or ""),
            error=_optional(direct.get("error"), str),
        ),
    )


def low_evidence_note(evidence: EvidenceFacts, forecast: ForecastFacts) -> str:
    """The plain warning a low-evidence verdict carries (report, notes)."""
    named = (
        "names no stakeholders"
        if evidence.stakeholders == 0
        else f"names only {evidence.stakeholders} stakeholder{'s' if evidence.stakeholders != 1 else ''}"
    )
    return (
        f"Low evidence: the seed gave little evidence (it {named}, fewer than 3), so read the forecast "
        f"of {fmt.pct(forecast.probability)} as a weak number."
    )


def verdict_label(p: float) -> str:
    if p >= 0.8:
        return "very likely"
    if p >= 0.6:
        return "likely"
    if p > 0.4:
        return "too close to call"
    if p > 0.2:
        return "unlikely"
    return "very unlikely"


def _leaning(p: float) -> str:
    if p > 0.5:
        return "yes"
    return "no" if p < 0.5 else "even"


def draw_verdict(forecast: ForecastFacts, evidence: EvidenceFacts | None, goal: GoalFacts) -> Verdict:
    """The label and leaning come from the forecast alone (it already weighs price against belief)."""
    p = forecast.probability
    return Verdict(
        label=verdict_label(p),
        leaning=_leaning(p),
        market_id=forecast.market_id,
        probability=p,
        interval=list(forecast.interval),
        level=forecast.level,
        replicates=forecast.replicates,
        low_evidence=bool(evidence is not None and evidence.low_evidence),
        goal_probability=goal.probability,
        goal_spread=goal.spread,
    )
