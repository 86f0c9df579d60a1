"""Runs the coherence cases through a running stack over gRPC and measures the docs/performance.md figures.

Shared by the test (`tests/forecast/test_forecast_coherence.py`, the session `stack`) and the
benchmark (`bench.forecast`, a private stack), so both submit the same jobs and compute the same
numbers. Every case is submitted first, then polled until terminal: the runner takes them in turn.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from swarmcast.auth.v1 import auth_pb2
from swarmcast.jobs.v1 import jobs_pb2

from services.common.clients import auth_stub, bearer, insecure_channel, jobs_stub
from tests.forecast.final import FINAL_CASES
from tests.forecast.holdout import HOLDOUT_CASES
from tests.forecast.seeds import CASES, CASES_BY_ID, TIER_GAP_CASE_IDS, Case, negation_pairs

Metadata = tuple[tuple[str, str], ...]

# The case sets, in the order they were written, each blind to the engine's reading code (how each
# was used afterwards: docs/forecasting.md §6).
SUITES: dict[str, tuple[Case, ...]] = {
    "team": tuple(CASES),
    "holdout": tuple(HOLDOUT_CASES),
    "final": tuple(FINAL_CASES),
}
ALL_CASES: tuple[Case, ...] = tuple(case for cases in SUITES.values() for case in cases)

# docs/performance.md targets.
HIT_RATE_TARGET = 0.90
NEGATION_GAP_TARGET = 0.05
TIER_GAP_TARGET = 0.05

# docs/forecasting.md §4: the forecast object, exactly (plus `baselines`, which evaluation reads:
# docs/report.md).
FORECAST_KEYS = frozenset({"goal", "markets", "method"})
OPTIONAL_FORECAST_KEYS = frozenset({"baselines"})
GOAL_KEYS = frozenset({"market_id", "probability", "interval", "level", "replicates", "market", "belief"})
MARKET_KEYS = frozenset({"probability", "interval", "market", "belief"})
GOAL_MARKET_ID = "m1"
INTERVAL_LEVEL = 0.8

TERMINAL = frozenset({"COMPLETED", "FAILED", "REFUNDED", "CANCELLED"})
STATUS_PREFIX = "JOB_STATUS_"
PASSWORD = "forecast coherence passphrase 7"


@dataclass(frozen=True)
class Run:
    case: Case
    tier: str


def coherence_runs() -> list[Run]:
    """Every case of every suite on the small tier, then the tier-gap cases again on the large tier."""
    return [Run(case, "small") for case in ALL_CASES] + [
        Run(CASES_BY_ID[case_id], "large") for case_id in TIER_GAP_CASE_IDS
    ]


@dataclass(frozen=True)
class Outcome:
    case: Case
    tier: str
    job_id: int  # 0 when CreateJob refused the case
    status: str  # COMPLETED, FAILED, ..., REFUSED(<code>), or a live status when time ran out
    forecast: Any  # result_structured["forecast"] as read; None when there is none
    error: str = ""

    @property
    def probability(self) -> float | None:
        value = _get(self.forecast, "goal", "probability")
        return float(value) if _is_number(value) else None

    @property
    def interval(self) -> tuple[float, float] | None:
        value = _get(self.forecast, "goal", "interval")
        if isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value):
            return float(value[0]), float(value[1])
        return None

    @property
    def on_expected_side(self) -> bool:
        p = self.probability
        if p is None:
            return False
        return p > 0.5 if self.case.expected == "yes" else p < 0.5

    def verdict(self) -> str:
        if self.probability is None:
            return f"{self.status}: {self.error or 'no forecast'}"
        return "ok" if self.on_expected_side else "WRONG SIDE"


def _get(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_probability(value: Any) -> bool:
    return _is_number(value) and 0.0 <= value <= 1.0


def shape_problems(forecast: Any) -> list[str]:
    """What in `forecast` departs from the docs/forecasting.md §4 shape; empty when it matches exactly."""
    if not isinstance(forecast, dict):
        return [f"forecast is {type(forecast).__name__}, not an object"]
    problems: list[str] = []
    if set(forecast) - OPTIONAL_FORECAST_KEYS != FORECAST_KEYS:
        problems.append(f"forecast keys {sorted(forecast)} != {sorted(FORECAST_KEYS)}")
    if not isinstance(forecast.get("method"), str) or not forecast["method"].strip():
        problems.append("method is not a non-empty string")

    def check_entry(where: str, entry: Any, keys: frozenset[str]) -> None:
        if not isinstance(entry, dict):
            problems.append(f"{where} is not an object")
            return
        if set(entry) != keys:
            problems.append(f"{where} keys {sorted(entry)} != {sorted(keys)}")
        for name in ("probability", "market", "belief"):
            if not _is_probability(entry.get(name)):
                problems.append(f"{where}.{name} = {entry.get(name)!r} is not a probability")
        interval = entry.get("interval")
        if not (isinstance(interval, list) and len(interval) == 2 and all(map(_is_probability, interval))):
            problems.append(f"{where}.interval = {interval!r} is not [low, high] of probabilities")
        elif _is_number(entry.get("probability")) and not (
            interval[0] <= entry["probability"] <= interval[1]
        ):
            problems.append(f"{where}.interval {interval} does not contain {entry['probability']}")

    goal = forecast.get("goal")
    check_entry("goal", goal, GOAL_KEYS)
    if isinstance(goal, dict):
        if goal.get("market_id") != GOAL_MARKET_ID:
            problems.append(f"goal.market_id = {goal.get('market_id')!r}, not {GOAL_MARKET_ID!r}")
        if goal.get("level") != INTERVAL_LEVEL:
            problems.append(f"goal.level = {goal.get('level')!r}, not {INTERVAL_LEVEL}")
        replicates = goal.get("replicates")
        if not (isinstance(replicates, int) and not isinstance(replicates, bool) and replicates >= 1):
            problems.append(f"goal.replicates = {replicates!r}, not an integer >= 1")
    markets = forecast.get("markets")
    if not isinstance(markets, dict) or not markets:
        problems.append("markets is not a non-empty object")
        return problems
    for market_id, entry in markets.items():
        check_entry(f"markets.{market_id}", entry, MARKET_KEYS)
    goal_market = markets.get(GOAL_MARKET_ID)
    if not isinstance(goal_market, dict):
        problems.append(f"markets has no {GOAL_MARKET_ID!r} (the goal's market)")
    elif isinstance(goal, dict):
        for name in ("probability", "interval", "market", "belief"):
            if goal_market.get(name) != goal.get(name):
                problems.append(f"markets.{GOAL_MARKET_ID}.{name} differs from goal.{name}")
    return problems


# --- running the cases ---------------------------------------------------------------------------


async def register(auth_addr: str) -> Metadata:
    """A new ordinary user, signed up through auth; their bearer metadata."""
    email = f"forecast-{secrets.token_hex(4)}@example.test"
    async with insecure_channel(auth_addr) as ch:
        registered = await auth_stub(ch).Register(
            auth_pb2.RegisterRequest(email=email, password=PASSWORD), timeout=30
        )
    return bearer(registered.access_token)


def _status_name(status: int) -> str:
    return jobs_pb2.JobStatus.Name(status).removeprefix(STATUS_PREFIX)


def _read_forecast(job: jobs_pb2.Job) -> tuple[Any, str]:
    if not job.HasField("result_structured") or not job.result_structured:
        return None, "no result_structured"
    try:
        structured = json.loads(job.result_structured)
    except ValueError as exc:
        return None, f"result_structured is not JSON: {exc}"
    if not isinstance(structured, dict) or "forecast" not in structured:
        return None, "result_structured has no forecast"
    return structured["forecast"], ""


async def run_cases(
    jobs_addr: str, md: Metadata, runs: Sequence[Run], *, within: float, poll: float = 1.0
) -> list[Outcome]:
    """Submits every run (CreateJob), then polls GetJob until all are terminal or `within` s pass."""
    outcomes: list[Outcome | None] = [None] * len(runs)
    job_ids: dict[int, int] = {}  # index in runs -> job id
    async with insecure_channel(jobs_addr) as ch:
        stub = jobs_stub(ch)
        for index, run in enumerate(runs):
            request = jobs_pb2.CreateJobRequest(
                seed_text=run.case.seed_text, goal=run.case.goal, tier=run.tier, enrich_web=False
            )
            try:
                job = (await stub.CreateJob(request, metadata=md, timeout=30)).job
            except grpc.aio.AioRpcError as exc:
                outcomes[index] = Outcome(
                    run.case, run.tier, 0, f"REFUSED({exc.code().name})", None, exc.details() or ""
                )
                continue
            job_ids[index] = job.id

        deadline = time.monotonic() + within
        latest: dict[int, jobs_pb2.Job] = {}
        pending = dict(job_ids)
        while pending:
            indices = list(pending)
            answers = await asyncio.gather(
                *(
                    stub.GetJob(jobs_pb2.GetJobRequest(job_id=pending[i]), metadata=md, timeout=30)
                    for i in indices
                ),
                return_exceptions=True,
            )
            for index, answer in zip(indices, answers, strict=True):
                if isinstance(answer, grpc.aio.AioRpcError):
                    continue  # a transient failure: asked again on the next poll
                if isinstance(answer, BaseException):
                    raise answer
                latest[index] = answer.job
                if _status_name(answer.job.status) in TERMINAL:
                    del pending[index]
            if not pending or time.monotonic() > deadline:
                break
            await asyncio.sleep(poll)

    for index, job_id in job_ids.items():
        run, job = runs[index], latest.get(index)
        if job is None:
            outcomes[index] = Outcome(
                run.case, run.tier, job_id, "UNREACHABLE", None, "GetJob never answered"
            )
            continue
        status = _status_name(job.status)
        if status == "COMPLETED":
            forecast, error = _read_forecast(job)
        else:
            forecast = None
            error = job.error_message if status in TERMINAL else f"still {status} after {within:.0f} s"
        outcomes[index] = Outcome(run.case, run.tier, job_id, status, forecast, error)
    return [o for o in outcomes if o is not None]


# --- the figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    n: int  # small-tier cases
    hits: int  # of them, on the expected side
    negation_gaps: dict[str, float | None]  # pair -> |P(g) + P(not g) - 1|; None: not measured
    tier_gaps: dict[str, float | None]  # case id -> |P_small - P_large|; None: not measured
    mean_interval_width: float | None  # small-tier cases with a forecast

    @property
    def hit_rate(self) -> float:
        return self.hits / self.n if self.n else 0.0

    @property
    def worst_negation_gap(self) -> float | None:
        """The largest gap; None unless every pair was measured."""
        return _worst(self.negation_gaps)

    @property
    def worst_tier_gap(self) -> float | None:
        return _worst(self.tier_gaps)


def _worst(gaps: dict[str, float | None]) -> float | None:
    values = list(gaps.values())
    if not values or any(v is None for v in values):
        return None
    return max(v for v in values if v is not None)


def summarise(outcomes: Sequence[Outcome], cases: Sequence[Case] = CASES) -> Summary:
    """The figures over ``cases`` (default: the team suite)."""
    ids = {case.id for case in cases}
    small = {o.case.id: o for o in outcomes if o.tier == "small" and o.case.id in ids}
    large = {o.case.id: o for o in outcomes if o.tier == "large" and o.case.id in ids}
    negation_gaps: dict[str, float | None] = {}
    for goal_case, negated_case in negation_pairs(cases):
        p = small[goal_case.id].probability if goal_case.id in small else None
        q = small[negated_case.id].probability if negated_case.id in small else None
        negation_gaps[goal_case.pair] = None if p is None or q is None else abs(p + q - 1.0)
    tier_gaps: dict[str, float | None] = {}
    for case_id, big in large.items():
        p = small[case_id].probability if case_id in small else None
        q = big.probability
        tier_gaps[case_id] = None if p is None or q is None else abs(p - q)
    widths = [o.interval[1] - o.interval[0] for o in small.values() if o.interval is not None]
    return Summary(
        n=len(small),
        hits=sum(o.on_expected_side for o in small.values()),
        negation_gaps=negation_gaps,
        tier_gaps=tier_gaps,
        mean_interval_width=statistics.fmean(widths) if widths else None,
    )


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def table(outcomes: Sequence[Outcome]) -> str:
    """Every case (id, expected side, probability, interval), then the negation and tier gaps."""
    width = max(len(o.case.id) for o in outcomes)
    lines = [f"{'case':<{width}}  {'family':<11}  {'tier':<5}  exp  {'P':>5}  {'interval':<14}  result"]
    for o in outcomes:
        interval = "—" if o.interval is None else f"[{o.interval[0]:.3f}, {o.interval[1]:.3f}]"
        lines.append(
            f"{o.case.id:<{width}}  {o.case.family:<11}  {o.tier:<5}  {o.case.expected:<3}  "
            f"{_fmt(o.probability):>5}  {interval:<14}  {o.verdict()}"
        )
    for name, cases in SUITES.items():
        summary = summarise(outcomes, cases)
        if not summary.n:
            continue
        lines.append(f"[{name}] on the expected side: {summary.hits}/{summary.n} = {summary.hit_rate:.3f}")
        for pair, gap in summary.negation_gaps.items():
            lines.append(f"[{name}] negation {pair}: |P(g) + P(not g) - 1| = {_fmt(gap)}")
        for case_id, gap in summary.tier_gaps.items():
            lines.append(f"[{name}] tier gap {case_id}: |P(small) - P(large)| = {_fmt(gap)}")
        lines.append(f"[{name}] mean 80% interval width (small): {_fmt(summary.mean_interval_width)}")
    return "\n".join(lines)


def case_rows(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """The per-case table as JSON rows (bench/results/latest.json)."""
    return [
        {
            "id": o.case.id,
            "family": o.case.family,
            "tier": o.tier,
            "expected": o.case.expected,
            "probability": o.probability,
            "interval": list(o.interval) if o.interval else None,
            "status": o.status,
            "result": o.verdict(),
        }
        for o in outcomes
    ]
