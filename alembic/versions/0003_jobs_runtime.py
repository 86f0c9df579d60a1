"""Jobs runtime bookkeeping: job_runs, outbox, consumed_messages, and two simulation_jobs indexes.

See `services/jobs/runtime_models.py` for what each table is for. The seed's columns are untouched.

Revision ID: 0003_jobs_runtime
Revises: 0002_auth_tokens
Create Date: 2025-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003_jobs_runtime"
down_revision: str | None = "0002_auth_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("now()")
JOBS_ROLE = "swarmcast_jobs"
TABLES = ("job_runs", "outbox", "consumed_messages")
LIVE_WHERE = sa.text("status IN ('PENDING', 'PROVISIONING', 'RUNNING', 'REPORTING')")


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("resume", sa.Boolean(), nullable=False),
        sa.Column("route", sa.JSON(), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seq", sa.BigInteger(), server_default=sa.text("-1"), nullable=False),
        sa.Column("stream_seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name="pk_job_runs"),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.simulation_jobs.id"],
            name="fk_job_runs_job_id_simulation_jobs",
            ondelete="CASCADE",
        ),
        schema="jobs",
    )
    op.create_index("ix_job_runs_job_id", "job_runs", ["job_id"], schema="jobs")

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("msg_id", sa.String(255), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("msg_id", name="uq_outbox_msg_id"),
        schema="jobs",
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["id"],
        schema="jobs",
        postgresql_where=sa.text("published_at IS NULL"),
    )

    op.create_table(
        "consumed_messages",
        sa.Column("msg_id", sa.String(255), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("msg_id", name="pk_consumed_messages"),
        schema="jobs",
    )
    op.create_index("ix_consumed_messages_consumed_at", "consumed_messages", ["consumed_at"], schema="jobs")

    op.create_index("ix_simulation_jobs_retry_of", "simulation_jobs", ["retry_of"], schema="jobs")
    op.create_index(
        "ix_simulation_jobs_live", "simulation_jobs", ["status"], schema="jobs", postgresql_where=LIVE_WHERE
    )

    # 0001's default privileges cover tables created by the migrating user; granting explicitly
    # keeps the rights right when another user runs this migration.
    tables = ", ".join(f"jobs.{t}" for t in TABLES)
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {JOBS_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE jobs.outbox_id_seq TO {JOBS_ROLE}")


def downgrade() -> None:
    op.drop_index("ix_simulation_jobs_live", table_name="simulation_jobs", schema="jobs")
    op.drop_index("ix_simulation_jobs_retry_of", table_name="simulation_jobs", schema="jobs")
    op.drop_index("ix_consumed_messages_consumed_at", table_name="consumed_messages", schema="jobs")
    op.drop_table("consumed_messages", schema="jobs")
    op.drop_index("ix_outbox_unpublished", table_name="outbox", schema="jobs")
    op.drop_table("outbox", schema="jobs")
    op.drop_index("ix_job_runs_job_id", table_name="job_runs", schema="jobs")
    op.drop_table("job_runs", schema="jobs")
