"""NATS subject names (docs/architecture.md §3) and the JetStream streams that store them.

Subjects here are *logical*: the event bus prepends ``settings.nats_prefix`` to every subject
and stream name, so callers never deal with the prefix. Each subject carries exactly one
protobuf message type from ``swarmcast.events.v1``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

_TOKEN_RE = re.compile(r"^[^.*>\s]+$")


def _token(value: object, what: str) -> str:
    """One subject token; refuses dots, wildcards and whitespace so an id can't widen a subject."""
    text = str(value)
    if not _TOKEN_RE.match(text):
        raise ValueError(f"invalid {what} for a NATS subject token: {text!r}")
    return text


# --- jobs -> gpu_runner
def dispatch(tier: str) -> str:
    """``jobs.dispatch.<tier>``: run this job (JobDispatch); a work queue, one runner takes it."""
    return f"jobs.dispatch.{_token(tier, 'tier')}"


def cancel(job_id: int | str) -> str:
    """``jobs.cancel.<job_id>``: stop this run (JobCancel)."""
    return f"jobs.cancel.{_token(job_id, 'job_id')}"


# --- gpu_runner -> jobs, reporter
def runner_progress(job_id: int | str) -> str:
    """``runner.progress.<job_id>``: stage, round, live status, heartbeat (RunnerProgress)."""
    return f"runner.progress.{_token(job_id, 'job_id')}"


def runner_completed(job_id: int | str) -> str:
    """``runner.completed.<job_id>``: artifacts uploaded (RunnerCompleted)."""
    return f"runner.completed.{_token(job_id, 'job_id')}"


def runner_failed(job_id: int | str) -> str:
    """``runner.failed.<job_id>``: the run failed (RunnerFailed)."""
    return f"runner.failed.{_token(job_id, 'job_id')}"


# --- reporter -> jobs
def reporter_completed(job_id: int | str) -> str:
    """``reporter.completed.<job_id>``: report written (ReporterCompleted)."""
    return f"reporter.completed.{_token(job_id, 'job_id')}"


def reporter_failed(job_id: int | str) -> str:
    """``reporter.failed.<job_id>``: the report failed (ReporterFailed)."""
    return f"reporter.failed.{_token(job_id, 'job_id')}"


# --- interviews (core NATS, never stored: no stream's subjects cover `interview.>`)
def interview_request(tier: str) -> str:
    """``interview.request.<tier>``: answer a question from a job's final checkpoint
    (InterviewRequest); runners of the tier share the queue group :func:`interview_queue`."""
    return f"interview.request.{_token(tier, 'tier')}"


def interview_queue(tier: str) -> str:
    """The queue group of a tier's runners on :func:`interview_request`: one of them answers."""
    return f"runner-interview-{_token(tier, 'tier')}"


def interview_reply(interview_id: int | str) -> str:
    """``interview.reply.<interview_id>``: the answers of one interview (InterviewReply)."""
    return f"interview.reply.{_token(interview_id, 'interview_id')}"


INTERVIEW_REQUEST_ALL = "interview.request.*"
INTERVIEW_REPLY_ALL = "interview.reply.*"

EMAIL_REQUESTED = "auth.email.requested"
USER_DELETED = "auth.user.deleted"


def token_cutoff(user_id: int | str) -> str:
    """``auth.token_cutoff.<user_id>``: the user's access-token cutoff (TokenCutoff); the last
    message of each subject is the current value (services/common/revocation.py)."""
    return f"auth.token_cutoff.{_token(user_id, 'user_id')}"


TOKEN_CUTOFF_ALL = "auth.token_cutoff.*"
ERRORS_CAPTURED = "errors.captured"

