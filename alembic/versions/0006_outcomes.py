"""Outcomes: what really happened to a job's goal and markets, settled and scored (issue 15).

Two new tables of the jobs schema (the seed's tables keep exactly their columns): `job_outcomes`
(one row per resolved job) and `market_outcomes` (one row per resolved market with its scores).
The jobs role gets its rights from the schema's default privileges (0001).

Revision ID: 0006_outcomes
Revises: 0005_local_tier
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006_outcomes"
down_revision: str | None = "0005_local_tier"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESOLUTIONS = "('YES', 'NO', 'ANNULLED')"


def upgrade() -> None:
    op.create_table(
        "job_outcomes",
        sa.Column(
            "job_id",
            sa.Integer(),
            sa.ForeignKey("jobs.simulation_jobs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("settlement", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("editable_until", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"outcome IN {RESOLUTIONS}", name="ck_job_outcomes_outcome"),
        schema="jobs",
    )
    op.create_index("ix_job_outcomes_user_id", "job_outcomes", ["user_id"], schema="jobs")
    op.create_table(
        "market_outcomes",
        sa.Column(
            "job_id",
            sa.Integer(),
            sa.ForeignKey("jobs.job_outcomes.job_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("market_id", sa.String(64), primary_key=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("is_goal", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("probability", sa.Double(), nullable=False),
        sa.Column("opening_price", sa.Double(), nullable=False),
        sa.Column("brier", sa.Double(), nullable=True),
        sa.Column("log_score", sa.Double(), nullable=True),
        sa.Column("opening_brier", sa.Double(), nullable=True),
        sa.Column("opening_log_score", sa.Double(), nullable=True),
        sa.CheckConstraint(f"outcome IN {RESOLUTIONS}", name="ck_market_outcomes_outcome"),
        schema="jobs",
    )


def downgrade() -> None:
    op.drop_table("market_outcomes", schema="jobs")
    op.drop_index("ix_job_outcomes_user_id", table_name="job_outcomes", schema="jobs")
    op.drop_table("job_outcomes", schema="jobs")
