"""The migrated database is the seed schema (seeds/000_1b99262006bac24e.txt), column by column.

EXPECTED_COLUMNS is the seed written as data; the catalog of a database after `alembic upgrade head`
must match it exactly: names and order, types, lengths, nullability, defaults, primary keys,
unique constraints/indexes, plain indexes, and the JobStatus enum labels in order. It also checks
that the ORM models agree with the database (autogenerate finds nothing) and that each service's
login role reaches its own schema only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.auth.models import User
from services.common.db import Base, import_all_models
from services.jobs.models import DEFAULT_ROUTES, ErrorEvent, JobStatus, ModelRouting, SimulationJob
from tests.fixtures.db import asyncpg_dsn, ensure_seeded_routing

SEED_TABLES = ("auth.users", "jobs.simulation_jobs", "jobs.model_routing", "jobs.error_events")
JOB_STATUS_LABELS = [
    "DRAFT",
    "PENDING",
    "PROVISIONING",
    "RUNNING",
    "REPORTING",
    "COMPLETED",
    "FAILED",
    "REFUNDED",
]


@dataclass(frozen=True)
class Col:
    """One seed column. `default` is the exact `information_schema.columns.column_default`."""

    table: str
    name: str
    type: str  # information_schema data_type; "jobs.jobstatus" for the enum
    length: int | None = None
    nullable: bool = False
    default: str | None = None
    pk: bool = False
    unique: bool = False  # seed says "Unique"
    indexed: bool = False  # seed says "indexed"


def _id(table: str) -> Col:
    return Col(table, "id", "integer", default=f"nextval('{table}_id_seq'::regclass)", pk=True)


VARCHAR, TEXT, INT, BOOL, TSTZ = "character varying", "text", "integer", "boolean", "timestamp with time zone"
U, J, R, E = "auth.users", "jobs.simulation_jobs", "jobs.model_routing", "jobs.error_events"

# The seed, one row per column, in the seed's order.
EXPECTED_COLUMNS: tuple[Col, ...] = (
    _id(U),
    Col(U, "email", VARCHAR, 255, unique=True, indexed=True),
    Col(U, "password_hash", VARCHAR, 255),
    Col(U, "created_at", TSTZ, default="now()"),
    Col(U, "email_verified", BOOL, default="false"),
    Col(U, "verification_token", VARCHAR, 255, nullable=True),
    Col(U, "reset_token", VARCHAR, 255, nullable=True),
    Col(U, "reset_token_expires", TSTZ, nullable=True),
    _id(J),
    Col(J, "user_id", VARCHAR, 255, indexed=True),
    Col(J, "seed_text", TEXT),
    Col(J, "goal", TEXT, nullable=True),
    Col(J, "tier", VARCHAR, 20, nullable=True),
    Col(J, "credits_charged", INT, default="0"),
    Col(J, "status", "jobs.jobstatus", default="'PENDING'::jobs.jobstatus"),
    Col(J, "pipeline_stage", INT, nullable=True),
    Col(J, "result_report", TEXT, nullable=True),
    Col(J, "result_chat_log", TEXT, nullable=True),
    Col(J, "result_graph", TEXT, nullable=True),
    Col(J, "result_structured", TEXT, nullable=True),
    Col(J, "error_message", TEXT, nullable=True),
    Col(J, "gpu_provider", VARCHAR, 50, nullable=True),
    Col(J, "gpu_cost_usd", "double precision", nullable=True),
    Col(J, "created_at", TSTZ, default="now()"),
    Col(J, "completed_at", TSTZ, nullable=True),
    Col(J, "pod_id", VARCHAR, 255, nullable=True, indexed=True),
    Col(J, "celery_task_id", VARCHAR, 255, nullable=True),
    Col(J, "workflow_id", VARCHAR, 255, nullable=True, indexed=True),
    Col(J, "workflow_run_id", VARCHAR, 255, nullable=True),
    Col(J, "retry_count", INT, default="0"),
    Col(J, "retry_of", INT, nullable=True),
    Col(J, "provision_seconds", INT, nullable=True),
    Col(J, "pipeline_seconds", INT, nullable=True),
    Col(J, "key_insight", VARCHAR, 200, nullable=True),
    Col(J, "share_token", VARCHAR, 64, nullable=True, unique=True, indexed=True),
    Col(J, "last_heartbeat", TSTZ, nullable=True),
    Col(J, "enrich_web", BOOL, default="true"),
    Col(J, "enriched_seed", TEXT, nullable=True),
    Col(J, "enrichment_citations", TEXT, nullable=True),
    Col(J, "forecast_days", INT, nullable=True),
    Col(J, "sim_data_available", BOOL, default="false"),
    Col(J, "live_status", "json", nullable=True),
    Col(J, "resume_task_id", VARCHAR, 255, nullable=True),
    Col(J, "markets_config", "json", nullable=True),
    _id(R),
    Col(R, "sim_tier", VARCHAR, 20, unique=True),
    Col(R, "model_id", VARCHAR, 255),
    Col(R, "gpu_type", VARCHAR, 50),
    Col(R, "max_rounds", INT, default="200"),
    Col(R, "vllm_args", TEXT, nullable=True),
    Col(R, "target_agents", INT, default="5"),
    _id(E),
    Col(E, "timestamp", TSTZ, default="now()"),
    Col(E, "level", VARCHAR, 20, default="'ERROR'::character varying"),
    Col(E, "source", VARCHAR, 20),
    Col(E, "message", TEXT),
    Col(E, "traceback", TEXT, nullable=True),
    Col(E, "user_id", VARCHAR, 255, nullable=True),
    Col(E, "job_id", INT, nullable=True),
    Col(E, "request_path", VARCHAR, 500, nullable=True),
)

# Every single-column index on a seed table: (table, column, index name, unique, backing constraint:
# 'p' PK, 'u' unique constraint, None for a plain CREATE [UNIQUE] INDEX). "Unique, indexed" columns
# get one unique index and no separate constraint; "Unique." alone (sim_tier) is a unique constraint.
SeedIndex = tuple[str, str, str, bool, str | None]


def expected_indexes() -> set[SeedIndex]:
    out: set[SeedIndex] = set()
    for c in EXPECTED_COLUMNS:
        table = c.table.split(".")[1]
        if c.pk:
            out.add((c.table, c.name, f"pk_{table}", True, "p"))
        elif c.indexed:
            out.add((c.table, c.name, f"ix_{table}_{c.name}", c.unique, None))
        elif c.unique:
            out.add((c.table, c.name, f"uq_{table}_{c.name}", True, "u"))
    return out


async def _rows(engine: AsyncEngine, query: str, **params: Any) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(text(query), params)).mappings().all()]


SEED_TABLES_SQL = ", ".join(f"'{t}'" for t in SEED_TABLES)


def _in_seed_tables(qualified_name_sql: str) -> str:
    return f"{qualified_name_sql} IN ({SEED_TABLES_SQL})"


async def test_schemas_exist(db_engine: AsyncEngine) -> None:
    rows = await _rows(db_engine, "SELECT nspname FROM pg_namespace WHERE nspname IN ('auth', 'jobs')")
    assert {r["nspname"] for r in rows} == {"auth", "jobs"}


async def assert_seed_columns(engine: AsyncEngine) -> None:
    """Seed tables hold exactly the seed's columns, in order, with type, length, nullability, default."""
    qualified = "table_schema || '.' || table_name"
    rows = await _rows(
        engine,
        f"""
        SELECT {qualified} AS tbl, column_name, data_type, udt_schema, udt_name,
               character_maximum_length, is_nullable, column_default
        FROM information_schema.columns
        WHERE {_in_seed_tables(qualified)}
        ORDER BY array_position(ARRAY[{SEED_TABLES_SQL}], {qualified}), ordinal_position
        """,
    )
    actual = [
        Col(
            table=r["tbl"],
            name=r["column_name"],
            type=f"{r['udt_schema']}.{r['udt_name']}" if r["data_type"] == "USER-DEFINED" else r["data_type"],
            length=r["character_maximum_length"],
            nullable=r["is_nullable"] == "YES",
            default=r["column_default"],
        )
        for r in rows
    ]
    expected = [Col(c.table, c.name, c.type, c.length, c.nullable, c.default) for c in EXPECTED_COLUMNS]
    # Same columns, same order; then field by field for a readable failure.
    assert [(c.table, c.name) for c in actual] == [(c.table, c.name) for c in expected]
    for got, want in zip(actual, expected, strict=True):
        assert got == want, f"{want.table}.{want.name}: got {got}, want {want}"


