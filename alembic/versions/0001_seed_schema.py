"""The seed schema: `auth.users`; `jobs.simulation_jobs`, `jobs.model_routing`, `jobs.error_events`.

Also: the `jobs.jobstatus` enum, the seeded routing tiers (docs/architecture.md §6) and one login role per
service (`swarmcast_auth`, `swarmcast_jobs`) with rights on its own schema only.

Roles are cluster-wide while this migration runs per database (several test databases share one
server), so roles are created only if missing and dropped only when no other database still
grants them anything.

Revision ID: 0001
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOB_STATUSES = ("DRAFT", "PENDING", "PROVISIONING", "RUNNING", "REPORTING", "COMPLETED", "FAILED", "REFUNDED")

# Frozen copy of docs/architecture.md §6's tiers: a migration must not change when application code does.
SEED_ROUTES = [
    {"sim_tier": tier, "model_id": "Qwen/Qwen3-14B", "gpu_type": gpu, "max_rounds": rounds,
     "target_agents": agents, "vllm_args": "--max-model-len 16384"}
    for tier, gpu, rounds, agents in (
        ("small", "NVIDIA L40S", 15, 10),
        ("medium", "NVIDIA L40S", 100, 20),
        ("large", "NVIDIA H100 80GB HBM3", 200, 35),
    )
]  # fmt: skip

# role -> (schema it owns, env var holding its password)
ROLES = {
    "swarmcast_auth": ("auth", "SWARMCAST_AUTH_DB_PASSWORD"),
    "swarmcast_jobs": ("jobs", "SWARMCAST_JOBS_DB_PASSWORD"),
}

TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_RIGHTS = "USAGE, SELECT"

# created_at / timestamp: now() is an absolute instant, right for timestamptz in any session zone.
NOW = sa.text("now()")


def _id() -> sa.Column:
    # int PK, autoincrement: SERIAL (integer + owned sequence), as SQLAlchemy maps it.
    return sa.Column("id", sa.Integer(), autoincrement=True, nullable=False)


def _sql_literal(value: str) -> str:
    # Role DDL takes no bind parameters; standard_conforming_strings (on by default) makes
    # doubling quotes a complete escape.
    return "'" + value.replace("'", "''") + "'"


def upgrade() -> None:
    op.execute("CREATE SCHEMA auth")
    op.execute("CREATE SCHEMA jobs")
    op.execute("REVOKE ALL ON SCHEMA auth, jobs FROM PUBLIC")

    # ---- auth
    op.create_table(
        "users",
        _id(),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("email_verified", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("verification_token", sa.String(255), nullable=True),
        sa.Column("reset_token", sa.String(255), nullable=True),
        sa.Column("reset_token_expires", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        schema="auth",
    )
    # "Unique, indexed": a single unique index covers both.
    op.create_index("ix_users_email", "users", ["email"], unique=True, schema="auth")

    # ---- jobs
    # Plain SQL (not ENUM.create(bind)) so `alembic upgrade head --sql` renders it too.
    labels = ", ".join(_sql_literal(s) for s in JOB_STATUSES)
    op.execute(f"CREATE TYPE jobs.jobstatus AS ENUM ({labels})")
    job_status = postgresql.ENUM(*JOB_STATUSES, name="jobstatus", schema="jobs", create_type=False)

    op.create_table(
        "simulation_jobs",
        _id(),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("seed_text", sa.Text(), nullable=False),
        sa.Column("goal", sa.Text(), nullable=True),
        sa.Column("tier", sa.String(20), nullable=True),
        sa.Column("credits_charged", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", job_status, server_default=sa.text("'PENDING'"), nullable=False),
        sa.Column("pipeline_stage", sa.Integer(), nullable=True),
        sa.Column("result_report", sa.Text(), nullable=True),
        sa.Column("result_chat_log", sa.Text(), nullable=True),
        sa.Column("result_graph", sa.Text(), nullable=True),
        sa.Column("result_structured", sa.Text(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("gpu_provider", sa.String(50), nullable=True),
        sa.Column("gpu_cost_usd", sa.Double(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pod_id", sa.String(255), nullable=True),
        sa.Column("celery_task_id", sa.String(255), nullable=True),
        sa.Column("workflow_id", sa.String(255), nullable=True),
        sa.Column("workflow_run_id", sa.String(255), nullable=True),
        sa.Column("retry_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("retry_of", sa.Integer(), nullable=True),
        sa.Column("provision_seconds", sa.Integer(), nullable=True),
        sa.Column("pipeline_seconds", sa.Integer(), nullable=True),
        sa.Column("key_insight", sa.String(200), nullable=True),
        sa.Column("share_token", sa.String(64), nullable=True),
        sa.Column("last_heartbeat", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enrich_web", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("enriched_seed", sa.Text(), nullable=True),
        sa.Column("enrichment_citations", sa.Text(), nullable=True),
        sa.Column("forecast_days", sa.Integer(), nullable=True),
        sa.Column("sim_data_available", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("live_status", sa.JSON(), nullable=True),
        sa.Column("resume_task_id", sa.String(255), nullable=True),
        sa.Column("markets_config", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_simulation_jobs"),
        schema="jobs",
    )
    op.create_index("ix_simulation_jobs_user_id", "simulation_jobs", ["user_id"], schema="jobs")
    op.create_index("ix_simulation_jobs_pod_id", "simulation_jobs", ["pod_id"], schema="jobs")
    op.create_index("ix_simulation_jobs_workflow_id", "simulation_jobs", ["workflow_id"], schema="jobs")
    # "Nullable, unique, indexed": a single unique index (NULLs never collide).
    op.create_index(
        "ix_simulation_jobs_share_token", "simulation_jobs", ["share_token"], unique=True, schema="jobs"
    )

    model_routing = op.create_table(
        "model_routing",
        _id(),
        sa.Column("sim_tier", sa.String(20), nullable=False),
        sa.Column("model_id", sa.String(255), nullable=False),
        sa.Column("gpu_type", sa.String(50), nullable=False),
        sa.Column("max_rounds", sa.Integer(), server_default=sa.text("200"), nullable=False),
        sa.Column("vllm_args", sa.Text(), nullable=True),
        sa.Column("target_agents", sa.Integer(), server_default=sa.text("5"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model_routing"),
        # "Unique." (not "indexed"): a unique constraint.
        sa.UniqueConstraint("sim_tier", name="uq_model_routing_sim_tier"),
        schema="jobs",
    )

    op.create_table(
        "error_events",
        _id(),
        sa.Column("timestamp", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("level", sa.String(20), server_default=sa.text("'ERROR'"), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("user_id", sa.String(255), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("request_path", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_error_events"),
        schema="jobs",
    )

    # ON CONFLICT: re-running the seed (e.g. after a manual partial restore) never duplicates a tier.
    op.execute(
        postgresql.insert(model_routing)
        .values(SEED_ROUTES)
        .on_conflict_do_nothing(index_elements=["sim_tier"])
    )

    for role, (schema, password_env) in ROLES.items():
        _create_role(role, os.environ.get(password_env))
        _grant(role, schema)


def _create_role(role: str, password: str | None) -> None:
    # Another database's migration may create the same role concurrently: both errors mean "exists".
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} LOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END
        $$
        """
    )
    if password:
        op.execute(f"ALTER ROLE {role} WITH LOGIN PASSWORD {_sql_literal(password)}")


