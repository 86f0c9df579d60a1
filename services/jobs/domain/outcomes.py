"""Outcomes: checking a resolution, settling the markets and scoring the forecasts (pure).

docs/forecasting.md §7 states the rules; `services.common.scoring` holds the score functions.

- A resolution names the goal's outcome and, optionally, other markets' (YES, NO or ANNULLED);
  a market left out stays unresolved. Its date is on or after the day the job was created and not
  in the future; its source, when given, is an http(s) URL.
- Settlement (replicate 0's agents, whose holdings are in profiles.json): a resolved market pays 1
  per winning share and nothing for losing ones; an annulled market refunds what each agent paid
  for it net of what it received selling; an unresolved market is marked at its closing price.
- Scores: Brier and log score of the job's forecast of every YES/NO market, and of the market's
  opening price (the baseline); an annulled market is not scored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from services.common import scoring
from services.jobs.domain.validation import ValidationError

# How long after first being recorded an outcome may still be corrected.
EDIT_WINDOW = timedelta(days=7)
MAX_SOURCE_URL = 2000


class Resolution(StrEnum):
    YES = "YES"
    NO = "NO"
    ANNULLED = "ANNULLED"

    @property
    def scored(self) -> bool:
        return self is not Resolution.ANNULLED

    @property
    def happened(self) -> bool:
        return self is Resolution.YES


@dataclass(frozen=True, slots=True)
class ResolutionInput:
    """What the caller sent; None for an unset enum (the servicer maps UNSPECIFIED to None)."""

    outcome: Resolution | None
    markets: Mapping[str, Resolution | None]
    resolved_on: str
    source_url: str


@dataclass(frozen=True, slots=True)
class MarketForecast:
    market_id: str
    question: str
    is_goal: bool
    probability: float
    opening_price: float


@dataclass(frozen=True, slots=True)
class CheckedResolution:
    outcomes: dict[str, Resolution]  # market id -> outcome, the goal market included
    resolved_on: date
    source_url: str | None


@dataclass(frozen=True, slots=True)
class MarketScore:
    market_id: str
    question: str
    is_goal: bool
    outcome: Resolution
    probability: float
    opening_price: float
    brier: float | None
    log_score: float | None
    opening_brier: float | None
    opening_log_score: float | None


class UnscorableJob(ValueError):
    """The job's stored results carry no forecast to score (a run from before forecasts)."""


def forecasts_of(result_structured: str | None, markets_config: Any) -> list[MarketForecast]:
    """Each market's forecast (result_structured.forecast) and opening price (markets_config)."""
    try:
        forecast = json.loads(result_structured or "")["forecast"]
        goal_id = str(forecast["goal"]["market_id"])
        per_market = {str(m): float(f["probability"]) for m, f in forecast["markets"].items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise UnscorableJob("the job's results carry no forecast to score") from exc
    out = []
    for spec in markets_config or []:
        market_id = str(spec.get("id"))
        if market_id in per_market:
            out.append(
                MarketForecast(
                    market_id=market_id,
                    question=str(spec.get("question", "")),
                    is_goal=market_id == goal_id,
                    probability=per_market[market_id],
                    opening_price=float(spec.get("initial_price_yes", 0.5)),
                )
            )
    if not any(m.is_goal for m in out):
        raise UnscorableJob("the job's goal market is not among its markets")
    return out


def _parse_date(text: str, today: date) -> date:
    if not text:
        return today
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            "resolved_on", f"the resolution date must be written YYYY-MM-DD, not {text[:40]!r}"
        ) from None


