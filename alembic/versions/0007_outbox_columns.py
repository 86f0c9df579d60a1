"""One outbox table layout: auth.outbox_events and jobs.outbox get the same columns (issue 16).

Both are now `services.common.outbox.OutboxColumns`: id, subject, msg_id, payload, created_at,
published_at, attempts, with a partial index on the rows still to publish. Neither table is in
the seed, whose tables stay untouched.

- auth.outbox_events gains `published_at` (NULL: pending) and `ix_outbox_events_unpublished`.
- jobs.outbox loses `job_id` and `run_id`: a dispatch's msg_id is its run id and its subject says
  it is a dispatch, which is all the relay needs to tell whether it is still wanted.

The downgrade puts back 0003's jobs.outbox (columns in their old places, so the table is rebuilt),
filling `job_id` and `run_id` from the same facts, and deletes auth rows already published (the
old auth relay deleted a row once it was published).

Revision ID: 0007_outbox_columns
Revises: 0006_outcomes
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007_outbox_columns"
down_revision: str | None = "0006_outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOBS_ROLE = "swarmcast_jobs"
UNPUBLISHED = sa.text("published_at IS NULL")


def upgrade() -> None:
    op.add_column(
        "outbox_events", sa.Column("published_at", sa.DateTime(timezone=True), nullable=True), schema="auth"
    )
    op.create_index(
        "ix_outbox_events_unpublished", "outbox_events", ["id"], schema="auth", postgresql_where=UNPUBLISHED
    )
    op.drop_column("outbox", "job_id", schema="jobs")
    op.drop_column("outbox", "run_id", schema="jobs")


def downgrade() -> None:
    op.execute("DELETE FROM auth.outbox_events WHERE published_at IS NOT NULL")
    op.drop_index("ix_outbox_events_unpublished", table_name="outbox_events", schema="auth")
    op.drop_column("outbox_events", "published_at", schema="auth")

    op.execute("CREATE TEMPORARY TABLE outbox_0007 AS SELECT * FROM jobs.outbox")
    op.drop_index("ix_outbox_unpublished", table_name="outbox", schema="jobs")
    op.drop_table("outbox", schema="jobs")
    # As 0003 created it.
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("msg_id", sa.String(255), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("msg_id", name="uq_outbox_msg_id"),
        schema="jobs",
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["id"], schema="jobs", postgresql_where=UNPUBLISHED)
    # A dispatch (jobs.dispatch.<tier>) has run_id = msg_id and its run's job; a cancel
    # (jobs.cancel.<job_id>) has its job and no run. A dispatch whose run is gone keeps job_id
    # NULL, which the old relay also reads as "no longer wanted".
    op.execute(
        """
        INSERT INTO jobs.outbox
            (id, subject, msg_id, payload, job_id, run_id, created_at, published_at, attempts)
        SELECT o.id, o.subject, o.msg_id, o.payload,
               CASE WHEN o.subject LIKE 'jobs.cancel.%' THEN CAST(split_part(o.subject, '.', 3) AS integer)
                    ELSE r.job_id END,
               CASE WHEN o.subject LIKE 'jobs.dispatch.%' THEN o.msg_id END,
               o.created_at, o.published_at, o.attempts
        FROM outbox_0007 AS o
        LEFT JOIN jobs.job_runs AS r ON r.run_id = o.msg_id AND o.subject LIKE 'jobs.dispatch.%'
        """
    )
    op.execute(
        "SELECT setval('jobs.outbox_id_seq', (SELECT COALESCE(max(id), 0) + 1 FROM jobs.outbox), false)"
    )
    op.execute("DROP TABLE outbox_0007")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON jobs.outbox TO {JOBS_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE jobs.outbox_id_seq TO {JOBS_ROLE}")
