"""Text output of the CLI: the live progress line and the forecast of a finished job (the goal's
probability with its 80% interval, the verdict, and each market's forecast)."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
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
class MarketForecast:
    id: str
    question: str
    # Probability of YES; the interval is None when the job's result predates intervals.
    probability: float
    interval: tuple[float, float] | None = None


@dataclass
class Forecast:
    verdict: str | None
    label: str | None
    # The headline: the goal's forecast (market m1) with its interval, when the result has one.
    goal: MarketForecast | None
    level: float
    replicates: int | None
    low_evidence: bool
    markets: list[MarketForecast]
    # The agents' own confidence-weighted belief in the goal (the quoted run), when known.
    goal_belief: float | None
    heuristic: bool


def _probability(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        return None
    return float(value)


def _interval(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, list) or len(value) != 2:
        return None
    low, high = _probability(value[0]), _probability(value[1])
    return (low, high) if low is not None and high is not None and low <= high else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def forecast_of(job: jobs_pb2.Job) -> Forecast:
    """The headline, verdict and per-market forecasts of a finished job: from result_structured
    (the reporter's `forecast`, docs/forecasting.md §4; older results carry only `probabilities`),
    falling back
    to the runner's summary in live_status and markets_config."""
    st = _dict(_json(job.result_structured))
    questions: dict[str, str] = {}
    if job.HasField("markets_config"):
        config: Any = json_format.MessageToDict(job.markets_config)
        m: Any
        for m in config if isinstance(config, list) else []:
            if isinstance(m, dict) and "id" in m:
                questions[str(m["id"])] = str(m.get("question", ""))
    for m in st.get("markets") or []:
        if isinstance(m, dict) and "id" in m:
            questions[str(m["id"])] = str(m.get("question", questions.get(str(m["id"]), "")))
    verdict = _dict(st.get("verdict"))
    probs = _dict(st.get("probabilities"))
    summary = _dict(live_status(job).get("summary"))
    # The forecast over replicates: the reporter's, else the runner's summary (no report yet).
    forecast = _dict(st.get("forecast")) or _dict(summary.get("forecast"))
    by_market = _dict(forecast.get("markets"))
    markets: list[MarketForecast] = []
    if by_market:
        for market_id, estimate in sorted(by_market.items()):
            p = _probability(_dict(estimate).get("probability"))
            if p is not None:
                interval = _interval(_dict(estimate).get("interval"))
                markets.append(MarketForecast(market_id, questions.get(market_id, ""), p, interval))
    else:  # a result from before the forecast had an interval: prices only
        plain = _dict(probs.get("markets")) or _dict(summary.get("probabilities"))
        for market_id, value in sorted(plain.items()):
            p = _probability(value)
            if p is not None:
                markets.append(MarketForecast(str(market_id), questions.get(str(market_id), ""), p))
    raw_goal = _dict(forecast.get("goal"))
    goal = None
    goal_p = _probability(raw_goal.get("probability"))
    if goal_p is not None:
        goal_id = str(raw_goal.get("market_id") or "m1")
        goal = MarketForecast(
            goal_id, questions.get(goal_id, ""), goal_p, _interval(raw_goal.get("interval"))
        )
    level = raw_goal.get("level")
    replicates = raw_goal.get("replicates")
    if forecast:
        belief = probs.get("goal_belief")
    else:  # schema 1: probabilities.goal was the agents' belief
        belief = probs.get("goal", summary.get("goal_probability"))
    evidence = _dict(st.get("evidence")) or _dict(summary.get("evidence"))
    backend = _dict(st.get("backend"))
    return Forecast(
        verdict=verdict.get("sentence") or None,
        label=verdict.get("label") or None,
        goal=goal,
        level=0.8 if (level_p := _probability(level)) is None else level_p,
        replicates=int(replicates)
        if isinstance(replicates, int) and not isinstance(replicates, bool)
        else None,
        low_evidence=bool(verdict.get("low_evidence") or evidence.get("low_evidence")),
        markets=markets,
        goal_belief=_probability(belief),
        heuristic=bool(backend.get("heuristic") or live_status(job).get("backend") == "heuristic"),
    )


def estimate_text(p: float, interval: tuple[float, float] | None, level: float = 0.8) -> str:
    """'63.0% (80% interval 55.0–70.0%)', or '63.0%' without an interval."""
    if interval is None:
        return f"{p * 100:.1f}%"
    return f"{p * 100:.1f}% ({level * 100:.0f}% interval {interval[0] * 100:.1f}–{interval[1] * 100:.1f}%)"


def forecast_lines(job: jobs_pb2.Job) -> list[str]:
    f = forecast_of(job)
    lines = [f"Goal:        {job.goal}"]
    if f.goal is not None:
        parts = [estimate_text(f.goal.probability, f.goal.interval, f.level)]
        if f.label:
            parts.append(f.label)
        if f.replicates:
            parts.append("1 run" if f.replicates == 1 else f"{f.replicates} replicate runs")
        lines.append(f"Forecast:    {' · '.join(parts)}")
    if f.low_evidence:
        lines.append("             low evidence: the seed named fewer than 3 stakeholders; read it as weak")
    if f.verdict:
        # the label only where the sentence does not already say it ("Very likely: …")
        said = f.label and f.label.lower() in f.verdict.lower()
        lines.append(f"Verdict:     {f.verdict}" + (f" ({f.label})" if f.label and not said else ""))
    if f.markets:
        with_intervals = any(m.interval is not None for m in f.markets)
        lines.append(
            f"Markets (forecast and {f.level * 100:.0f}% interval):"
            if with_intervals
            else "Probabilities (market price of YES):"
        )
        for m in f.markets:
            span = f"  {m.interval[0] * 100:4.1f}–{m.interval[1] * 100:4.1f}%" if m.interval else ""
            lines.append(f"  {m.id:<4} {m.probability * 100:5.1f}%{span}  {m.question}")
    if f.goal_belief is not None:
        quoted = " (first replicate run)" if f.replicates and f.replicates > 1 else ""
        lines.append(f"  agents' own belief in the goal{quoted}: {f.goal_belief * 100:.1f}%")
    if job.HasField("key_insight") and job.key_insight:
        lines.append(f"Key insight: {job.key_insight}")
    if f.heuristic:
        lines.append("(simulated with the deterministic heuristic backend, no language model)")
    return lines + branch_lines(job)


# --- what-if branches ---------------------------------------------------------------------------


def _estimate(value: Any) -> tuple[float, tuple[float, float] | None] | None:
    """A forecast as the reporter writes it ({"probability", "interval"}) or a bare probability."""
    if isinstance(value, dict):
        p = _probability(value.get("probability"))
        return None if p is None else (p, _interval(value.get("interval")))
    p = _probability(value)
    return None if p is None else (p, None)


def branch_lines(job: jobs_pb2.Job) -> list[str]:
    """For a what-if branch: where it branched from and, once reported, the goal forecast before
    and after (result_structured "branch") with the markets that moved."""
    if not job.HasField("branch_of"):
        return []
    lines = [f"What-if:     branch of job {job.branch_of} after round {job.branch_round}"]
    lines.extend(f"             news {event_text(event)}" for event in job.events)
    branch = _dict(_dict(_json(job.result_structured)).get("branch"))
    before, after = _estimate(branch.get("before")), _estimate(branch.get("after"))
    if before is not None and after is not None:
        move = (after[0] - before[0]) * 100
        lines.append(
            f"             goal {estimate_text(*before)} → {estimate_text(*after)} ({move:+.1f} points)"
        )
    for market in branch.get("markets") or []:
        market = _dict(market)
        was, now = _estimate(market.get("before")), _estimate(market.get("after"))
        if was is not None and now is not None and market.get("market_id"):
            lines.append(
                f"  {market['market_id']!s:<4} {was[0] * 100:5.1f}% → {now[0] * 100:5.1f}%"
                f"  ({(now[0] - was[0]) * 100:+.1f} points)"
            )
    return lines


def event_text(event: Any) -> str:
    """One scheduled event in a line: `day 3: Headline (favours YES)`."""
    when = "at once" if event.day == 0 else f"day {event.day}"
    side = f" (favours {event.favours.upper()})" if event.favours else " (neutral)"
    return f"{when}: {event.headline}{side}"


# --- interviews ---------------------------------------------------------------------------------

# How a heuristic answer is labelled wherever it is shown (the UI says the same).
HEURISTIC_LABEL = "templated from the agent's state, not written by a model"
CAMP_NAMES = {"yes": "YES camp", "no": "NO camp", "undecided": "undecided"}


def _wrapped(text: str, width: int, first: str, rest: str) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines.extend(
            textwrap.wrap(paragraph, width, initial_indent=first, subsequent_indent=rest) or [first.rstrip()]
        )
        first = rest
    return lines


def text_width() -> int:
    return max(40, min(100, shutil.get_terminal_size((100, 20)).columns) - 1)


def answer_lines(answer: Any, width: int = 99) -> list[str]:
    """One agent's answer: who, its probability and camp, its persona, the answer, its reason."""
    name = f" · {answer.agent_name}" if answer.agent_name else ""
    camp = CAMP_NAMES.get(answer.camp, answer.camp or "no camp")
    lines = [f"Agent {answer.agent_id}{name} — {answer.probability * 100:.1f}% ({camp})"]
    if answer.persona:
        lines.extend(_wrapped(answer.persona, width, "  ", "  "))
    lines.extend(_wrapped(f'"{answer.answer}"', width, "  > ", "    "))
    if answer.reason:
        lines.extend(_wrapped(f"its stated reason: {answer.reason}", width, "  ", "  "))
    return lines


def backend_line(backend: str, model_id: str) -> str:
    if backend == "heuristic":
        return f"Heuristic backend: answers {HEURISTIC_LABEL}."
    if not backend:
        return ""
    return f"Answered by {model_id} ({backend})." if model_id else f"Answered by the {backend} backend."


def interview_summary(interview: Any) -> str:
    """`Interview 7 of job 12 · the YES camp · 3 answered · 2 more left out by the limit`."""
    parts = [f"Interview {interview.id} of job {interview.job_id}"]
    if interview.target:
        parts.append(interview.target)
    answered = len(interview.answers)
    parts.append("1 answered" if answered == 1 else f"{answered} answered")
    if interview.left_out:
        parts.append(f"{interview.left_out} more left out by the per-interview limit")
    return " · ".join(parts)


def interview_lines(interview: Any, width: int = 99) -> list[str]:
    """A kept transcript: when, whom, the question, each answer, and how it was answered."""
    when = (
        interview.created_at.ToDatetime().strftime("%Y-%m-%d %H:%M")
        if interview.HasField("created_at")
        else ""
    )
    lines = [interview_summary(interview) + (f" · {when}" if when else "")]
    lines.extend(_wrapped(f"Q: {interview.question}", width, "", "   "))
    for answer in interview.answers:
        lines.append("")
        lines.extend(answer_lines(answer, width))
    label = backend_line(interview.backend, interview.model_id)
    if label:
        lines.extend(["", label])
    return lines