async def assert_seed_indexes(engine: AsyncEngine, *, exact: bool) -> None:
    """Every seed index/PK/unique exists as specified.

    exact=False (head): later migrations may add plain, non-unique indexes to seed tables for
    their queries; a unique one would change the seed's semantics and fails. exact=True (revision
    0001): nothing but the seed's.
    """
    qualified = "n.nspname || '.' || t.relname"
    rows = await _rows(
        engine,
        f"""
        SELECT n.nspname || '.' || t.relname AS tbl, i.relname AS index_name, x.indisunique AS is_unique,
               c.contype::text AS contype,
               array(SELECT a.attname FROM unnest(x.indkey) AS k(attnum)
                     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum) AS columns
        FROM pg_index x
        JOIN pg_class t ON t.oid = x.indrelid
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = t.oid
        WHERE {_in_seed_tables(qualified)}
        """,
    )
    for r in rows:
        assert len(r["columns"]) == 1, f"unexpected multi-column index {r['index_name']}"
    actual = {(r["tbl"], r["columns"][0], r["index_name"], r["is_unique"], r["contype"]) for r in rows}
    expected = expected_indexes()
    assert expected <= actual, f"seed indexes missing or different: {sorted(expected - actual, key=str)}"
    extra = actual - expected
    if exact:
        assert not extra, f"indexes the seed does not have: {sorted(extra, key=str)}"
    else:
        assert all(not unique and contype is None for *_, unique, contype in extra), extra

    # pg_indexes (what psql's \di shows) lists the same names.
    qualified = "schemaname || '.' || tablename"
    names = await _rows(engine, f"SELECT indexname FROM pg_indexes WHERE {_in_seed_tables(qualified)}")
    assert {r["indexname"] for r in names} == {index[2] for index in actual}


