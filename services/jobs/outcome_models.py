"""What really happened to a job's questions (migration 0006), beside the seed's tables.

- `job_outcomes`: one row per resolved job — the goal's outcome, the resolution date and source,
  the agents' settlement, and when the record stops being editable.
- `market_outcomes`: one row per resolved market of that job — its outcome, the job's forecast and
  the market's opening price at the time of resolution, and both scored (Brier and log score;
  NULL for an annulled market).

The forecasts are copied here when the outcome is recorded, so the track record is one indexed
read that never re-parses `result_structured`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base
from services.jobs.models import SimulationJob

# YES / NO / ANNULLED (jobs.v1.Resolution without its prefix).
RESOLUTION_LENGTH = 10
_ONE_OF_RESOLUTIONS = "outcome IN ('YES', 'NO', 'ANNULLED')"


class JobOutcomeRow(Base):
    __tablename__ = "job_outcomes"
    __table_args__ = (CheckConstraint(_ONE_OF_RESOLUTIONS, name="outcome"), {"schema": "jobs"})

    job_id: Mapped[int] = mapped_column(
        Integer, ForeignKey(SimulationJob.id, ondelete="CASCADE"), primary_key=True
    )
    # Copied from the job: the track record filters by owner without touching simulation_jobs.
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    outcome: Mapped[str] = mapped_column(String(RESOLUTION_LENGTH))
    resolved_on: Mapped[date] = mapped_column(Date)
    source_url: Mapped[str | None] = mapped_column(Text)
    # {"initial_cash": float, "agents": [{agent_id, name, cash, settled_cash, pnl}]}
    settlement: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    editable_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MarketOutcomeRow(Base):
    __tablename__ = "market_outcomes"
    __table_args__ = (CheckConstraint(_ONE_OF_RESOLUTIONS, name="outcome"), {"schema": "jobs"})

    job_id: Mapped[int] = mapped_column(
        Integer, ForeignKey(JobOutcomeRow.job_id, ondelete="CASCADE"), primary_key=True
    )
    market_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    is_goal: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(RESOLUTION_LENGTH))
    probability: Mapped[float] = mapped_column(Double)
    opening_price: Mapped[float] = mapped_column(Double)
    brier: Mapped[float | None] = mapped_column(Double)
    log_score: Mapped[float | None] = mapped_column(Double)
    opening_brier: Mapped[float | None] = mapped_column(Double)
    opening_log_score: Mapped[float | None] = mapped_column(Double)