def _check_source(url: str) -> str | None:
    url = url.strip()
    if not url:
        return None
    if len(url) > MAX_SOURCE_URL:
        raise ValidationError("source_url", f"the source URL is longer than {MAX_SOURCE_URL} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise ValidationError("source_url", "the source must be an http or https URL")
    return url


def check_resolution(
    given: ResolutionInput,
    markets: Sequence[MarketForecast],
    *,
    created_on: date,
    today: date,
) -> CheckedResolution:
    """The resolution as it will be stored, or the first thing wrong with it (ValidationError)."""
    if given.outcome is None:
        raise ValidationError("outcome", "the outcome must be YES, NO or ANNULLED")
    goal = next(m for m in markets if m.is_goal)
    known = {m.market_id for m in markets}
    outcomes: dict[str, Resolution] = {}
    for market_id in sorted(given.markets):
        value = given.markets[market_id]
        if market_id not in known:
            raise ValidationError(
                "markets",
                f"this job has no market {market_id[:64]!r} (its markets: {', '.join(sorted(known))})",
            )
        if value is None:
            raise ValidationError("markets", f"market {market_id} needs YES, NO or ANNULLED")
        outcomes[market_id] = value
    if outcomes.get(goal.market_id, given.outcome) != given.outcome:
        raise ValidationError(
            "markets", f"market {goal.market_id} is the goal's market: its outcome is the goal's"
        )
    outcomes[goal.market_id] = given.outcome
    resolved_on = _parse_date(given.resolved_on.strip(), today)
    if resolved_on < created_on:
        raise ValidationError(
            "resolved_on",
            f"the resolution date {resolved_on.isoformat()} is before the job was created "
            f"({created_on.isoformat()})",
        )
    if resolved_on > today:
        raise ValidationError(
            "resolved_on", f"the resolution date {resolved_on.isoformat()} is in the future"
        )
    return CheckedResolution(
        outcomes=outcomes, resolved_on=resolved_on, source_url=_check_source(given.source_url)
    )


def score_markets(markets: Sequence[MarketForecast], outcomes: Mapping[str, Resolution]) -> list[MarketScore]:
    """One score row per resolved market (goal first), its forecast and opening price scored."""
    rows = []
    for m in sorted(markets, key=lambda m: (not m.is_goal, m.market_id)):
        outcome = outcomes.get(m.market_id)
        if outcome is None:
            continue
        scored = outcome.scored
        happened = outcome.happened
        rows.append(
            MarketScore(
                market_id=m.market_id,
                question=m.question,
                is_goal=m.is_goal,
                outcome=outcome,
                probability=m.probability,
                opening_price=m.opening_price,
                brier=scoring.brier(m.probability, happened) if scored else None,
                log_score=scoring.log_score(m.probability, happened) if scored else None,
                opening_brier=scoring.brier(m.opening_price, happened) if scored else None,
                opening_log_score=scoring.log_score(m.opening_price, happened) if scored else None,
            )
        )
    return rows


# -- settlement -------------------------------------------------------------------------------------


def _r4(x: float) -> float:
    return round(x, 4) + 0.0


def settle(
    profiles: Mapping[str, Any],
    trades: Mapping[str, Any],
    closing_prices: Mapping[str, float],
    outcomes: Mapping[str, Resolution],
) -> dict[str, Any]:
    """Every agent's cash once the resolved markets pay out (profiles.json and trades.json of
    replicate 0; ``closing_prices`` marks unresolved markets).

    Returns ``{"initial_cash", "agents": [{agent_id, name, cash, settled_cash, pnl}]}``.
    """
    net_paid: dict[tuple[int, str], float] = {}
    for t in trades.get("trades", []):
        key = (int(t["agent_id"]), str(t["market_id"]))
        sign = 1.0 if t["side"] == "buy" else -1.0
        net_paid[key] = net_paid.get(key, 0.0) + sign * float(t["cash"])
    agents = []
    initial_cash = None
    for a in profiles.get("agents", []):
        agent_id = int(a["agent_id"])
        cash = float(a["cash"])
        if initial_cash is None:
            initial_cash = float(a["portfolio_value"]) - float(a["pnl"])
        settled = cash
        for market_id, h in a.get("holdings", {}).items():
            yes, no = float(h["yes"]), float(h["no"])
            outcome = outcomes.get(market_id)
            if outcome is Resolution.YES:
                settled += yes
            elif outcome is Resolution.NO:
                settled += no
            elif outcome is Resolution.ANNULLED:
                settled += net_paid.get((agent_id, market_id), 0.0)
            else:
                price = float(closing_prices.get(market_id, 0.5))
                settled += yes * price + no * (1.0 - price)
        agents.append(
            {
                "agent_id": agent_id,
                "name": str(a.get("name", "")),
                "cash": _r4(cash),
                "settled_cash": _r4(settled),
                "pnl": _r4(settled - (initial_cash or 0.0)),
            }
        )
    return {"initial_cash": initial_cash if initial_cash is not None else 0.0, "agents": agents}


def closing_prices(market_curves: Mapping[str, Any]) -> dict[str, float]:
    return {str(m["id"]): float(m["final_price_yes"]) for m in market_curves.get("markets", [])}


# -- track record -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GoalRecord:
    """One resolved goal as the track record sees it."""

    job_id: int
    goal: str
    outcome: Resolution
    resolved_on: date
    probability: float
    opening_price: float


@dataclass(frozen=True, slots=True)
class TrackRecord:
    resolved: int
    annulled: int
    forecast: scoring.ScoreSummary
    opening_price: scoring.ScoreSummary
    entries: list[GoalRecord]
    markets_resolved: int
    markets_brier: float | None


def track_record(goals: Sequence[GoalRecord], market_briers: Sequence[float]) -> TrackRecord:
    scored = [g for g in goals if g.outcome.scored]
    outcomes = [g.outcome.happened for g in scored]
    return TrackRecord(
        resolved=len(scored),
        annulled=len(goals) - len(scored),
        forecast=scoring.summarize([g.probability for g in scored], outcomes),
        opening_price=scoring.summarize([g.opening_price for g in scored], outcomes),
        entries=sorted(goals, key=lambda g: (g.resolved_on, g.job_id), reverse=True),
        markets_resolved=len(market_briers),
        markets_brier=math.fsum(market_briers) / len(market_briers) if market_briers else None,
    )


def editable_until(recorded_at: datetime) -> datetime:
    return recorded_at + EDIT_WINDOW
