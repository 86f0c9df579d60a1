"""jobs.tier_settings (migration 0004): a tier's forecast settings, beside the seed's model_routing.

One row per tier, keyed by the route's `sim_tier` (the row follows its route on delete or rename);
a tier without a row uses `domain.tier_settings.DEFAULT_TIER_SETTINGS`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Double, ForeignKey, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base
from services.jobs.models import ModelRouting


class TierSettingsRow(Base):
    __tablename__ = "tier_settings"
    __table_args__ = (
        CheckConstraint("replicates BETWEEN 1 AND 32", name="replicates"),
        CheckConstraint("heuristic_replicates BETWEEN 1 AND 32", name="heuristic_replicates"),
        CheckConstraint("market_subsidy > 0 AND market_subsidy <= 10000", name="market_subsidy"),
        {"schema": "jobs"},
    )

    sim_tier: Mapped[str] = mapped_column(
        String(20),
        ForeignKey(ModelRouting.sim_tier, ondelete="CASCADE", onupdate="CASCADE"),
        primary_key=True,
    )
    # Used when an LLM backend runs the job.
    replicates: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    # Used when the heuristic backend runs the job.
    heuristic_replicates: Mapped[int] = mapped_column(Integer, server_default=text("5"))
    # LMSR worst-case loss per market.
    market_subsidy: Mapped[float] = mapped_column(Double, server_default=text("15.0"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    def __repr__(self) -> str:
        return f"TierSettingsRow(sim_tier={self.sim_tier!r}, replicates={self.replicates!r})"