def _grant(role: str, schema: str) -> None:
    op.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
    op.execute(f"GRANT {TABLE_RIGHTS} ON ALL TABLES IN SCHEMA {schema} TO {role}")
    op.execute(f"GRANT {SEQUENCE_RIGHTS} ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
    # Tables and sequences that later migrations (run by the same migrating user) add get the
    # same rights without each migration repeating these grants.
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {TABLE_RIGHTS} ON TABLES TO {role}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {SEQUENCE_RIGHTS} ON SEQUENCES TO {role}")


def downgrade() -> None:
    for role, (schema, _) in ROLES.items():
        # Default-privilege entries pin the role (shared dependency) until revoked.
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE {TABLE_RIGHTS} ON TABLES FROM {role}")
        op.execute(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE {SEQUENCE_RIGHTS} ON SEQUENCES FROM {role}"
        )
        op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}")
        op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}")
        op.execute(f"REVOKE ALL ON SCHEMA {schema} FROM {role}")

    op.drop_table("error_events", schema="jobs")
    op.drop_table("model_routing", schema="jobs")
    op.drop_index("ix_simulation_jobs_share_token", table_name="simulation_jobs", schema="jobs")
    op.drop_index("ix_simulation_jobs_workflow_id", table_name="simulation_jobs", schema="jobs")
    op.drop_index("ix_simulation_jobs_pod_id", table_name="simulation_jobs", schema="jobs")
    op.drop_index("ix_simulation_jobs_user_id", table_name="simulation_jobs", schema="jobs")
    op.drop_table("simulation_jobs", schema="jobs")
    op.execute("DROP TYPE jobs.jobstatus")

    op.drop_index("ix_users_email", table_name="users", schema="auth")
    op.drop_table("users", schema="auth")

    op.execute("DROP SCHEMA jobs")
    op.execute("DROP SCHEMA auth")

    # Other databases on this server may still grant these roles rights: then the role stays.
    for role in ROLES:
        op.execute(
            f"""
            DO $$
            BEGIN
                DROP ROLE IF EXISTS {role};
            EXCEPTION WHEN dependent_objects_still_exist THEN
                RAISE NOTICE 'role {role} is still used by another database; kept';
            END
            $$
            """
        )
