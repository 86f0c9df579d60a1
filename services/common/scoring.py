"""Scoring binary forecasts against what happened (docs/forecasting.md §7).

Pure functions shared by the jobs service (outcomes, track record) and the evaluation harness.
A forecast is a probability ``p`` of YES; an outcome is ``True`` (YES) or ``False`` (NO).

- Brier score ``(p - o)^2``: 0 is perfect, 0.25 is always saying 0.5, 1 is certain and wrong.
- Log score ``-ln(p)`` if YES else ``-ln(1 - p)`` (natural log, lower is better; 0.5 scores
  ln 2 = 0.693), with ``p`` clipped to [LOG_CLIP, 1 - LOG_CLIP] so one certain miss is a large
  but finite loss.
- Calibration: forecasts in ten equal bins of [0, 1]; per bin the count, the mean forecast and the
  observed frequency of YES. Expected calibration error (ECE) is the count-weighted mean gap.
- Sharpness: the mean distance ``|p - 0.5|`` (0 = always 0.5, 0.5 = always 0 or 1).
- Skill against a baseline: ``1 - Brier(forecast) / Brier(baseline)`` (positive = better than the
  baseline), with a percentile bootstrap interval over questions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

LOG_CLIP = 0.001
CALIBRATION_BINS = 10
BOOTSTRAP_RESAMPLES = 2000


def _check(p: float) -> float:
    if not (0.0 <= p <= 1.0) or math.isnan(p):
        raise ValueError(f"a probability must be in [0, 1], got {p!r}")
    return p


def brier(p: float, outcome: bool) -> float:
    return (_check(p) - (1.0 if outcome else 0.0)) ** 2


def log_score(p: float, outcome: bool) -> float:
    q = min(max(_check(p), LOG_CLIP), 1.0 - LOG_CLIP)
    return -math.log(q if outcome else 1.0 - q)


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    lower: float
    upper: float
    count: int
    mean_forecast: float | None  # None for an empty bin
    observed: float | None


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    """Scores of one forecaster over ``count`` resolved questions (means; None when count is 0)."""

    count: int
    brier: float | None
    log_score: float | None
    sharpness: float | None
    ece: float | None
    calibration: tuple[CalibrationBin, ...]


def bin_index(p: float, bins: int = CALIBRATION_BINS) -> int:
    """Bin k holds [k/bins, (k+1)/bins); the last bin also holds 1.0."""
    return min(int(_check(p) * bins), bins - 1)


def calibration(
    forecasts: Sequence[float], outcomes: Sequence[bool], bins: int = CALIBRATION_BINS
) -> tuple[CalibrationBin, ...]:
    counts = [0] * bins
    sums = [0.0] * bins
    yes = [0] * bins
    for p, o in zip(forecasts, outcomes, strict=True):
        k = bin_index(p, bins)
        counts[k] += 1
        sums[k] += p
        yes[k] += int(o)
    return tuple(
        CalibrationBin(
            lower=round(k / bins, 6),
            upper=round((k + 1) / bins, 6),
            count=counts[k],
            mean_forecast=sums[k] / counts[k] if counts[k] else None,
            observed=yes[k] / counts[k] if counts[k] else None,
        )
        for k in range(bins)
    )


def expected_calibration_error(table: Sequence[CalibrationBin]) -> float | None:
    total = sum(b.count for b in table)
    if total == 0:
        return None
    return (
        sum(
            b.count * abs(b.mean_forecast - b.observed)
            for b in table
            if b.count and b.mean_forecast is not None and b.observed is not None
        )
        / total
    )


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarize(forecasts: Sequence[float], outcomes: Sequence[bool]) -> ScoreSummary:
    if len(forecasts) != len(outcomes):
        raise ValueError("one outcome per forecast")
    table = calibration(forecasts, outcomes)
    return ScoreSummary(
        count=len(forecasts),
        brier=_mean([brier(p, o) for p, o in zip(forecasts, outcomes, strict=True)]),
        log_score=_mean([log_score(p, o) for p, o in zip(forecasts, outcomes, strict=True)]),
        sharpness=_mean([abs(p - 0.5) for p in forecasts]),
        ece=expected_calibration_error(table),
        calibration=table,
    )


@dataclass(frozen=True, slots=True)
class Skill:
    """``1 - Brier(forecast) / Brier(baseline)`` with a bootstrap interval over questions."""

    value: float | None
    interval: tuple[float, float] | None
    level: float
    resamples: int


def _skill(forecast_scores: Sequence[float], baseline_scores: Sequence[float]) -> float | None:
    base = sum(baseline_scores)
    if base <= 0.0:
        return None  # the baseline is perfect on these questions: no skill can be measured
    return 1.0 - sum(forecast_scores) / base


def brier_skill(
    forecast_scores: Sequence[float],
    baseline_scores: Sequence[float],
    *,
    level: float = 0.9,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> Skill:
    """Skill from per-question Brier scores (paired: the same questions, the same order).

    The interval is the percentile bootstrap over questions, resampled with a fixed seed so a
    report reproduces; resamples whose baseline is perfect are left out.
    """
    if len(forecast_scores) != len(baseline_scores):
        raise ValueError("paired scores: one baseline score per forecast score")
    n = len(forecast_scores)
    value = _skill(forecast_scores, baseline_scores)
    if n == 0 or value is None:
        return Skill(value=value, interval=None, level=level, resamples=0)
    rng = random.Random(seed)
    draws: list[float] = []
    for _ in range(resamples):
        idx = [rng.randrange(n) for _ in range(n)]
        s = _skill([forecast_scores[i] for i in idx], [baseline_scores[i] for i in idx])
        if s is not None:
            draws.append(s)
    if not draws:
        return Skill(value=value, interval=None, level=level, resamples=0)
    draws.sort()
    tail = (1.0 - level) / 2.0
    lo = draws[min(int(tail * len(draws)), len(draws) - 1)]
    hi = draws[min(int((1.0 - tail) * len(draws)), len(draws) - 1)]
    return Skill(value=value, interval=(lo, hi), level=level, resamples=len(draws))
