"""`make bench`: every figure of docs/performance.md, its target and whether it is met.

    python -m bench.run            # every benchmark; writes bench/results/latest.json
    python -m bench.run --skip-engine   # reuse the engine figures already in latest.json
    python -m bench.run --only forecast # one benchmark (repeatable: --only engine --only forecast)

The engine figures come from `bench.engine` (its own subprocesses, merged into latest.json); the
control-plane and whole-job figures from `bench.control_plane`, the forecast-coherence figures from
`bench.forecast`, the `local` tier's from `bench.local_llm` (each a private stack on free
ports). The table is printed from latest.json, so it
always shows what the file holds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str
    target: str
    met: Callable[[float], bool] | None  # None: informational


FIGURES: tuple[Figure, ...] = (
    Figure(
        "engine_heuristic_1kx100_seconds",
        "engine 1k agents x 100 rounds (heuristic), per replicate of 5",
        "s",
        "<= 20 s",
        lambda v: v <= 20,
    ),
    Figure(
        "engine_heuristic_1kx100_agent_steps_per_s", "  agent-steps/s", "/s", ">= 5,000", lambda v: v >= 5000
    ),
    Figure("engine_heuristic_1kx100_peak_rss_mib", "  peak RSS", "MiB", "<= 1024 MiB", lambda v: v <= 1024),
    Figure(
        "engine_cost_per_agent_step_ratio_10k_vs_1k",
        "engine cost/agent-step 10k vs 1k",
        "x",
        "<= 1.3",
        lambda v: v <= 1.3,
    ),
    Figure(
        "engine_heuristic_10kx100_peak_rss_mib",
        "engine 10k agents x 100 rounds, peak RSS",
        "MiB",
        "<= 1024 MiB",
        lambda v: v <= 1024,
    ),
    Figure("engine_heuristic_10kx100_seconds", "  wall time", "s", "stated", None),
    Figure(
        "engine_cost_per_agent_step_ratio_10kx100_vs_1kx100",
        "  cost/agent-step vs 1k x 100",
        "x",
        "<= 1.3",
        lambda v: v <= 1.3,
    ),
    Figure(
        "engine_checkpoint_10k_take_ms", "  a round's checkpoint at 10k: engine thread", "ms", "stated", None
    ),
    Figure("engine_checkpoint_10k_pack_ms", "    compressing, off the engine thread", "ms", "stated", None),
    Figure("engine_checkpoint_10k_mib", "    size", "MiB", "stated", None),
    Figure(
        "engine_heuristic_100kx10_peak_rss_mib",
        "engine 100k agents x 10 rounds, peak RSS",
        "MiB",
        "<= 4096 MiB",
        lambda v: v <= 4096,
    ),
    Figure("engine_heuristic_100kx10_seconds", "  wall time", "s", "stated", None),
    Figure(
        "engine_llm_slot_occupancy",
        "LLM slot occupancy (256 x 8, 64 slots x 50 ms)",
        "",
        ">= 0.95",
        lambda v: v >= 0.95,
    ),
    Figure(
        "engine_llm_wall_over_server_limit",
        "  wall / server's own limit",
        "x",
        "<= 1.05",
        lambda v: v <= 1.05,
    ),
    Figure("control_get_job_rps", "GetJob requests/s (32 clients)", "/s", ">= 1,500", lambda v: v >= 1500),
    Figure("control_get_job_p99_ms", "  GetJob p99", "ms", "<= 25 ms", lambda v: v <= 25),
    Figure("control_create_job_rps", "CreateJob requests/s (32 clients)", "/s", ">= 300", lambda v: v >= 300),
    Figure("control_get_job_loadgen_cpu_cores", "  load generator CPU during GetJob", "cores", "", None),
    Figure("control_get_job_machine_busy_cores", "  machine busy during GetJob", "cores", "", None),
    Figure(
        "control_progress_to_watch_p99_ms",
        "progress event -> WatchJob p99",
        "ms",
        "<= 100 ms",
        lambda v: v <= 100,
    ),
    Figure(
        "whole_job_small_heuristic_submit_to_completed_s",
        "small job submit -> COMPLETED (heuristic)",
        "s",
        "<= 15 s",
        lambda v: v <= 15,
    ),
    Figure(
        "forecast_hit_rate",
        "forecast: clear cases on their side (team suite)",
        "",
        ">= 0.90",
        lambda v: v >= 0.90,
    ),
    Figure("forecast_cases", "  cases (small tier)", "", "", None),
    Figure(
        "forecast_hit_rate_holdout", "  holdout suite (written blind)", "", ">= 0.90", lambda v: v >= 0.90
    ),
    Figure(
        "forecast_hit_rate_final", "  final suite (written blind, last)", "", ">= 0.90", lambda v: v >= 0.90
    ),
    Figure(
        "forecast_worst_negation_gap",
        "  worst |P(g) + P(not g) - 1|",
        "",
        "<= 0.05",
        lambda v: v <= 0.05,
    ),
    Figure(
        "forecast_worst_tier_gap",
        "  worst |P(small) - P(large)|",
        "",
        "<= 0.05",
        lambda v: v <= 0.05,
    ),
    Figure("forecast_mean_interval_width", "  mean 80% interval width", "", "", None),
    Figure(
        "whole_job_local_submit_to_completed_s",
        "local job submit -> COMPLETED (SmolLM2, CPU)",
        "s",
        "stated",
        None,
    ),
    Figure("local_llm_tokens_per_s_serial", "  tokens/s, one context", "/s", "", None),
    Figure("local_llm_tokens_per_s_overlapped", "  tokens/s, one context per core", "/s", "", None),
    Figure("local_llm_model_busy_share", "  model busy share of a 4x3 run", "", "", None),
)

# Each benchmark: a module run as `python -m <module>`; `stdout_figures` when its last stdout line is
# the JSON figures to merge (bench.engine merges latest.json itself).
BENCHES: dict[str, tuple[str, bool]] = {
    "engine": ("bench.engine", False),
    "control_plane": ("bench.control_plane", True),
    "forecast": ("bench.forecast", True),
    "local_llm": ("bench.local_llm", True),
}


def table(results: dict[str, Any]) -> str:
    width = max(len(f.label) for f in FIGURES)
    lines = [
        f"{'figure':<{width}}  {'value':>12}  {'target':<12}  result   (cpu_count={results.get('cpu_count')})"
    ]
    for fig in FIGURES:
        value = results.get(fig.key)
        if value is None:
            lines.append(f"{fig.label:<{width}}  {'—':>12}  {fig.target:<12}  not measured")
            continue
        if isinstance(value, float) and value < 1:
            shown = f"{value:.4f}"  # gaps and rates: two decimals would hide 0.054 against <= 0.05
        elif isinstance(value, float) and value < 100:
            shown = f"{value:,.2f}"
        else:
            shown = f"{value:,.0f}"
        verdict = "" if fig.met is None else ("met" if fig.met(float(value)) else "MISSED")
        lines.append(f"{fig.label:<{width}}  {shown + ' ' + fig.unit:>12}  {fig.target:<12}  {verdict}")
    return "\n".join(lines)


def merge(figures: dict[str, Any]) -> dict[str, Any]:
    merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    merged.update(figures)
    merged["cpu_count"] = os.cpu_count()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    return merged


def run_bench(name: str) -> dict[str, Any]:
    module, stdout_figures = BENCHES[name]
    print(f"== {name} (python -m {module})", flush=True)
    if not stdout_figures:
        subprocess.run([sys.executable, "-m", module], cwd=ROOT, check=True)
        return {}
    out = subprocess.run(
        [sys.executable, "-m", module], cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-engine", action="store_true", help="keep the engine figures in latest.json")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(BENCHES),
        help="run only this benchmark (repeatable); the others' figures stay as latest.json has them",
    )
    args = parser.parse_args()
    names = args.only or [n for n in BENCHES if not (n == "engine" and args.skip_engine)]
    merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for name in BENCHES:
        if name in names:
            merged = merge(run_bench(name))
    print()
    print(table(merged))
    print(f"\nwritten: {RESULTS.relative_to(ROOT)} (a shared 2-core machine: timings are noisy)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