async def assert_seed_constraints(engine: AsyncEngine) -> None:
    """PKs and the one unique constraint; no FK or CHECK on seed tables, no FK across schemas."""
    qualified = "tc.table_schema || '.' || tc.table_name"
    rows = await _rows(
        engine,
        f"""
        SELECT {qualified} AS tbl, tc.constraint_type,
               array_agg(kcu.column_name::text) AS columns
        FROM information_schema.table_constraints tc
        LEFT JOIN information_schema.key_column_usage kcu
          ON kcu.constraint_schema = tc.constraint_schema AND kcu.constraint_name = tc.constraint_name
        WHERE {_in_seed_tables(qualified)}
          AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY', 'CHECK')
          AND tc.constraint_name NOT LIKE '%_not_null'
        GROUP BY 1, 2, tc.constraint_name
        """,
    )
    actual = {(r["tbl"], r["constraint_type"], tuple(r["columns"])) for r in rows}
    expected = {(c.table, "PRIMARY KEY", (c.name,)) for c in EXPECTED_COLUMNS if c.pk} | {
        (R, "UNIQUE", ("sim_tier",))
    }
    # No foreign keys (user_id and retry_of are plain values) and no check constraints.
    assert actual == expected

    cross = await _rows(
        engine,
        """
        SELECT conname FROM pg_constraint c
        JOIN pg_class s ON s.oid = c.conrelid JOIN pg_class d ON d.oid = c.confrelid
        WHERE c.contype = 'f' AND s.relnamespace <> d.relnamespace
        """,
    )
    assert cross == [], "a foreign key crosses the auth/jobs boundary"


async def assert_job_status_enum(engine: AsyncEngine) -> None:
    rows = await _rows(
        engine,
        """
        SELECT e.enumlabel FROM pg_enum e
        JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'jobs' AND t.typname = 'jobstatus'
        ORDER BY e.enumsortorder
        """,
    )
    assert [r["enumlabel"] for r in rows] == JOB_STATUS_LABELS
    assert [s.value for s in JobStatus] == JOB_STATUS_LABELS


async def test_every_seed_column(db_engine: AsyncEngine) -> None:
    await assert_seed_columns(db_engine)


