"""The `jobs` schema, exactly as the seed documents it: simulation_jobs, model_routing, error_events.

`user_id` is the auth user's id as a string: no foreign key crosses the auth/jobs boundary.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import JSON, Boolean, DateTime, Double, Enum, Integer, String, Text, false, func, text, true
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base

# One JobStatus for the whole code base: the state machine's enum is the seed's enum.
from services.jobs.domain.state_machine import LIVE, TERMINAL, JobStatus

__all__ = [
    "DEFAULT_ROUTES",
    "LIVE_STATUSES",
    "TERMINAL_STATUSES",
    "ErrorEvent",
    "JobStatus",
    "ModelRouting",
    "SimulationJob",
]

# REFUNDED is never entered by normal flow but still counts as terminal (seed, docs/architecture.md §6).
TERMINAL_STATUSES: Final[frozenset[JobStatus]] = TERMINAL
LIVE_STATUSES: Final[frozenset[JobStatus]] = LIVE

JOB_STATUS_ENUM: Final = Enum(
    JobStatus,
    name="jobstatus",
    schema="jobs",
    # Postgres labels are the seed's names (= the StrEnum values), in the seed's order.
    values_callable=lambda members: [m.value for m in members],
    validate_strings=True,
)

# The seeded tiers, docs/architecture.md §6 (migrations 0001 and 0005 hold their own frozen copies
# of these rows).
DEFAULT_ROUTES: Final[tuple[dict[str, Any], ...]] = (
    *(
        {
            "sim_tier": tier,
            "model_id": "Qwen/Qwen3-14B",
            "gpu_type": gpu,
            "max_rounds": rounds,
            "target_agents": agents,
            "vllm_args": "--max-model-len 16384",
        }
        for tier, gpu, rounds, agents in (
            ("small", "NVIDIA L40S", 15, 10),
            ("medium", "NVIDIA L40S", 100, 20),
            ("large", "NVIDIA H100 80GB HBM3", 200, 35),
        )
    ),
    # A real model on any CPU (the llamacpp backend): few agents and rounds, a minute or two.
    {
        "sim_tier": "local",
        "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "gpu_type": "CPU",
        "max_rounds": 3,
        "target_agents": 4,
        "vllm_args": None,
    },
)


class SimulationJob(Base):
    """One row per simulation job."""

    __tablename__ = "simulation_jobs"
    __table_args__ = {"schema": "jobs"}

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    seed_text: Mapped[str] = mapped_column(Text)
    goal: Mapped[str | None] = mapped_column(Text)
    tier: Mapped[str | None] = mapped_column(String(20))
    # Dead billing column kept by the seed: always 0; the default lets inserts omit it.
    credits_charged: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    status: Mapped[JobStatus] = mapped_column(JOB_STATUS_ENUM, server_default=JobStatus.PENDING.value)
    pipeline_stage: Mapped[int | None] = mapped_column(Integer)
    result_report: Mapped[str | None] = mapped_column(Text)
    result_chat_log: Mapped[str | None] = mapped_column(Text)
    result_graph: Mapped[str | None] = mapped_column(Text)
    result_structured: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    gpu_provider: Mapped[str | None] = mapped_column(String(50))
    gpu_cost_usd: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pod_id: Mapped[str | None] = mapped_column(String(255), index=True)
    celery_task_id: Mapped[str | None] = mapped_column(String(255))
    workflow_id: Mapped[str | None] = mapped_column(String(255), index=True)
    workflow_run_id: Mapped[str | None] = mapped_column(String(255))
    retry_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # Plain int, not a foreign key: the original row may be deleted while its retry lives on.
    retry_of: Mapped[int | None] = mapped_column(Integer)
    provision_seconds: Mapped[int | None] = mapped_column(Integer)
    pipeline_seconds: Mapped[int | None] = mapped_column(Integer)
    key_insight: Mapped[str | None] = mapped_column(String(200))
    # "Nullable, unique, indexed": one unique index; NULLs (no share link) never collide.
    share_token: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    last_heartbeat: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    enrich_web: Mapped[bool] = mapped_column(Boolean, server_default=true())
    enriched_seed: Mapped[str | None] = mapped_column(Text)
    enrichment_citations: Mapped[str | None] = mapped_column(Text)
    forecast_days: Mapped[int | None] = mapped_column(Integer)
    sim_data_available: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # The seed says JSON (not JSONB).
    live_status: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    resume_task_id: Mapped[str | None] = mapped_column(String(255))
    markets_config: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"SimulationJob(id={self.id!r}, status={self.status!r}, tier={self.tier!r})"


class ModelRouting(Base):
    """Operator-configurable map from tier to model and GPU; read at job creation."""

    __tablename__ = "model_routing"
    __table_args__ = {"schema": "jobs"}

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    # "Unique." without "indexed": a unique constraint (Postgres backs it with its own index).
    sim_tier: Mapped[str] = mapped_column(String(20), unique=True)
    model_id: Mapped[str] = mapped_column(String(255))
    gpu_type: Mapped[str] = mapped_column(String(50))
    max_rounds: Mapped[int] = mapped_column(Integer, server_default=text("200"))
    vllm_args: Mapped[str | None] = mapped_column(Text)
    target_agents: Mapped[int] = mapped_column(Integer, server_default=text("5"))

    def __repr__(self) -> str:
        return f"ModelRouting(sim_tier={self.sim_tier!r}, model_id={self.model_id!r})"


class ErrorEvent(Base):
    """An unhandled error captured for diagnosis (source: api, worker or gpu)."""

    __tablename__ = "error_events"
    __table_args__ = {"schema": "jobs"}

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    level: Mapped[str] = mapped_column(String(20), server_default="ERROR")
    source: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(String(255))
    job_id: Mapped[int | None] = mapped_column(Integer)
    request_path: Mapped[str | None] = mapped_column(String(500))

    def __repr__(self) -> str:
        return f"ErrorEvent(id={self.id!r}, source={self.source!r}, level={self.level!r})"
