"""Auth's token tables: refresh tokens, access-token cutoffs, rate-limit counters, event outbox.

See `services/auth/token_models.py` for what each table is for. Constraint and index names follow
the shared naming convention of `services/common/db.py`, so the models and this migration agree.

Revision ID: 0002_auth_tokens
Revises: 0001
Create Date: 2025-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002_auth_tokens"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("now()")
AUTH_ROLE = "swarmcast_auth"
TABLES = ("refresh_tokens", "token_cutoffs", "rate_limits", "outbox_events")


def upgrade() -> None:
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_by_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_refresh_tokens"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["auth.users.id"], name="fk_refresh_tokens_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["replaced_by_id"],
            ["auth.refresh_tokens.id"],
            name="fk_refresh_tokens_replaced_by_id_refresh_tokens",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("token_hash", name="uq_refresh_tokens_token_hash"),
        schema="auth",
    )
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"], schema="auth")
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"], schema="auth")

    op.create_table(
        "token_cutoffs",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_token_cutoffs"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["auth.users.id"], name="fk_token_cutoffs_user_id_users", ondelete="CASCADE"
        ),
        schema="auth",
    )

    op.create_table(
        "rate_limits",
        sa.Column("bucket", sa.String(64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "window_start", name="pk_rate_limits"),
        schema="auth",
    )
    op.create_index("ix_rate_limits_expires_at", "rate_limits", ["expires_at"], schema="auth")

    op.create_table(
        "outbox_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("msg_id", sa.String(255), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_events"),
        sa.UniqueConstraint("msg_id", name="uq_outbox_events_msg_id"),
        schema="auth",
    )

    # 0001's default privileges already cover tables created by the migrating user; granting
    # explicitly keeps the rights right even when another user runs this migration.
    tables = ", ".join(f"auth.{t}" for t in TABLES)
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {AUTH_ROLE}")
    sequences = "auth.refresh_tokens_id_seq, auth.outbox_events_id_seq"
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE {sequences} TO {AUTH_ROLE}")


def downgrade() -> None:
    op.drop_table("outbox_events", schema="auth")
    op.drop_index("ix_rate_limits_expires_at", table_name="rate_limits", schema="auth")
    op.drop_table("rate_limits", schema="auth")
    op.drop_table("token_cutoffs", schema="auth")
    op.drop_index("ix_refresh_tokens_family_id", table_name="refresh_tokens", schema="auth")
    op.drop_index("ix_refresh_tokens_user_id", table_name="refresh_tokens", schema="auth")
    op.drop_table("refresh_tokens", schema="auth")
