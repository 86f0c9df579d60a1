"""The jobs service's own bookkeeping tables (migration 0003), beside the seed's tables.

- `job_runs`: one row per dispatch attempt. The job row's `workflow_run_id` names the current
  run; this table remembers when it was dispatched, taken and last heard from (on our clock),
  the last progress `seq` applied (so progress is applied "only if newer") and the routing
  snapshot a re-dispatch reuses.
- `outbox`: messages written in the same transaction as the row change that causes them and
  published after commit; a relay re-publishes whatever a crash left unpublished (the shared
  outbox, `services.common.outbox`).
- `consumed_messages`: ids of applied events whose effect is an insert (error events), so a
  redelivery does not insert twice.

Also two indexes on the seed's `simulation_jobs` that the detector and the list need; they are
declared here so `Base.metadata` matches the migrated database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base
from services.common.outbox import OutboxColumns, outbox_table_args
from services.jobs.models import SimulationJob


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = {"schema": "jobs"}

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("jobs.simulation_jobs.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    resume: Mapped[bool] = mapped_column(Boolean)
    # The model_routing row as it was at creation; every attempt of a job runs the same model.
    route: Mapped[dict[str, Any]] = mapped_column(JSON)
    dispatched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # When a runner was first seen holding the run (first progress, or its dispatch left the queue).
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Our clock when the run's newest progress (or completion) arrived. The detector uses this,
    # not the row's last_heartbeat, which is the runner's clock and may be skewed.
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # -1: nothing applied yet, so a runner that counts from 0 has its first event applied.
    last_seq: Mapped[int] = mapped_column(BigInteger, server_default=text("-1"))
    # JetStream sequence of the published dispatch: lets the detector ask whether it is still queued.
    stream_seq: Mapped[int | None] = mapped_column(BigInteger)


class OutboxMessage(OutboxColumns, Base):
    """Dispatches and cancels (`services.common.outbox`). A dispatch's `msg_id` is its run id, which
    is how the relay tells whether it is still the job's current run (`repository`)."""

    __tablename__ = "outbox"
    __table_args__ = outbox_table_args("outbox", schema="jobs")


class ConsumedMessage(Base):
    __tablename__ = "consumed_messages"
    __table_args__ = {"schema": "jobs"}

    msg_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    consumed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


_jobs = SimulationJob.__table__
# ListJobs hides originals that have a retry: an anti-join on retry_of.
Index("ix_simulation_jobs_retry_of", _jobs.c.retry_of)
# The stale-job detector scans live jobs only; a partial index keeps that cheap however many
# finished jobs accumulate.
Index(
    "ix_simulation_jobs_live",
    _jobs.c.status,
    postgresql_where=text("status IN ('PENDING', 'PROVISIONING', 'RUNNING', 'REPORTING')"),
)