async def test_seed_indexes_primary_keys_and_uniques(db_engine: AsyncEngine) -> None:
    await assert_seed_indexes(db_engine, exact=False)


async def test_seed_constraints_and_no_foreign_keys(db_engine: AsyncEngine) -> None:
    await assert_seed_constraints(db_engine)


async def test_job_status_enum(db_engine: AsyncEngine) -> None:
    await assert_job_status_enum(db_engine)


def test_models_cover_only_the_seed_columns_in_seed_order() -> None:
    """The ORM side of the same table: every seed column mapped, nothing else, same nullability."""
    for name in SEED_TABLES:
        table = Base.metadata.tables[name]
        want = [c for c in EXPECTED_COLUMNS if c.table == name]
        assert [c.name for c in table.columns] == [c.name for c in want]
        for col in want:
            assert table.c[col.name].nullable == col.nullable, f"{name}.{col.name} nullability"
            assert (table.c[col.name].server_default is not None) == (col.default is not None and not col.pk)


async def test_models_match_migrated_database(db_engine: AsyncEngine) -> None:
    """Autogenerate against the migrated database finds nothing: models and migrations agree."""
    import_all_models()

    def diff(conn: Connection) -> list[Any]:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                "include_name": lambda name, type_, _parents: type_ != "schema" or name in ("auth", "jobs"),
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        return list(compare_metadata(ctx, Base.metadata))

    async with db_engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_orm_insert_uses_server_defaults(clean_db: async_sessionmaker[AsyncSession]) -> None:
    async with clean_db() as session:
        user = User(email="a@example.com", password_hash="x")
        job = SimulationJob(user_id="1", seed_text="seed")
        event = ErrorEvent(source="api", message="boom")
        route = ModelRouting(sim_tier="test-defaults", model_id="m", gpu_type="g")
        session.add_all([user, job, event, route])
        await session.flush()
        now = datetime.now(UTC)
        assert user.id == 1 and job.id == 1 and event.id == 1  # identities restarted by clean_db
        assert user.email_verified is False
        assert abs(user.created_at - now) < timedelta(minutes=1) and user.created_at.tzinfo is not None
        assert job.status is JobStatus.PENDING
        assert (job.credits_charged, job.retry_count) == (0, 0)
        assert (job.enrich_web, job.sim_data_available) == (True, False)
        assert event.level == "ERROR" and event.timestamp.tzinfo is not None
        assert (route.max_rounds, route.target_agents) == (200, 5)
        await session.rollback()


async def test_share_token_unique_but_many_nulls(clean_db: async_sessionmaker[AsyncSession]) -> None:
    async with clean_db() as session:
        session.add_all([SimulationJob(user_id="1", seed_text="s") for _ in range(2)])
        await session.flush()  # two NULL share tokens coexist
        await session.rollback()
    with pytest.raises(IntegrityError, match="ix_simulation_jobs_share_token"):
        async with clean_db() as session, session.begin():
            session.add_all([SimulationJob(user_id="1", seed_text="s", share_token="t") for _ in range(2)])


# ---- role isolation


async def _as_role(database_url: str, role: str) -> asyncpg.Connection:
    # Local PostgreSQL trusts loopback; deployments set these passwords for the migration too.
    password = os.environ.get(f"SWARMCAST_{role.removeprefix('swarmcast_').upper()}_DB_PASSWORD")
    return await asyncpg.connect(asyncpg_dsn(database_url, user=role, password=password))


