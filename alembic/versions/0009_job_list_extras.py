"""The job list's extras: each job's headline forecast and each completed job's run time.

Two new tables of the jobs schema (the seed's tables keep exactly their columns and indexes):

- `job_forecasts` (job_id → simulation_jobs, cascade): the goal's forecast from result_structured
  (`forecast.goal.probability` and `.interval`), so the list shows and sorts by it without parsing
  every job's results.
- `job_run_times` (job_id → simulation_jobs, cascade; index on tier, completed_at): how long each
  completed job held a runner, for a PENDING job's expected wait.

The upgrade backfills both from the COMPLETED jobs already there. Results that are not JSON, or
carry no goal forecast, are skipped (their jobs simply show no forecast); the parsing is done in
SQL with a guard per row, so one bad row cannot fail the migration. The jobs role gets its rights
from the schema's default privileges (0001).

Revision ID: 0009_job_list_extras
Revises: 0008_share_token_hashes
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009_job_list_extras"
down_revision: str | None = "0008_share_token_hashes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A function used only while backfilling: text → jsonb, NULL where the text is not JSON. jsonb
# refuses the escape \u0000 that JSON (and Python's reader) allows: such text is read without it.
_TRY_JSONB = r"""
CREATE FUNCTION jobs.swarmcast_0009_try_jsonb(body text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    BEGIN
        RETURN body::jsonb;
    EXCEPTION WHEN others THEN
        RETURN replace(body, '\u0000', '')::jsonb;
    END;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$
"""

# A probability is a JSON number in [0, 1]; anything else counts as missing.
# (numeric first: a JSON number too large for float8 must not fail the cast)
_UNIT = (
    "(CASE WHEN jsonb_typeof({v}) = 'number' AND ({v})::text::numeric BETWEEN 0 AND 1 "
    "THEN ({v})::text::float8 END)"
)


def _unit(path: str) -> str:
    return _UNIT.format(v=f"(doc #> '{path}')")


_BACKFILL_FORECASTS = f"""
INSERT INTO jobs.job_forecasts (job_id, probability, interval_low, interval_high)
SELECT id, probability,
       CASE WHEN low <= high THEN low END,
       CASE WHEN low <= high THEN high END
FROM (
    SELECT id,
           {_unit("{forecast,goal,probability}")} AS probability,
           CASE WHEN jsonb_typeof(doc #> '{{forecast,goal,interval}}') = 'array'
                     AND jsonb_array_length(doc #> '{{forecast,goal,interval}}') = 2
                THEN {_unit("{forecast,goal,interval,0}")} END AS low,
           CASE WHEN jsonb_typeof(doc #> '{{forecast,goal,interval}}') = 'array'
                     AND jsonb_array_length(doc #> '{{forecast,goal,interval}}') = 2
                THEN {_unit("{forecast,goal,interval,1}")} END AS high
    FROM (
        SELECT id, jobs.swarmcast_0009_try_jsonb(result_structured) AS doc
        FROM jobs.simulation_jobs
        WHERE status = 'COMPLETED' AND result_structured IS NOT NULL
    ) AS parsed
    WHERE jsonb_typeof(doc) = 'object'
) AS found
WHERE probability IS NOT NULL
"""

_BACKFILL_RUN_TIMES = """
INSERT INTO jobs.job_run_times (job_id, tier, run_seconds, completed_at)
SELECT id, tier, COALESCE(provision_seconds, 0) + pipeline_seconds, completed_at
FROM jobs.simulation_jobs
WHERE status = 'COMPLETED' AND tier IS NOT NULL AND pipeline_seconds IS NOT NULL
  AND completed_at IS NOT NULL
"""


def upgrade() -> None:
    op.create_table(
        "job_forecasts",
        sa.Column(
            "job_id",
            sa.Integer(),
            sa.ForeignKey("jobs.simulation_jobs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("probability", sa.Double(), nullable=False),
        sa.Column("interval_low", sa.Double(), nullable=True),
        sa.Column("interval_high", sa.Double(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        schema="jobs",
    )
    op.create_table(
        "job_run_times",
        sa.Column(
            "job_id",
            sa.Integer(),
            sa.ForeignKey("jobs.simulation_jobs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("run_seconds", sa.Integer(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        schema="jobs",
    )
    op.create_index(
        "ix_job_run_times_tier_completed_at", "job_run_times", ["tier", "completed_at"], schema="jobs"
    )
    op.execute(_TRY_JSONB)
    op.execute(_BACKFILL_FORECASTS)
    op.execute("DROP FUNCTION jobs.swarmcast_0009_try_jsonb(text)")
    op.execute(_BACKFILL_RUN_TIMES)


def downgrade() -> None:
    op.drop_index("ix_job_run_times_tier_completed_at", table_name="job_run_times", schema="jobs")
    op.drop_table("job_run_times", schema="jobs")
    op.drop_table("job_forecasts", schema="jobs")
