"""The `local` tier: a real language model on any CPU (docs/architecture.md §6, the `llamacpp` backend).

One row in the seed's jobs.model_routing (its columns unchanged) and its jobs.tier_settings row.
Small enough that a job takes a minute or two on a 2-core machine with SmolLM2-135M-Instruct.

Revision ID: 0005_local_tier
Revises: 0004_tier_settings
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0005_local_tier"
down_revision: str | None = "0004_tier_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies (services/jobs/models.py and domain/tier_settings.py hold the live ones).
LOCAL_ROUTE = {
    "sim_tier": "local",
    "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct",
    "gpu_type": "CPU",
    "max_rounds": 3,
    "target_agents": 4,
    "vllm_args": None,
}
LOCAL_SETTINGS = {"sim_tier": "local", "replicates": 1, "heuristic_replicates": 5, "market_subsidy": 15.0}

# Typed columns: `alembic upgrade --sql` renders the values as literals.
ROUTING = sa.table(
    "model_routing",
    sa.column("sim_tier", sa.String(20)),
    sa.column("model_id", sa.String(255)),
    sa.column("gpu_type", sa.String(50)),
    sa.column("max_rounds", sa.Integer()),
    sa.column("target_agents", sa.Integer()),
    sa.column("vllm_args", sa.Text()),
    schema="jobs",
)
SETTINGS = sa.table(
    "tier_settings",
    sa.column("sim_tier", sa.String(20)),
    sa.column("replicates", sa.Integer()),
    sa.column("heuristic_replicates", sa.Integer()),
    sa.column("market_subsidy", sa.Double()),
    schema="jobs",
)


def upgrade() -> None:
    # An operator may already have a tier of that name: theirs is kept.
    op.execute(
        postgresql.insert(ROUTING).values(LOCAL_ROUTE).on_conflict_do_nothing(index_elements=["sim_tier"])
    )
    op.execute(
        postgresql.insert(SETTINGS).values(LOCAL_SETTINGS).on_conflict_do_nothing(index_elements=["sim_tier"])
    )


def downgrade() -> None:
    # tier_settings follows by its ON DELETE CASCADE foreign key.
    op.execute(sa.delete(ROUTING).where(ROUTING.c.sim_tier == "local"))
