"""The job list's extras, as pure functions: the goal's headline forecast, search and sort, and a
PENDING job's place in its queue with the expected wait.

- Headline: `result_structured` → `forecast.goal.probability` and `.interval` (docs/forecasting.md;
  the reporter writes it). Kept in `jobs.job_forecasts` so the list can sort by it.
- Search: case-insensitive text in the goal; "123" or "#123" also finds job 123.
- Queue: runners take a tier's dispatches in publish order (one JetStream work queue per tier), so
  a PENDING job's position counts the PENDING jobs of its tier published before it; jobs held by
  fair use (no dispatch yet) queue behind every dispatched one. The wait is the tier's median run
  time (the last `RUN_TIME_SAMPLE` completed jobs) times the jobs ahead plus half a run for the slot
  it waits on, shared out over the jobs of the tier running at once.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from services.jobs.domain.validation import ValidationError, is_valid_job_id

QUERY_MAX = 200
# Run times of this many recently completed jobs of a tier make its estimate.
RUN_TIME_SAMPLE = 20
# Seconds one job of the tier holds a runner when the tier has no completed job yet.
DEFAULT_RUN_SECONDS: dict[str, int] = {"small": 60, "medium": 300, "large": 900, "local": 120}
FALLBACK_RUN_SECONDS = 300

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_JOB_NUMBER = re.compile(r"#?\s*(\d{1,19})")


class JobSort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    PROBABILITY_HIGH = "probability_high"
    PROBABILITY_LOW = "probability_low"


@dataclass(frozen=True, slots=True)
class Headline:
    probability: float
    low: float | None
    high: float | None


def _unit(value: Any) -> float | None:
    """A probability in [0, 1], or None for anything else (bools and NaN included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and 0.0 <= number <= 1.0 else None


def headline_of(result_structured: str | None) -> Headline | None:
    """The goal's forecast from the structured results; None when they carry none (or are not JSON)."""
    if not result_structured:
        return None
    try:
        data = json.loads(result_structured)
    except ValueError:
        return None
    forecast = data.get("forecast") if isinstance(data, dict) else None
    goal = forecast.get("goal") if isinstance(forecast, dict) else None
    if not isinstance(goal, dict):
        return None
    probability = _unit(goal.get("probability"))
    if probability is None:
        return None
    interval = goal.get("interval")
    low = high = None
    if isinstance(interval, list) and len(interval) == 2:
        low, high = _unit(interval[0]), _unit(interval[1])
        if low is None or high is None or low > high:
            low = high = None
    return Headline(probability=probability, low=low, high=high)


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A checked search: `text` to find in goals (None: no search) and the job id it may name."""

    text: str | None = None
    job_id: int | None = None
    sort: JobSort = JobSort.NEWEST


def check_list_query(query: str, sort: JobSort | None) -> ListQuery:
    """The search as typed (control characters become spaces, ends trimmed) and the order."""
    if len(query) > QUERY_MAX:
        raise ValidationError("query", f"the search text is too long (at most {QUERY_MAX} characters)")
    text = " ".join(_CONTROL.sub(" ", query).split())
    job_id = None
    number = _JOB_NUMBER.fullmatch(text)
    if number is not None and is_valid_job_id(int(number.group(1))):
        job_id = int(number.group(1))
    return ListQuery(text=text or None, job_id=job_id, sort=sort or JobSort.NEWEST)


def like_pattern(text: str) -> str:
    """`text` as an ILIKE pattern matching it anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- the queue -----------------------------------------------------------------------------------


def run_seconds(tier: str | None, recent: Sequence[int]) -> float:
    """A tier's typical run time: the median of its recent completed runs, or the tier's default."""
    if recent:
        return float(statistics.median(recent))
    return float(DEFAULT_RUN_SECONDS.get(tier or "", FALLBACK_RUN_SECONDS))


def queue_estimate_seconds(position: int, typical_run: float, running: int) -> int:
    """Expected wait of the job at `position` (1 = next): the runs of the jobs ahead, plus on
    average half a run until a slot frees, spread over the `running` slots of the tier (at least
    one; runners being full is why the job waits)."""
    ahead = max(0, position - 1)
    slots = max(1, running)
    return max(1, math.ceil(typical_run * (ahead + 0.5) / slots))
