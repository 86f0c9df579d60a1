"""Forecast-coherence benchmark (docs/performance.md), against a private stack on free ports.

    python -m bench.forecast         # prints the per-case table (stderr) and the figures as JSON (stdout)
    python -m bench.run --only forecast

The held-out cases of `tests/forecast/seeds.py` (the same ones the coherence test runs), submitted
by one user over gRPC to a private stack (auth, jobs, reporter and a heuristic gpu_runner serving
the small and large tiers, started by `bench.harness` as `make up` starts them). Figures:

- `forecast_hit_rate` / `forecast_cases`: small-tier cases of the team suite whose
  forecast.goal.probability lands on the side the seed's evidence favours (a case with no forecast
  counts as a miss); `forecast_hit_rate_holdout` / `_final`: the same over the suites written blind
  (tests/forecast/coherence.py `SUITES`);
- `forecast_worst_negation_gap`: max over the negation pairs of every suite of |P(g) + P(not g) - 1|;
- `forecast_worst_tier_gap`: max over the tier-gap cases of |P(small) - P(large)|;
- `forecast_mean_interval_width`: mean width of the 80% interval over the small-tier cases;
- `forecast_cases_table`: every case (id, family, tier, expected side, probability, interval).
A gap is null ("not measured") unless every pair or case it covers produced a forecast.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from bench.harness import Infra, PrivateStack, print_figures
from tests.forecast.coherence import (
    ALL_CASES,
    SUITES,
    case_rows,
    coherence_runs,
    register,
    run_cases,
    summarise,
    table,
)

WAIT_FOR_JOBS_S = 600.0


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


async def run_all(infra: Infra, work: Path) -> dict[str, Any]:
    stack = PrivateStack(infra.env(work / "run"), work / "logs")
    try:
        await stack.launch("auth", "jobs", "reporter")
        await stack.launch(
            "gpu_runner", SWARMCAST_RUNNER_TIERS="small,large", SWARMCAST_RUNNER_INSTANCE_ID="bench-forecast"
        )
        md = await register(stack.addr("auth"))
        outcomes = await run_cases(stack.addr("jobs"), md, coherence_runs(), within=WAIT_FOR_JOBS_S)
    finally:
        await asyncio.to_thread(stack.stop_all)
    print(table(outcomes), file=sys.stderr, flush=True)
    summary = summarise(outcomes)
    everything = summarise(outcomes, ALL_CASES)
    figures: dict[str, Any] = {
        "forecast_hit_rate": round(summary.hit_rate, 4),
        "forecast_cases": summary.n,
        "forecast_worst_negation_gap": _rounded(everything.worst_negation_gap),
        "forecast_worst_tier_gap": _rounded(summary.worst_tier_gap),
        "forecast_mean_interval_width": _rounded(summary.mean_interval_width),
    }
    for name, cases in SUITES.items():
        if name != "team":
            unseen = summarise(outcomes, cases)
            figures[f"forecast_hit_rate_{name}"] = round(unseen.hit_rate, 4)
            figures[f"forecast_cases_{name}"] = unseen.n
    figures["forecast_cases_table"] = case_rows(outcomes)
    return figures


def main() -> None:
    print_figures(run_all, "swarmcast-bench-forecast-")


if __name__ == "__main__":
    main()
