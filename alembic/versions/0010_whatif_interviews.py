"""Scheduled events, what-if branches and interview transcripts (issue 19).

Three new tables of the jobs schema (the seed's tables keep exactly their columns and indexes):

- `job_events` (job_id → simulation_jobs, cascade): a job's scheduled events as one JSONB list
  (for a branch: the events it injects).
- `job_branches` (job_id → simulation_jobs, cascade; index on parent_job_id): a what-if branch's
  parent and the round it resumes after. `parent_job_id` has no foreign key: a branch outlives
  its parent's deletion. The row also keeps what the branch needs from its parent however long it
  waits or is re-dispatched: the parent's random seed and its result_structured "forecast".
- `job_interviews` (job_id → simulation_jobs, cascade; index on job_id, created_at): one row per
  finished interview, with its answers. Its id is allocated from its sequence before the
  question goes to a runner (the replies travel on `interview.reply.<id>`).

Nothing to backfill: older jobs have no events, branches or interviews.

Revision ID: 0010_whatif_interviews
Revises: 0009_job_list_extras
Create Date: 2026-12-12
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0010_whatif_interviews"
down_revision: str | None = "0009_job_list_extras"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOBS_ROLE = "swarmcast_jobs"
TABLES = ("job_events", "job_branches", "job_interviews")


def _job_id(*, primary_key: bool) -> sa.Column[int]:
    return sa.Column(
        "job_id",
        sa.Integer(),
        sa.ForeignKey("jobs.simulation_jobs.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "job_events",
        _job_id(primary_key=True),
        sa.Column("events", postgresql.JSONB(), nullable=False),
        schema="jobs",
    )
    op.create_table(
        "job_branches",
        _job_id(primary_key=True),
        sa.Column("parent_job_id", sa.BigInteger(), nullable=False),
        sa.Column("branch_round", sa.Integer(), nullable=False),
        sa.Column("random_seed", sa.BigInteger(), nullable=False),
        sa.Column("parent_forecast", postgresql.JSONB(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        schema="jobs",
    )
    op.create_index("ix_job_branches_parent_job_id", "job_branches", ["parent_job_id"], schema="jobs")
    op.create_table(
        "job_interviews",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        _job_id(primary_key=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("answers", postgresql.JSONB(), nullable=False),
        sa.Column("backend", sa.Text(), nullable=False),
        sa.Column("model_id", sa.Text(), nullable=False),
        sa.Column("left_out", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        schema="jobs",
    )
    op.create_index(
        "ix_job_interviews_job_id_created_at", "job_interviews", ["job_id", "created_at"], schema="jobs"
    )
    # 0001's default privileges cover tables created by the migrating user; granting explicitly
    # keeps the rights right when another user runs this migration.
    tables = ", ".join(f"jobs.{t}" for t in TABLES)
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {JOBS_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE jobs.job_interviews_id_seq TO {JOBS_ROLE}")


def downgrade() -> None:
    op.drop_index("ix_job_interviews_job_id_created_at", table_name="job_interviews", schema="jobs")
    op.drop_table("job_interviews", schema="jobs")
    op.drop_index("ix_job_branches_parent_job_id", table_name="job_branches", schema="jobs")
    op.drop_table("job_branches", schema="jobs")
    op.drop_table("job_events", schema="jobs")
