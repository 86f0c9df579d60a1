"""`swarmcast eval` (behind `make eval`): resolved questions through the running stack, scored.

    swarmcast eval QUESTIONS.jsonl --tier small
    swarmcast eval --forecastbench QUESTION_SET.json RESOLUTION_SET.json --tier local

Each question becomes a real job (CreateJob with the question's seed and goal, `enrich_web` off, its
forecast horizon), followed with WatchJob until it ends; the COMPLETED job's `result_structured`
gives the swarm's forecast and the baselines made on the same backend and model. A FAILED job is
retried once (RetryJob), then recorded as failed with its error and left out of the scores; a
question the stack refuses (INVALID_ARGUMENT) is recorded as refused and skipped.

Resume: `<out>/<name>.state.jsonl` gets one JSON line per event, flushed as it happens: the run's
question set (path and sha256 of each file) and tier first, then `submitted {id, job_id}` and
`finished {id, status, …}`. A second run with the same name skips finished questions and watches
submitted-but-unfinished ones by job id (never resubmitting them); a state file of another question
set or tier is refused. Ctrl-C leaves the state resumable and prints the command that resumes.

When every question has finished (or with `--partial`), `<name>.json`, `<name>.md` and `<name>.png`
are written (services/cli/eval_report.py). A progress bar on stderr shows questions done, failures,
the running mean Brier score of the swarm and an estimate of the time left.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import grpc
from google.protobuf import json_format
from swarmcast.jobs.v1 import jobs_pb2

from services.cli.client import (
    NOT_RUNNING_EXIT,
    RPC_TIMEOUT_SECONDS,
    CliError,
    Session,
    bounded_int,
    goal_suggestions,
    rpc_failure,
)
from services.cli.eval_report import build_report, summary_lines, write_outputs
from services.cli.render import TERMINAL, status_name
from services.cli.stack import LOCAL_TIER, Stack, StackError
from services.common.config import REPO_ROOT, Settings
from services.common.scoring import brier
from services.common.status import retry_delay

if TYPE_CHECKING:
    from services.cli.eval_sets import EvalQuestion

DEFAULT_OUT = Path("eval") / "results"
# Jobs in flight at once: the heuristic tiers take several; `local` runs one CPU model, so one.
DEFAULT_PARALLEL = 4
DEFAULT_PARALLEL_BY_TIER = {LOCAL_TIER: 1}
STATE_VERSION = 1
# A CreateJob refused for fair use (RESOURCE_EXHAUSTED) is retried after the delay it names (or the
# default), at most this long per wait, for at most this long in all before the question fails.
FAIR_USE_DEFAULT_WAIT_SECONDS = 5.0
FAIR_USE_MAX_STEP_SECONDS = 60.0
FAIR_USE_MAX_WAIT_SECONDS = 1800.0
# The dedicated account `make eval` signs in as (registered on first use); the stored CLI login is
# left alone. SWARMCAST_EVAL_PASSWORD overrides the password.
EVAL_EMAIL = "eval@swarmcast.example"
DEFAULT_EVAL_PASSWORD = "swarmcast-eval"
# Watching a job survives this many consecutive connection failures (a jobs service restart).
WATCH_ATTEMPTS = 6
BAD_INPUT_EXIT = 2
INTERRUPTED_EXIT = 130


def default_parallel(tier: str) -> int:
    return DEFAULT_PARALLEL_BY_TIER.get(tier, DEFAULT_PARALLEL)


def eval_password() -> str:
    return os.environ.get("SWARMCAST_EVAL_PASSWORD") or DEFAULT_EVAL_PASSWORD


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- the question set -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionSet:
    questions: list[EvalQuestion]
    source: str  # "jsonl" or "forecastbench"
    files: list[dict[str, str]]  # {"path", "sha256"} of each file read
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def identity(self) -> dict[str, Any]:
        return {"source": self.source, "sha256": [f["sha256"] for f in self.files]}

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "files": self.files,
            "count": len(self.questions),
            "skipped": self.skipped,
        }


def read_question_set(questions_path: str | None, forecastbench: Sequence[str] | None) -> QuestionSet:
    """The questions to run, or CliError (exit 2) saying what is wrong with the file(s)."""
    from services.cli.eval_sets import EvalSetError, load_forecastbench, load_questions

    paths = [Path(p) for p in forecastbench] if forecastbench else [Path(questions_path or "")]
    for path in paths:
        if not path.is_file():
            raise CliError(f"question file {path} does not exist", BAD_INPUT_EXIT)
    try:
        if forecastbench:
            loaded = load_forecastbench(paths[0], paths[1])
            questions = list(loaded.questions)
            skipped = [{"id": qid, "reason": reason} for qid, reason in loaded.skipped]
            source = "forecastbench"
        else:
            questions, skipped, source = list(load_questions(paths[0])), [], "jsonl"
    except EvalSetError as exc:
        raise CliError(f"bad question set: {exc}", BAD_INPUT_EXIT) from None
    except OSError as exc:
        raise CliError(f"cannot read the question set: {exc}", BAD_INPUT_EXIT) from None
    if not questions:
        raise CliError(f"no questions to run in {', '.join(map(str, paths))}", BAD_INPUT_EXIT)
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise CliError(f"bad question set: question id {duplicate!r} appears more than once", BAD_INPUT_EXIT)
    files = [{"path": str(p), "sha256": _sha256(p)} for p in paths]
    return QuestionSet(questions, source, files, skipped)


def question_dict(q: EvalQuestion) -> dict[str, Any]:
    return {
        "id": q.id,
        "question": q.question,
        "outcome": bool(q.outcome),
        "resolution_date": str(q.resolution_date) if q.resolution_date is not None else None,
        "category": q.category or None,
        "source": q.source or None,
        "origin": q.origin,
    }


# --- the state file ---------------------------------------------------------------------------------


class StateMismatch(CliError):
    """The state file belongs to another question set or tier."""


class StateFile:
    """`<name>.state.jsonl`: one JSON object a line, appended and flushed to disk as things happen."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.header: dict[str, Any] | None = None
        self.submitted: dict[str, int] = {}  # question id -> the job being waited for
        self.retried: set[str] = set()  # question ids whose job was retried once already
        self.first_job: dict[str, int] = {}  # question id -> its first job (before a retry)
        self.finished: dict[str, dict[str, Any]] = {}
        self.runs: list[dict[str, Any]] = []
        self._file: TextIO | None = None

    def load(self) -> None:
        """Reads an existing file; a last line cut off mid-write is dropped (and truncated away)."""
        raw = self.path.read_bytes()
        keep = raw if raw.endswith(b"\n") or not raw else raw[: raw.rfind(b"\n") + 1]
        if len(keep) != len(raw):
            with self.path.open("r+b") as f:
                f.truncate(len(keep))
        for number, line in enumerate(keep.decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                self._apply(json.loads(line))
            except (ValueError, KeyError, TypeError, AttributeError):
                raise CliError(
                    f"{self.path} line {number} is damaged (not an event this command wrote); "
                    "use --no-resume to start over"
                ) from None
        if self.header is None:
            raise CliError(f"{self.path} has no header line (use --no-resume to start over)")

    def _apply(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "eval":
            self.header = event
        elif kind == "run":
            self.runs.append(event)
        elif kind == "run_end" and self.runs:
            self.runs[-1] = {**self.runs[-1], **{k: v for k, v in event.items() if k != "event"}}
        elif kind == "submitted":
            self.submitted[str(event["id"])] = int(event["job_id"])
            self.first_job.setdefault(str(event["id"]), int(event["job_id"]))
            if event.get("retry_of"):
                self.retried.add(str(event["id"]))
        elif kind == "finished":
            self.finished[str(event["id"])] = event

    def open_for_append(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")

    def append(self, event: dict[str, Any]) -> None:
        assert self._file is not None
        self._file.write(json.dumps(event, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._apply(event)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def open_state(path: Path, header: dict[str, Any], *, resume: bool, err: TextIO) -> StateFile:
    """The run's state: the existing one when resuming (if it is the same set and tier), else new."""
    state = StateFile(path)
    if resume and path.exists():
        state.load()
        old = state.header or {}
        if old.get("tier") != header["tier"] or old.get("question_set") != header["question_set"]:
            old_files = ", ".join(
                f"{f.get('path')} (sha256 {str(f.get('sha256'))[:12]}…)" for f in old.get("files") or []
            )
            new_files = ", ".join(f"{f['path']} (sha256 {f['sha256'][:12]}…)" for f in header["files"])
            raise StateMismatch(
                f"cannot resume {path}: it is a run of tier {old.get('tier')!r} on {old_files}, "
                f"and this run asks for tier {header['tier']!r} on {new_files}. "
                "Give this run another --name, or pass --no-resume to start that one over"
            )
        state.open_for_append()
        return state
    if path.exists():
        print(f"swarmcast eval: --no-resume: starting over; {path} is replaced", file=err)
        path.unlink()
    state.open_for_append()
    state.append(header)
    return state


# --- the progress bar -------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


@dataclass
class EvalProgress:
    """`[####......] 12/44 · 1 failed · 3 running · mean Brier 0.212 · ETA 3m20s` on stderr: redrawn
    on a terminal, one line per finished question on a pipe."""

    total: int
    out: TextIO
    tty: bool
    done: int = 0
    failed: int = 0
    refused: int = 0
    running: int = 0
    briers: list[float] = field(default_factory=list)
    _started: float = field(default_factory=time.monotonic)
    _done_here: int = 0

    def _line(self) -> str:
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        parts = [f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        if self.refused:
            parts.append(f"{self.refused} refused")
        if self.running:
            parts.append(f"{self.running} running")
        if self.briers:
            parts.append(f"mean Brier {sum(self.briers) / len(self.briers):.3f}")
        remaining = self.total - self.done
        if self._done_here and remaining:
            per = (time.monotonic() - self._started) / self._done_here
            parts.append(f"ETA {_duration(per * remaining)}")
        return " · ".join(parts)

    def draw(self, note: str = "") -> None:
        line = self._line()
        if self.tty:
            width = max(40, shutil.get_terminal_size((100, 20)).columns)
            self.out.write("\r" + f"eval {line}"[: width - 1].ljust(width - 1))
        else:
            self.out.write(f"eval {line}{'  ' + note if note else ''}\n")
        self.out.flush()

    def preload(self, record: Mapping[str, Any], outcome: bool) -> None:
        """A question finished in an earlier run."""
        self._count(record, outcome)

    def _count(self, record: Mapping[str, Any], outcome: bool) -> None:
        self.done += 1
        status = record.get("status")
        if status == "failed":
            self.failed += 1
        elif status == "refused":
            self.refused += 1
        p = (record.get("swarm") or {}).get("probability")
        if status == "completed" and isinstance(p, int | float):
            self.briers.append(brier(float(p), outcome))

    def finished(self, question: EvalQuestion, record: Mapping[str, Any]) -> None:
        self.running -= 1
        self._count(record, bool(question.outcome))
        self._done_here += 1
        p = (record.get("swarm") or {}).get("probability")
        what = f"p={p:.3f}" if isinstance(p, int | float) and record.get("status") == "completed" else ""
        self.draw(f"{question.id}: {record.get('status')} {what}".rstrip())

    def close(self) -> None:
        if self.tty:
            self.out.write("\n")
            self.out.flush()


# --- talking to the stack ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    message: str


class EvalSession(Session):
    """The CLI session, plus: CreateJob telling a refused question (INVALID_ARGUMENT) from a broken
    stack, and, for the dedicated eval account, re-signing in with its password when the access
    token expires, so the stored CLI login is never touched."""

    def __init__(self, settings: Settings, password: str | None = None) -> None:
        super().__init__(settings)
        self.eval_password = password
        if password is not None:
            self.creds = None  # signed in by sign_in_eval_user, never from the stored login

    async def _refresh(self) -> bool:
        if self.eval_password is None:
            return await super()._refresh()
        await self.login(EVAL_EMAIL, self.eval_password)
        return True

    async def sign_in_eval_user(self, out: TextIO) -> None:
        assert self.eval_password is not None
        registered = await self.login_or_register(
            EVAL_EMAIL, self.eval_password, password_variable="SWARMCAST_EVAL_PASSWORD"
        )
        if registered:
            print(f"eval        registered {EVAL_EMAIL}", file=out)
            return
        print(f"eval        signed in as {EVAL_EMAIL}", file=out)

    async def create_job(self, request: jobs_pb2.CreateJobRequest) -> jobs_pb2.Job | Refused:
        assert self.clients is not None
        self.require_login()
        attempt = 0
        waited = 0.0
        while True:
            try:
                reply = await self.clients.jobs.CreateJob(
                    request, metadata=self._metadata(), timeout=RPC_TIMEOUT_SECONDS
                )
                return reply.job
            except grpc.aio.AioRpcError as exc:
                if exc.code() is grpc.StatusCode.INVALID_ARGUMENT:
                    problem = exc.details() or "refused as invalid"
                    suggestions = goal_suggestions(exc)
                    if suggestions:
                        problem += " Suggested instead: " + " / ".join(suggestions)
                    return Refused(problem)
                if exc.code() is grpc.StatusCode.ALREADY_EXISTS:
                    # The same question submitted moments ago (a run killed before it wrote the
                    # state line): take that job instead of a second one.
                    found = re.search(r"\(job (\d+)\)", exc.details() or "")
                    if found:
                        return await self.get_job(int(found.group(1)))
                if exc.code() is grpc.StatusCode.RESOURCE_EXHAUSTED and waited < FAIR_USE_MAX_WAIT_SECONDS:
                    # Over the account's live-job cap or creation rate (fair use): a batch waits its
                    # turn instead of failing the question.
                    delay = min(retry_delay(exc) or FAIR_USE_DEFAULT_WAIT_SECONDS, FAIR_USE_MAX_STEP_SECONDS)
                    waited += delay
                    await asyncio.sleep(delay)
                    continue
                unauthenticated = exc.code() is grpc.StatusCode.UNAUTHENTICATED
                attempt += 1
                if unauthenticated and attempt == 1 and await self._refresh():
                    continue
                raise rpc_failure(exc, "jobs", self.settings.jobs_addr) from None

    async def get_job(self, job_id: int) -> jobs_pb2.Job:
        return (await self.jobs_call("GetJob", jobs_pb2.GetJobRequest(job_id=job_id))).job


def _probability(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if 0.0 <= value <= 1.0 else None


def _interval(value: Any) -> list[float] | None:
    if isinstance(value, list) and len(value) == 2:
        low, high = _probability(value[0]), _probability(value[1])
        if low is not None and high is not None and low <= high:
            return [low, high]
    return None


def _opening_from_markets_config(job: jobs_pb2.Job, market_id: str) -> float | None:
    if not job.HasField("markets_config"):
        return None
    config: Any = json_format.MessageToDict(job.markets_config)
    market: Any
    for market in config if isinstance(config, list) else []:
        if isinstance(market, dict) and str(market.get("id")) == market_id:
            return _probability(market.get("initial_price_yes"))
    return None


def _seconds(job: jobs_pb2.Job) -> float | None:
    if job.HasField("created_at") and job.HasField("completed_at"):
        span = job.completed_at.ToDatetime() - job.created_at.ToDatetime()
        return round(span.total_seconds(), 1)
    return None


def _object(value: Any) -> dict[str, Any]:
    """A JSON object as a dict; anything else (absent, a list, a number) as an empty one."""
    return value if isinstance(value, dict) else {}


def completed_record(job: jobs_pb2.Job) -> dict[str, Any]:
    """What a COMPLETED job forecast: the swarm's headline and the baselines of the same run."""
    try:
        st = json.loads(job.result_structured) if job.result_structured else {}
    except ValueError:
        st = {}
    forecast = _object(_object(st).get("forecast"))
    goal = _object(forecast.get("goal"))
    market_id = str(goal.get("market_id") or "m1")
    probability = _probability(goal.get("probability"))
    baselines = forecast.get("baselines")
    if isinstance(baselines, dict):
        opening = _probability(baselines.get("opening_price"))
        raw_direct = _object(baselines.get("direct"))
        direct = {
            "probability": _probability(raw_direct.get("probability")),
            "source": raw_direct.get("source"),
            "reason": raw_direct.get("reason"),
        }
        baseline_source = "forecast.baselines"
    else:  # a stack from before the baselines: the opening price is in markets_config
        opening = _opening_from_markets_config(job, market_id)
        direct = {
            "probability": None,
            "source": None,
            "reason": "the stack's result has no forecast.baselines (made before they existed)",
        }
        baseline_source = "markets_config"
    record: dict[str, Any] = {
        "status": "completed",
        "job_id": job.id,
        "seconds": _seconds(job),
        "swarm": {
            "market_id": market_id,
            "probability": probability,
            "interval": _interval(goal.get("interval")),
            "level": _probability(goal.get("level")),
            "replicates": goal.get("replicates"),
        },
        "opening_price": opening,
        "direct": direct,
        "baseline_source": baseline_source,
        "backend": st.get("backend") if isinstance(st.get("backend"), dict) else None,
        "schema_version": st.get("schema_version"),
        "writer": st.get("writer"),
    }
    if probability is None:
        record.update(status="failed", error="the job completed without a forecast for its goal")
    return record


@dataclass
class Runner:
    session: EvalSession
    state: StateFile
    tier: str
    progress: EvalProgress

    async def wait(self, job_id: int) -> jobs_pb2.Job:
        """The job once it is terminal (GetJob, with its results), following WatchJob."""
        failures = 0  # consecutive: the stack unreachable (a restarting jobs service) is waited out
        while True:
            try:
                async for _ in self.session.watch(job_id):
                    failures = 0
                job = await self.session.get_job(job_id)
            except CliError as exc:
                failures += 1
                if exc.code != NOT_RUNNING_EXIT or failures >= WATCH_ATTEMPTS:
                    raise
                await asyncio.sleep(min(30.0, 2.0**failures))
                continue
            if status_name(job) in TERMINAL:
                return job
            await asyncio.sleep(1.0)  # the stream ended early: watch again

    async def run_question(self, q: EvalQuestion) -> None:
        self.progress.running += 1
        try:
            await self._run_question(q)
        finally:
            if q.id not in self.state.finished:  # finish() already counted it
                self.progress.running -= 1

    async def _run_question(self, q: EvalQuestion) -> None:
        job_id = self.state.submitted.get(q.id)
        started = time.monotonic()
        if job_id is None:
            request = jobs_pb2.CreateJobRequest(
                seed_text=q.seed, goal=q.question, tier=self.tier, enrich_web=False
            )
            if q.forecast_days:
                request.forecast_days = int(q.forecast_days)
            created = await self.session.create_job(request)
            if isinstance(created, Refused):
                self.finish(q, {"status": "refused", "job_id": None, "error": created.message})
                return
            job_id = created.id
            self.state.append({"event": "submitted", "id": q.id, "job_id": job_id, "at": _now()})
        retried = q.id in self.state.retried
        while True:
            job = await self.wait(job_id)
            if status_name(job) == "COMPLETED":
                record = completed_record(job)
                if record["seconds"] is None:
                    record["seconds"] = round(time.monotonic() - started, 1)
                if retried:
                    record["retry_of"] = self._first_job(q.id)
                self.finish(q, record)
                return
            error = job.error_message or f"the job ended {status_name(job)} with no reason recorded"
            if not retried:
                try:
                    new = (
                        await self.session.jobs_call("RetryJob", jobs_pb2.RetryJobRequest(job_id=job_id))
                    ).job
                except CliError as exc:
                    if exc.code in (2, NOT_RUNNING_EXIT):
                        raise
                    self.finish(
                        q,
                        {
                            "status": "failed",
                            "job_id": job_id,
                            "error": f"{error} (retry refused: {exc.message})",
                        },
                    )
                    return
                self.state.append(
                    {
                        "event": "submitted",
                        "id": q.id,
                        "job_id": new.id,
                        "retry_of": job_id,
                        "error": error,
                        "at": _now(),
                    }
                )
                job_id, retried = new.id, True
                continue
            self.finish(
                q, {"status": "failed", "job_id": job_id, "retry_of": self._first_job(q.id), "error": error}
            )
            return

    def _first_job(self, question_id: str) -> int | None:
        return self.state.first_job.get(question_id)

    def finish(self, q: EvalQuestion, record: dict[str, Any]) -> None:
        self.state.append({"event": "finished", "id": q.id, **record, "at": _now()})
        self.progress.finished(q, record)


# --- the command ------------------------------------------------------------------------------------


def add_parser(sub: Any) -> None:
    """The `eval` subcommand's arguments (wired into services/cli/main.py)."""
    cmd = sub.add_parser(
        "eval",
        help="score the stack on resolved questions against baselines (make eval)",
        description="Runs resolved yes/no questions through the running stack as real jobs and "
        "writes <out>/<name>.json, .md and .png: Brier, log loss, calibration and sharpness of the "
        "swarm and of three baselines (0.5, the opening price, a single forecast without simulation).",
    )
    cmd.add_argument(
        "questions", nargs="?", metavar="QUESTIONS.jsonl", help="resolved questions, one JSON object a line"
    )
    cmd.add_argument(
        "--forecastbench",
        nargs=2,
        metavar=("QUESTION_SET.json", "RESOLUTION_SET.json"),
        help="a ForecastBench question set and its resolution set instead of QUESTIONS.jsonl",
    )
    cmd.add_argument("--tier", default="small", help="the tier every job runs on (default small)")
    cmd.add_argument("--out", default=str(DEFAULT_OUT), help=f"output folder (default {DEFAULT_OUT})")
    cmd.add_argument(
        "--name",
        help="output and state file name (default <YYYY-MM-DD>-<tier>, with --forecastbench "
        "<YYYY-MM-DD>-<tier>-forecastbench)",
    )
    cmd.add_argument(
        "--parallel",
        type=bounded_int(1, 64),
        help=f"jobs in flight at once (default {DEFAULT_PARALLEL}; 1 on the {LOCAL_TIER} tier)",
    )
    cmd.add_argument("--limit", type=bounded_int(1, 1_000_000), help="only the first N questions")
    cmd.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="continue the run of the same name from its state file (default on)",
    )
    cmd.add_argument(
        "--partial", action="store_true", help="write the outputs even when not every question has finished"
    )
    cmd.add_argument(
        "--start-stack", action="store_true", help="bring the local stack up first (as `swarmcast demo` does)"
    )
    cmd.add_argument(
        "--eval-user",
        action="store_true",
        help=f"run as the local eval account {EVAL_EMAIL} (registered on first use; "
        "SWARMCAST_EVAL_PASSWORD), leaving the stored login alone",
    )


def default_name(tier: str, *, forecastbench: bool, today: dt.date | None = None) -> str:
    day = (today or dt.date.today()).isoformat()
    return f"{day}-{tier}" + ("-forecastbench" if forecastbench else "")


def stack_versions() -> dict[str, Any]:
    try:
        version: str | None = importlib.metadata.version("swarmcast")
    except importlib.metadata.PackageNotFoundError:
        version = None
    commit = None
    if (REPO_ROOT / ".git").exists() and shutil.which("git"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            result = subprocess.run(
                ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            commit = result.stdout.strip() or None
    return {"swarmcast": version, "git_commit": commit}


def resume_command(args: argparse.Namespace, name: str) -> str:
    words = ["swarmcast", "eval"]
    words += ["--forecastbench", *args.forecastbench] if args.forecastbench else [args.questions]
    words += ["--tier", args.tier, "--out", args.out, "--name", name]
    if args.limit:
        words += ["--limit", str(args.limit)]
    if args.eval_user:
        words.append("--eval-user")
    return " ".join(shlex.quote(str(w)) for w in words)


@dataclass
class _Run:
    args: argparse.Namespace
    settings: Settings
    qset: QuestionSet
    selection: list[EvalQuestion]
    name: str
    out_dir: Path
    parallel: int
    out: TextIO
    err: TextIO
    state: StateFile | None = None

    def header(self) -> dict[str, Any]:
        return {
            "event": "eval",
            "version": STATE_VERSION,
            "name": self.name,
            "tier": self.args.tier,
            "question_set": self.qset.identity(),
            "files": self.qset.files,
            "created_at": _now(),
        }

    async def evaluate(self) -> None:
        password = eval_password() if self.args.eval_user else None
        async with EvalSession(self.settings, password) as session:
            if password is not None:
                await session.sign_in_eval_user(self.out)
            else:  # logged in, and the stack answers, before anything is written
                await session.jobs_call("ListJobs", jobs_pb2.ListJobsRequest(page=1, per_page=1))
            state_path = self.out_dir / f"{self.name}.state.jsonl"
            self.state = state = open_state(state_path, self.header(), resume=self.args.resume, err=self.err)
            state.append(
                {
                    "event": "run",
                    "started_at": _now(),
                    "limit": self.args.limit,
                    "parallel": self.parallel,
                    "user": session.creds.email if session.creds else None,
                }
            )
            progress = EvalProgress(total=len(self.selection), out=self.err, tty=self.err.isatty())
            for q in self.selection:
                if q.id in state.finished:
                    progress.preload(state.finished[q.id], bool(q.outcome))
            pending = [q for q in self.selection if q.id not in state.finished]
            rewatch = sum(1 for q in pending if q.id in state.submitted)
            print(
                f"eval        {_plural(len(self.selection), 'question')} on tier {self.args.tier}, "
                f"{len(self.selection) - len(pending)} finished earlier, {rewatch} to follow up, "
                f"{self.parallel} at a time; state in {state_path}",
                file=self.out,
                flush=True,
            )
            if not pending:
                return
            progress.draw()
            runner = Runner(session, state, self.args.tier, progress)
            slots = asyncio.Semaphore(self.parallel)

            async def one(q: EvalQuestion) -> None:
                async with slots:
                    await runner.run_question(q)

            try:
                async with asyncio.TaskGroup() as group:
                    for q in pending:
                        group.create_task(one(q))
            except ExceptionGroup as failures:
                raise failures.exceptions[0] from None
            finally:
                progress.close()

    def done(self) -> bool:
        return self.state is not None and all(q.id in self.state.finished for q in self.selection)

    def write(self) -> None:
        assert self.state is not None
        records = self.state.finished
        chosen = [records.get(q.id) or {} for q in self.selection]
        versions = {
            **stack_versions(),
            "result_schema": sorted({str(r["schema_version"]) for r in chosen if r.get("schema_version")}),
            "writers": sorted({str(r["writer"]) for r in chosen if r.get("writer")}),
        }
        meta = {
            "name": self.name,
            "tier": self.args.tier,
            "question_set": self.qset.describe(),
            "limit": self.args.limit,
            "started_at": self.state.runs[0].get("started_at") if self.state.runs else None,
            "finished_at": _now(),
            "runs": self.state.runs,
            "versions": versions,
            "state_file": str(self.state.path),
        }
        report = build_report(meta, [question_dict(q) for q in self.selection], records)
        written = write_outputs(report, self.out_dir, self.name, self.err)
        for line in summary_lines(report):
            print(line, file=self.out)
        counts = report["counts"]
        if counts["failed"] or counts["refused"]:
            print(
                f"{counts['failed']} failed and {counts['refused']} refused questions are left out of the "
                "scores (listed in the report)",
                file=self.out,
            )
        print(f"Results:     {written.json_path}", file=self.out)
        print(f"Table:       {written.markdown_path}", file=self.out)
        if written.png_path is not None:
            print(f"Reliability: {written.png_path}", file=self.out)
        self.out.flush()


def _settings(args: argparse.Namespace, out: TextIO) -> Settings:
    if not args.start_stack:
        return Settings()
    env = dict(os.environ)
    if args.tier == LOCAL_TIER:
        env["SWARMCAST_LOCAL_LLM"] = "1"
    stack = Stack(env, out=lambda line: print(line, file=out, flush=True))
    try:
        stack.up()
    except StackError as exc:
        raise CliError(f"the stack did not come up: {exc}") from None
    return stack.settings


NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def run(args: argparse.Namespace, out: TextIO, err: TextIO | None = None) -> int:
    """`swarmcast eval`; exit 0 when every question finished and the outputs are written."""
    err = err or sys.stderr
    if bool(args.questions) == bool(args.forecastbench):
        raise CliError(
            "give either QUESTIONS.jsonl or --forecastbench QUESTION_SET.json RESOLUTION_SET.json",
            BAD_INPUT_EXIT,
        )
    name = args.name or default_name(args.tier, forecastbench=bool(args.forecastbench))
    if not NAME_PATTERN.fullmatch(name):
        raise CliError(f"--name {name!r}: use letters, digits, '.', '_' and '-' only", BAD_INPUT_EXIT)
    qset = read_question_set(args.questions, args.forecastbench)
    selection = qset.questions[: args.limit] if args.limit else list(qset.questions)
    settings = _settings(args, out)
    job = _Run(
        args=args,
        settings=settings,
        qset=qset,
        selection=selection,
        name=name,
        out_dir=Path(args.out),
        parallel=args.parallel or default_parallel(args.tier),
        out=out,
        err=err,
    )
    hint = f"resume with: {resume_command(args, name)}"
    try:
        asyncio.run(job.evaluate())
        assert job.state is not None
        job.state.append({"event": "run_end", "ended_at": _now(), "stopped": None})
    except KeyboardInterrupt:
        _stopped(job, "interrupted", "jobs already submitted keep running on the stack", hint)
        return INTERRUPTED_EXIT
    except StateMismatch:
        raise
    except CliError as exc:
        if job.state is None:
            raise
        _stopped(job, "stopped", exc.message, hint)
        return exc.code
    finally:
        if job.state is not None:
            job.state.close()
    if not job.done():
        if args.partial:
            job.write()
        return 1
    job.write()
    return 0


def _stopped(job: _Run, what: str, why: str, hint: str) -> None:
    assert job.err is not None
    state = job.state
    finished = sum(1 for q in job.selection if state is not None and q.id in state.finished)
    if state is not None:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            state.append({"event": "run_end", "ended_at": _now(), "stopped": what})
    print(
        f"\nswarmcast eval {what}: {why}; {finished} of {len(job.selection)} questions finished "
        f"(state in {state.path if state else '-'})\n{hint}",
        file=job.err,
        flush=True,
    )
    if job.args.partial and state is not None:
        job.write()
