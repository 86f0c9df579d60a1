"""Report status, kept in object storage beside the artifacts (the reporter owns no database).

`sim-data/<job_id>/report_status.json` records the state of the job's report, the run it
answers, the writer, attempts and revision, and the runner.completed fields the report was
written from, so RegenerateReport can rewrite it later and any reporter replica, or a restarted
one, sees the same state. Deleting a job's prefix removes it with the artifacts.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from google.protobuf import json_format
from swarmcast.events.v1 import events_pb2

from services.common.storage import ObjectNotFound, ObjectStore

log = logging.getLogger("swarmcast.reporter.status")

REPORT_NAME = "report.md"
STATUS_NAME = "report_status.json"


def job_prefix(job_id: int) -> str:
    return f"sim-data/{job_id}/"


def artifact_key(job_id: int, name: str) -> str:
    return f"{job_prefix(job_id)}{name}"


def report_key(job_id: int) -> str:
    return artifact_key(job_id, REPORT_NAME)


def status_key(job_id: int) -> str:
    return artifact_key(job_id, STATUS_NAME)


class ReportState(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    WRITING = "WRITING"
    DONE = "DONE"
    FAILED = "FAILED"


@dataclass
class RunSource:
    """What a report is written from: the fields of the runner.completed event it answers."""

    job_id: int
    run_id: str
    goal: str
    forecast_days: int
    # Artifact name -> object key (the runner's manifest).
    artifacts: dict[str, str]
    bucket: str
    backend: str
    model_id: str
    # The runner's completed_at (ISO 8601), "" when the event carried none.
    completed_at: str
    # A what-if branch's origin (RunnerCompleted.branch): parent_job_id, round and parent_forecast
    # (the parent's result_structured "forecast"); None for a job that is not a branch.
    branch: dict[str, Any] | None = None

    @classmethod
    def from_event(cls, event: events_pb2.RunnerCompleted) -> RunSource:
        completed = (
            event.completed_at.ToDatetime(tzinfo=UTC).isoformat() if event.HasField("completed_at") else ""
        )
        return cls(
            job_id=event.job_id,
            run_id=event.run_id,
            goal=event.goal,
            forecast_days=event.forecast_days,
            artifacts=dict(event.artifacts),
            bucket=event.bucket,
            backend=event.backend,
            model_id=event.model_id,
            completed_at=completed,
            branch=_branch_of(event),
        )


def _branch_of(event: events_pb2.RunnerCompleted) -> dict[str, Any] | None:
    if not event.HasField("branch"):
        return None
    branch = event.branch
    return {
        "parent_job_id": int(branch.parent_job_id),
        "round": int(branch.round),
        "parent_forecast": json_format.MessageToDict(branch.parent_forecast),
    }


@dataclass
class ReportStatus:
    job_id: int
    state: ReportState = ReportState.NOT_STARTED
    run_id: str = ""
    # "llm" or "deterministic" (of the report in report_key; kept across a failed regeneration).
    writer: str = ""
    report_key: str = ""
    error_message: str = ""
    # "transient" or "permanent" when state is FAILED.
    failure_kind: str = ""
    updated_at: str = ""
    # Writing attempts for this run (redeliveries and regenerations count).
    attempts: int = 0
    # 1 for the report answering runner.completed, +1 per regeneration.
    revision: int = 0
    key_insight: str = ""
    # Stream sequence of the runner.completed delivery being written (0: a regeneration). Lets a
    # replica tell its own redelivery from a duplicate that another replica is writing right now.
    claim: int = 0
    source: RunSource | None = None
    # Notes from the writer (fallbacks, removed citations) for operators.
    notes: list[str] = field(default_factory=list)

    @property
    def updated_at_datetime(self) -> datetime | None:
        if not self.updated_at:
            return None
        try:
            return datetime.fromisoformat(self.updated_at)
        except ValueError:
            return None

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, indent=1).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> ReportStatus:
        data: dict[str, Any] = json.loads(raw)
        source = data.pop("source", None)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        status = cls(**known)
        status.state = ReportState(status.state)
        if isinstance(source, dict):
            status.source = RunSource(
                **{k: v for k, v in source.items() if k in RunSource.__dataclass_fields__}
            )
        return status


class StatusStore:
    """Loads and saves report_status.json; a missing file means NOT_STARTED."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    async def load(self, job_id: int) -> ReportStatus | None:
        try:
            raw = await self.store.get_bytes(status_key(job_id))
        except ObjectNotFound:
            return None
        try:
            return ReportStatus.from_json(raw)
        except (ValueError, TypeError) as exc:
            # A damaged status must not wedge the job: treat it as absent and write a fresh one.
            log.warning("ignoring unreadable %s: %s", status_key(job_id), exc)
            return None

    async def save(self, status: ReportStatus) -> None:
        await self.store.put_bytes(status_key(status.job_id), status.to_json())
