"""Inbound events → row changes, as pure functions (the repository turns them into guarded SQL).

Order independence: a run's final row must not depend on the order in which its events were
processed (JetStream gives no order across subjects, and redelivery repeats events). So

- runner progress applies only while the run is before REPORTING and only if its `seq` is newer
  than the last applied one (the repository tracks `seq` per run);
- runner.completed restates the final value of every field progress streams (stage, live_status,
  heartbeat, pod, markets, provider, timings, enrichment), so whichever progress events happened
  to be applied before it, the row after it is the same;
- reporter.completed applies only from REPORTING; one arriving earlier is deferred (redelivered
  later) rather than dropped;
- a terminal job and an event of a superseded run (another `run_id`) change nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from swarmcast.events.v1 import events_pb2

from services.jobs.domain.state_machine import JobStatus, allowed_sources

# The runner reports stages 0..4; 5 (reporting) is entered on runner.completed.
STAGE_PROVISIONING = 0
STAGE_ANALYZING = 4
STAGE_REPORTING = 5
STAGE_NAMES = ("provisioning", "seeding", "building", "simulating", "analyzing", "reporting")

# Statuses in which runner progress is applied; the status itself only ever moves forward.
PROGRESS_STATUSES: frozenset[JobStatus] = frozenset(
    {JobStatus.PENDING, JobStatus.PROVISIONING, JobStatus.RUNNING}
)
KEY_INSIGHT_MAX = 200
# error_message is text, but a multi-megabyte traceback helps nobody in a UI.
ERROR_MESSAGE_MAX = 4_000

CANCELLED_BY_USER = "cancelled by user"

_NUL = re.compile("\x00")


def clean(text: str) -> str:
    """Postgres text cannot hold NUL: a runner bug must not turn into a poison message."""
    return _NUL.sub("", text)


def truncate(text: str, limit: int) -> str:
    text = clean(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ts(value: Timestamp, has: bool) -> datetime | None:
    return value.ToDatetime(tzinfo=UTC) if has else None


def struct_to_dict(message: Message) -> Any:
    return json_format.MessageToDict(message)


def _clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(k)): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class RowChange:
    """A guarded update of one job row.

    The repository applies `values` only `WHERE status IN guard AND workflow_run_id = run_id`.
    With `move_if_legal`, the status moves to `target` only where the state machine allows it and
    otherwise stays (progress of a resumed run must not move a RUNNING job back to PROVISIONING);
    without it, `guard` is exactly `allowed_sources(target)` and the status always moves.
    """

    target: JobStatus
    guard: frozenset[JobStatus]
    values: dict[str, Any] = field(default_factory=dict)
    move_if_legal: bool = False


def progress_change(event: events_pb2.RunnerProgress, received_at: datetime) -> RowChange:
    stage = min(max(event.stage, STAGE_PROVISIONING), STAGE_ANALYZING)
    live: dict[str, Any] = (
        _clean_json(struct_to_dict(event.live_status)) if event.HasField("live_status") else {}
    )
    live.update(
        stage=stage,
        stage_name=clean(event.stage_name) or STAGE_NAMES[stage],
        round=event.round,
        max_rounds=event.max_rounds,
        seq=event.seq,
    )
    values: dict[str, Any] = {
        "pipeline_stage": stage,
        "live_status": live,
        # The runner's clock: sent_at is what the heartbeat means. Fall back to our receipt time.
        "last_heartbeat": ts(event.sent_at, event.HasField("sent_at")) or received_at,
    }
    if event.pod_id:
        values["pod_id"] = truncate(event.pod_id, 255)
    if event.HasField("markets") and len(event.markets.values) > 0:
        values["markets_config"] = _clean_json(struct_to_dict(event.markets))
    if event.enriched_seed:
        values["enriched_seed"] = clean(event.enriched_seed)
    if event.enrichment_citations:
        values["enrichment_citations"] = clean(event.enrichment_citations)
    if event.provision_seconds > 0:
        values["provision_seconds"] = round(event.provision_seconds)
    if event.gpu_provider:
        values["gpu_provider"] = truncate(event.gpu_provider, 50)
    target = JobStatus.PROVISIONING if stage == STAGE_PROVISIONING else JobStatus.RUNNING
    return RowChange(target=target, guard=PROGRESS_STATUSES, values=values, move_if_legal=True)


def runner_completed_change(
    event: events_pb2.RunnerCompleted, *, sim_data_available: bool, received_at: datetime
) -> RowChange:
    finished = ts(event.completed_at, event.HasField("completed_at")) or received_at
    live: dict[str, Any] = {
        "stage": STAGE_REPORTING,
        "stage_name": STAGE_NAMES[STAGE_REPORTING],
        "backend": clean(event.backend),
        "model_id": clean(event.model_id),
    }
    if event.HasField("summary"):
        live["summary"] = _clean_json(struct_to_dict(event.summary))
    values: dict[str, Any] = {
        "pipeline_stage": STAGE_REPORTING,
        "live_status": live,
        "last_heartbeat": finished,
        "result_graph": clean(event.result_graph) or None,
        "result_chat_log": clean(event.result_chat_log) or None,
        "sim_data_available": sim_data_available,
        "provision_seconds": round(event.provision_seconds),
        "pipeline_seconds": round(event.pipeline_seconds),
        "gpu_provider": truncate(event.gpu_provider, 50) or None,
        "gpu_cost_usd": event.gpu_cost_usd,
    }
    if event.pod_id:
        values["pod_id"] = truncate(event.pod_id, 255)
    if event.HasField("markets") and len(event.markets.values) > 0:
        values["markets_config"] = _clean_json(struct_to_dict(event.markets))
    if event.enriched_seed:
        values["enriched_seed"] = clean(event.enriched_seed)
    if event.enrichment_citations:
        values["enrichment_citations"] = clean(event.enrichment_citations)
    return RowChange(target=JobStatus.REPORTING, guard=allowed_sources(JobStatus.REPORTING), values=values)


def report_values(event: events_pb2.ReporterCompleted) -> dict[str, Any]:
    """The report fields of a job, as a reporter.completed states them."""
    return {
        "result_report": clean(event.report_markdown) or None,
        "result_structured": clean(event.result_structured) or None,
        "key_insight": truncate(event.key_insight, KEY_INSIGHT_MAX) or None,
    }


def reporter_completed_change(event: events_pb2.ReporterCompleted, *, received_at: datetime) -> RowChange:
    values = report_values(event)
    values["completed_at"] = ts(event.completed_at, event.HasField("completed_at")) or received_at
    return RowChange(target=JobStatus.COMPLETED, guard=allowed_sources(JobStatus.COMPLETED), values=values)


def failed_change(message: str) -> RowChange:
    return RowChange(
        target=JobStatus.FAILED,
        guard=allowed_sources(JobStatus.FAILED),
        values={"error_message": truncate(message, ERROR_MESSAGE_MAX)},
    )


# --- failure and staleness decisions ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Redispatch:
    """Run the job again, resuming from its checkpoint."""

    reason: str


@dataclass(frozen=True, slots=True)
class Fail:
    message: str


Outcome = Redispatch | Fail


def runner_failure_outcome(kind: int, reason: str, *, retry_count: int, retry_budget: int) -> Outcome:
    reason = clean(reason).strip() or "no reason given"
    if kind == events_pb2.FAILURE_KIND_TRANSIENT:
        if retry_count < retry_budget:
            return Redispatch(reason=f"runner failed transiently: {reason}")
        return Fail(
            f"simulation failed after {retry_count + 1} attempts (retry budget of {retry_budget} spent): "
            f"{reason}"
        )
    # Unspecified counts as permanent: retrying an unknown failure could loop forever.
    return Fail(f"simulation failed: {reason}")


def reporter_failure_message(reason: str) -> str:
    return f"report generation failed: {clean(reason).strip() or 'no reason given'}"


# A bigger tier loads a bigger model and runs longer rounds, so it is allowed longer silences.
TIER_STALE_FACTORS: dict[str, float] = {"small": 1.0, "medium": 1.5, "large": 2.0}
DEFAULT_STALE_FACTOR = 2.0
# Reporting has no heartbeat; the reporter is given this many stale thresholds before the job fails.
REPORTING_STALE_FACTOR = 5.0


def stale_threshold_seconds(tier: str | None, base_seconds: float) -> float:
    return base_seconds * TIER_STALE_FACTORS.get(tier or "", DEFAULT_STALE_FACTOR)


def last_sign_of_life(
    dispatched_at: datetime, taken_at: datetime | None, last_seen_at: datetime | None
) -> datetime:
    """The newest of dispatch, pickup and last progress (all on the jobs service's clock)."""
    return max(t for t in (dispatched_at, taken_at, last_seen_at) if t is not None)


def stale_limit_seconds(status: JobStatus, tier: str | None, base_seconds: float) -> float:
    threshold = stale_threshold_seconds(tier, base_seconds)
    return threshold * REPORTING_STALE_FACTOR if status is JobStatus.REPORTING else threshold


def stale_outcome(
    status: JobStatus, *, retry_count: int, retry_budget: int, threshold_seconds: float
) -> Outcome:
    if status is JobStatus.REPORTING:
        # The runner has finished; re-running it cannot produce a report (and would move the job
        # backwards), so a lost reporter ends the job.
        return Fail(
            f"the report was not produced within {threshold_seconds * REPORTING_STALE_FACTOR:g}s "
            "of the simulation finishing"
        )
    if retry_count < retry_budget:
        return Redispatch(reason=f"no heartbeat from the runner for {threshold_seconds:g}s")
    return Fail(
        f"the runner stopped responding (no heartbeat for {threshold_seconds:g}s) and the retry "
        f"budget of {retry_budget} re-dispatches is spent"
    )
