"""Per-tier forecast settings: jobs.tier_settings (replicates, heuristic replicates, market subsidy).

A table of its own beside the seed's model_routing, whose columns stay exactly the seed's. A tier
without a row runs with the defaults (replicates 1, heuristic replicates 5, subsidy 15.0).

Revision ID: 0004_tier_settings
Revises: 0003_jobs_runtime
Create Date: 2026-01-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0004_tier_settings"
down_revision: str | None = "0003_jobs_runtime"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOBS_ROLE = "swarmcast_jobs"

# Frozen copy of the seeded tiers' settings (services/jobs/domain/tier_settings.py holds the live
# defaults): LLM runs are costly, so only the small tier runs two replicates.
SEED_SETTINGS = [
    {"sim_tier": tier, "replicates": replicates, "heuristic_replicates": 5, "market_subsidy": 15.0}
    for tier, replicates in (("small", 2), ("medium", 1), ("large", 1))
]


def upgrade() -> None:
    table = op.create_table(
        "tier_settings",
        sa.Column("sim_tier", sa.String(20), nullable=False),
        sa.Column("replicates", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("heuristic_replicates", sa.Integer(), server_default=sa.text("5"), nullable=False),
        sa.Column("market_subsidy", sa.Double(), server_default=sa.text("15.0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("sim_tier", name="pk_tier_settings"),
        # Settings follow their route: deleting or renaming a tier takes its settings along.
        sa.ForeignKeyConstraint(
            ["sim_tier"],
            ["jobs.model_routing.sim_tier"],
            name="fk_tier_settings_sim_tier_model_routing",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        sa.CheckConstraint("replicates BETWEEN 1 AND 32", name="ck_tier_settings_replicates"),
        sa.CheckConstraint(
            "heuristic_replicates BETWEEN 1 AND 32", name="ck_tier_settings_heuristic_replicates"
        ),
        sa.CheckConstraint(
            "market_subsidy > 0 AND market_subsidy <= 10000", name="ck_tier_settings_market_subsidy"
        ),
        schema="jobs",
    )
    # Only tiers that exist (an operator may have removed one); re-running never duplicates a row.
    tiers = sa.table("model_routing", sa.column("sim_tier"), schema="jobs")
    for row in SEED_SETTINGS:
        values = sa.select(
            sa.literal(row["sim_tier"]),
            sa.literal(row["replicates"]),
            sa.literal(row["heuristic_replicates"]),
            sa.literal(row["market_subsidy"]),
        ).where(tiers.c.sim_tier == row["sim_tier"])
        op.execute(
            postgresql.insert(table)
            .from_select(["sim_tier", "replicates", "heuristic_replicates", "market_subsidy"], values)
            .on_conflict_do_nothing(index_elements=["sim_tier"])
        )
    # 0001's default privileges cover tables created by the migrating user; granting explicitly
    # keeps the rights right when another user runs this migration.
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON jobs.tier_settings TO {JOBS_ROLE}")


def downgrade() -> None:
    op.drop_table("tier_settings", schema="jobs")
