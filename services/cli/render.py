"""Text output of the CLI: the live progress line and the forecast of a finished job."""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from google.protobuf import json_format
from swarmcast.jobs.v1 import jobs_pb2

STAGES = ("provisioning", "seeding", "building", "simulating", "analyzing", "reporting")
# Share of the whole run each stage stands for, for the progress bar (simulating dominates).
_STAGE_SPAN = ((0.00, 0.05), (0.05, 0.15), (0.15, 0.25), (0.25, 0.85), (0.85, 0.92), (0.92, 1.0))
TERMINAL = frozenset({"COMPLETED", "FAILED", "REFUNDED"})


def status_name(job: jobs_pb2.Job) -> str:
    return jobs_pb2.JobStatus.Name(job.status).removeprefix("JOB_STATUS_")


def live_status(job: jobs_pb2.Job) -> dict[str, Any]:
    return json_format.MessageToDict(job.live_status) if job.HasField("live_status") else {}


def _stage(job: jobs_pb2.Job, live: dict[str, Any]) -> int:
    status = status_name(job)
    if status == "REPORTING":
        return 5
    if status == "PENDING":
        return -1
    raw = live.get("stage", job.pipeline_stage if job.HasField("pipeline_stage") else 0)
    return max(0, min(5, int(raw)))


def fraction_done(job: jobs_pb2.Job) -> float:
    status = status_name(job)
    if status in TERMINAL:
        return 1.0
    live = live_status(job)
    stage = _stage(job, live)
    if stage < 0:
        return 0.0
    start, end = _STAGE_SPAN[stage]
    if stage == 3:
        rounds = int(live.get("max_rounds") or 0)
        if rounds:
            return start + (end - start) * min(1.0, int(live.get("round") or 0) / rounds)
    return start


def progress_text(job: jobs_pb2.Job) -> str:
    """`simulating · round 7/15 · m1 46.0% m2 32.2%` (what the bar shows next to itself)."""
    status = status_name(job)
    live = live_status(job)
    if status == "PENDING":
        return "waiting for a runner"
    if status in TERMINAL:
        return status.lower()
    stage = _stage(job, live)
    parts = [str(live.get("stage_name") or STAGES[stage])]
    rounds = int(live.get("max_rounds") or 0)
    if rounds and stage >= 3:
        parts.append(f"round {int(live.get('round') or 0)}/{rounds}")
    prices = live.get("prices")
    if isinstance(prices, dict) and prices:
        parts.append(" ".join(f"{k} {float(v) * 100:.1f}%" for k, v in sorted(prices.items())))
    return " · ".join(parts)


@dataclass
class ProgressPrinter:
    """A redrawn bar on a terminal; on a pipe (CI logs), one line whenever the text changes."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    tty: bool | None = None
    min_interval: float = 1.0
    _last_text: str = ""
    _last_print: float = 0.0

    def __post_init__(self) -> None:
        if self.tty is None:
            self.tty = self.out.isatty()

    def update(self, job: jobs_pb2.Job) -> None:
        text = progress_text(job)
        if self.tty:
            width = max(40, shutil.get_terminal_size((100, 20)).columns)
            bar_width = 24
            done = int(fraction_done(job) * bar_width)
            line = f"[{'#' * done}{'.' * (bar_width - done)}] {fraction_done(job) * 100:3.0f}%  {text}"
            self.out.write("\r" + line[: width - 1].ljust(width - 1))
            self.out.flush()
            return
        now = time.monotonic()
        stage_changed = text.split(" · ")[0] != self._last_text.split(" · ")[0]
        if text != self._last_text and (stage_changed or now - self._last_print >= self.min_interval):
            self.out.write(f"  {fraction_done(job) * 100:3.0f}%  {text}\n")
            self.out.flush()
            self._last_text, self._last_print = text, now

    def finish(self) -> None:
        if self.tty:
            self.out.write("\n")
            self.out.flush()


# --- the forecast ---------------------------------------------------------------------------------


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


@dataclass
class Forecast:
    verdict: str | None
    label: str | None
    # (market id, question, probability of YES)
    markets: list[tuple[str, str, float]]
    goal_belief: float | None
    heuristic: bool


def forecast_of(job: jobs_pb2.Job) -> Forecast:
    """The verdict and probabilities of a finished job, from result_structured (the reporter's),
    falling back to the runner's live summary and markets_config."""
    st = _json(job.result_structured) or {}
    questions: dict[str, str] = {}
    if job.HasField("markets_config"):
        config = json_format.MessageToDict(job.markets_config)
        for m in config if isinstance(config, list) else []:
            if isinstance(m, dict) and "id" in m:
                questions[str(m["id"])] = str(m.get("question", ""))
    for m in st.get("markets") or []:
        if isinstance(m, dict) and "id" in m:
            questions[str(m["id"])] = str(m.get("question", questions.get(str(m["id"]), "")))
    verdict = st.get("verdict") if isinstance(st.get("verdict"), dict) else {}
    probs = (st.get("probabilities") or {}) if isinstance(st.get("probabilities"), dict) else {}
    by_market = probs.get("markets") if isinstance(probs.get("markets"), dict) else {}
    goal = probs.get("goal")
    if not by_market:  # no report: the runner's summary in live_status
        summary = live_status(job).get("summary") or {}
        by_market = summary.get("probabilities") or {}
        goal = summary.get("goal_probability", goal)
    markets = [
        (str(k), questions.get(str(k), ""), float(v))
        for k, v in sorted(by_market.items())
        if isinstance(v, int | float)
    ]
    backend = st.get("backend") if isinstance(st.get("backend"), dict) else {}
    return Forecast(
        verdict=verdict.get("sentence") or None,
        label=verdict.get("label") or None,
        markets=markets,
        goal_belief=float(goal) if isinstance(goal, int | float) else None,
        heuristic=bool(backend.get("heuristic") or live_status(job).get("backend") == "heuristic"),
    )


def forecast_lines(job: jobs_pb2.Job) -> list[str]:
    f = forecast_of(job)
    lines = [f"Goal:        {job.goal}"]
    if f.verdict:
        lines.append(f"Verdict:     {f.verdict}" + (f" ({f.label})" if f.label else ""))
    if f.markets:
        lines.append("Probabilities (market price of YES):")
        lines.extend(f"  {mid:<4} {p * 100:5.1f}%  {question}" for mid, question, p in f.markets)
    if f.goal_belief is not None:
        lines.append(f"  agents' own belief in the goal: {f.goal_belief * 100:.1f}%")
    if job.HasField("key_insight") and job.key_insight:
        lines.append(f"Key insight: {job.key_insight}")
    if f.heuristic:
        lines.append("(simulated with the deterministic heuristic backend, no language model)")
    return lines
