"""Tables behind scheduled events, what-if branches and interviews (migration 0010), beside the
seed's simulation_jobs (whose columns stay exactly the seed's).

- `job_events`: a job's scheduled events (for a branch: the events it injects), one JSONB list of
  `ScheduledEvent.to_dict()`.
- `job_branches`: a what-if branch's parent and the round it resumes after. No foreign key on
  `parent_job_id`: the parent may be deleted while its branch lives on, so the row also keeps the
  parent's random seed and forecast, which every dispatch of the branch carries.
- `job_interviews`: one row per finished interview (question, whom it asked, the answers).

All three follow their job on delete.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base

_JOB_FK = "jobs.simulation_jobs.id"


class JobEventsRow(Base):
    __tablename__ = "job_events"
    __table_args__ = {"schema": "jobs"}

    job_id: Mapped[int] = mapped_column(Integer, ForeignKey(_JOB_FK, ondelete="CASCADE"), primary_key=True)
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)


class JobBranchRow(Base):
    __tablename__ = "job_branches"
    __table_args__ = (Index("ix_job_branches_parent_job_id", "parent_job_id"), {"schema": "jobs"})

    job_id: Mapped[int] = mapped_column(Integer, ForeignKey(_JOB_FK, ondelete="CASCADE"), primary_key=True)
    parent_job_id: Mapped[int] = mapped_column(BigInteger)
    # Rounds the parent had finished at the checkpoint the branch resumes from.
    branch_round: Mapped[int] = mapped_column(Integer)
    # The parent's simulation seed: a branch without events reproduces its parent.
    random_seed: Mapped[int] = mapped_column(BigInteger)
    # The parent's result_structured "forecast", for the branch report's comparison.
    parent_forecast: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class JobInterviewRow(Base):
    __tablename__ = "job_interviews"
    __table_args__ = (
        Index("ix_job_interviews_job_id_created_at", "job_id", "created_at"),
        {"schema": "jobs"},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(Integer, ForeignKey(_JOB_FK, ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(Text)
    question: Mapped[str] = mapped_column(Text)
    # Whom it asked, in words ("agent 3", "the YES camp", "coalition c1").
    target: Mapped[str] = mapped_column(Text)
    # InterviewAnswer fields per agent, in the order they were answered.
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    backend: Mapped[str] = mapped_column(Text)
    model_id: Mapped[str] = mapped_column(Text)
    left_out: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
