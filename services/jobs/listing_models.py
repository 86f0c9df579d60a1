"""Tables behind the job list's extras (migration 0009), beside the seed's simulation_jobs.

- `job_forecasts`: the goal's headline forecast of a COMPLETED job (result_structured's
  forecast.goal), written with the report; the list shows it and sorts by it.
- `job_run_times`: how long each completed job held a runner (provision + pipeline seconds), by
  tier and completion time, so a tier's recent run times are one index range away (queue estimates).

Both follow their job on delete (the seed's table keeps exactly its columns and indexes).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Double, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base


class JobForecastRow(Base):
    __tablename__ = "job_forecasts"
    __table_args__ = {"schema": "jobs"}

    job_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("jobs.simulation_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    probability: Mapped[float] = mapped_column(Double)
    # The 80% interval; unset when the results carry none.
    interval_low: Mapped[float | None] = mapped_column(Double)
    interval_high: Mapped[float | None] = mapped_column(Double)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class JobRunTimeRow(Base):
    __tablename__ = "job_run_times"
    __table_args__ = (
        Index("ix_job_run_times_tier_completed_at", "tier", "completed_at"),
        {"schema": "jobs"},
    )

    job_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("jobs.simulation_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    tier: Mapped[str] = mapped_column(String(20))
    run_seconds: Mapped[int] = mapped_column(Integer)
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