@pytest.mark.parametrize(
    ("role", "own", "other"),
    [
        (
            "swarmcast_auth",
            ["auth.users"],
            ["jobs.simulation_jobs", "jobs.model_routing", "jobs.error_events"],
        ),
        (
            "swarmcast_jobs",
            [
                "jobs.simulation_jobs",
                "jobs.model_routing",
                "jobs.error_events",
                "jobs.tier_settings",
                "jobs.job_events",
                "jobs.job_branches",
                "jobs.job_interviews",
            ],
            ["auth.users"],
        ),
    ],
)
async def test_role_reaches_its_own_schema_only(
    database_url: str, role: str, own: list[str], other: list[str]
) -> None:
    conn = await _as_role(database_url, role)
    try:
        for table in own:
            await conn.fetch(f"SELECT * FROM {table} LIMIT 1")
        for table in other:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetch(f"SELECT * FROM {table} LIMIT 1")
        # Writes work on its own tables (sequences and the enum type included), in a rolled-back tx.
        tx = conn.transaction()
        await tx.start()
        try:
            if role == "swarmcast_auth":
                await conn.execute(
                    "INSERT INTO auth.users (email, password_hash) VALUES ('r@example.com', 'x')"
                )
            else:
                job_id = await conn.fetchval(
                    "INSERT INTO jobs.simulation_jobs (user_id, seed_text, status) "
                    "VALUES ('1', 's', 'DRAFT') RETURNING id"
                )
                # The interview id comes from its own sequence (migration 0010).
                await conn.execute(
                    "INSERT INTO jobs.job_interviews (job_id, user_id, question, target, answers, backend, "
                    "model_id) VALUES ($1, '1', 'q', 'agent 1', '[]', 'heuristic', 'm')",
                    job_id,
                )
                await conn.execute("INSERT INTO jobs.error_events (source, message) VALUES ('api', 'm')")
                await conn.execute("UPDATE jobs.model_routing SET max_rounds = max_rounds")
                await conn.execute("UPDATE jobs.tier_settings SET replicates = replicates")
        finally:
            await tx.rollback()
        # USAGE only: a service role cannot change the schema itself.
        schema = own[0].split(".")[0]
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(f"CREATE TABLE {schema}.intruder (id int)")
    finally:
        await conn.close()


async def test_public_has_no_access_to_service_schemas(db_engine: AsyncEngine) -> None:
    rows = await _rows(
        db_engine,
        "SELECT nspname, has_schema_privilege('public', oid, 'USAGE') AS usage "
        "FROM pg_namespace WHERE nspname IN ('auth', 'jobs')",
    )
    assert {r["nspname"]: r["usage"] for r in rows} == {"auth": False, "jobs": False}


# ---- the seeded_routing fixture


async def test_seeded_routing_returns_the_design_tiers(seeded_routing: list[dict[str, Any]]) -> None:
    assert [r["sim_tier"] for r in seeded_routing] == ["small", "medium", "large", "local"]
    for row, want in zip(seeded_routing, DEFAULT_ROUTES, strict=True):
        assert {k: row[k] for k in want} == want
        assert isinstance(row["id"], int)
    large = seeded_routing[2]
    assert (large["gpu_type"], large["max_rounds"], large["target_agents"]) == (
        "NVIDIA H100 80GB HBM3",
        200,
        35,
    )


async def test_seeded_routing_reasserts_tiers_a_test_changed(db_engine: AsyncEngine) -> None:
    async with db_engine.begin() as conn:
        await conn.execute(text("UPDATE jobs.model_routing SET max_rounds = 1 WHERE sim_tier = 'small'"))
        await conn.execute(text("DELETE FROM jobs.model_routing WHERE sim_tier = 'large'"))
        await conn.execute(
            text("INSERT INTO jobs.model_routing (sim_tier, model_id, gpu_type) VALUES ('xl', 'm', 'g')")
        )
    routes = await ensure_seeded_routing(db_engine)
    assert [{k: r[k] for k in want} for r, want in zip(routes, DEFAULT_ROUTES, strict=True)] == list(
        DEFAULT_ROUTES
    )
    tiers = await _rows(db_engine, "SELECT sim_tier FROM jobs.model_routing")
    assert sorted(r["sim_tier"] for r in tiers) == ["large", "local", "medium", "small"]


def test_default_route_table_is_design_section_2() -> None:
    assert [tuple(r.values()) for r in DEFAULT_ROUTES] == [
        ("small", "Qwen/Qwen3-14B", "NVIDIA L40S", 15, 10, "--max-model-len 16384"),
        ("medium", "Qwen/Qwen3-14B", "NVIDIA L40S", 100, 20, "--max-model-len 16384"),
        ("large", "Qwen/Qwen3-14B", "NVIDIA H100 80GB HBM3", 200, 35, "--max-model-len 16384"),
        ("local", "HuggingFaceTB/SmolLM2-135M-Instruct", "CPU", 3, 4, None),
    ]