# Wildcards for consumers that take every job's events of one kind.
DISPATCH_ALL = "jobs.dispatch.*"
CANCEL_ALL = "jobs.cancel.*"
RUNNER_PROGRESS_ALL = "runner.progress.*"
RUNNER_COMPLETED_ALL = "runner.completed.*"
RUNNER_FAILED_ALL = "runner.failed.*"
REPORTER_COMPLETED_ALL = "reporter.completed.*"
REPORTER_FAILED_ALL = "reporter.failed.*"


# --- streams
class Retention(StrEnum):
    LIMITS = "limits"
    WORK_QUEUE = "workqueue"


@dataclass(frozen=True)
class StreamDef:
    """A JetStream stream, by logical name; the bus prefixes ``name`` and ``subjects``."""

    name: str
    subjects: tuple[str, ...]
    retention: Retention
    max_age: timedelta
    # Nats-Msg-Id dedupe horizon: a retried publish inside this window is stored once.
    duplicate_window: timedelta
    description: str


_WEEK = timedelta(days=7)
_DEDUPE = timedelta(minutes=10)

JOBS_DISPATCH = StreamDef(
    name="JOBS_DISPATCH",
    subjects=("jobs.dispatch.>",),
    # Work queue: a message is removed once one runner acks it, so each dispatch runs once.
    retention=Retention.WORK_QUEUE,
    max_age=_WEEK,
    duplicate_window=_DEDUPE,
    description="jobs -> gpu_runner: run this job (work queue)",
)
JOBS_CONTROL = StreamDef(
    name="JOBS_CONTROL",
    subjects=("jobs.cancel.>",),
    retention=Retention.LIMITS,
    max_age=_WEEK,
    duplicate_window=_DEDUPE,
    description="jobs -> gpu_runner: cancel a run",
)
RUNNER = StreamDef(
    name="RUNNER",
    subjects=("runner.>",),
    retention=Retention.LIMITS,
    max_age=_WEEK,
    duplicate_window=_DEDUPE,
    description="gpu_runner -> jobs, reporter: progress, completion, failure",
)
REPORTER = StreamDef(
    name="REPORTER",
    subjects=("reporter.>",),
    retention=Retention.LIMITS,
    max_age=_WEEK,
    duplicate_window=_DEDUPE,
    description="reporter -> jobs: report completed or failed",
)
AUTH = StreamDef(
    name="AUTH",
    subjects=("auth.>",),
    retention=Retention.LIMITS,
    # Email requests carry one-time link tokens: keep them no longer than delivery needs. Token
    # cutoffs must outlive the access-token lifetime (15 min) so a restarted service relearns them.
    max_age=timedelta(days=1),
    duplicate_window=_DEDUPE,
    description="auth -> mail sender, jobs, every service: email requests, deleted users, token cutoffs",
)
ERRORS = StreamDef(
    name="ERRORS",
    subjects=("errors.>",),
    retention=Retention.LIMITS,
    max_age=_WEEK,
    duplicate_window=_DEDUPE,
    description="every service -> jobs: captured unhandled errors",
)

STREAMS: tuple[StreamDef, ...] = (JOBS_DISPATCH, JOBS_CONTROL, RUNNER, REPORTER, AUTH, ERRORS)


def subject_covers(pattern: str, subject: str) -> bool:
    """True if every subject matched by ``subject`` (which may hold wildcards) matches ``pattern``."""
    p_tokens = pattern.split(".")
    s_tokens = subject.split(".")
    for i, p in enumerate(p_tokens):
        if p == ">":
            return len(s_tokens) > i
        if i >= len(s_tokens):
            return False
        s = s_tokens[i]
        if s == ">":
            return False  # the subject reaches further than a non-'>' pattern token
        if p != "*" and (s == "*" or p != s):
            return False
    return len(s_tokens) == len(p_tokens)


def stream_for(subject: str) -> StreamDef:
    """The stream that stores ``subject`` (a logical subject, wildcards allowed)."""
    for stream in STREAMS:
        if any(subject_covers(pattern, subject) for pattern in stream.subjects):
            return stream
    raise ValueError(f"no JetStream stream stores subject {subject!r}")
