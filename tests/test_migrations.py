"""The Alembic tree on throwaway databases: up, down and up again; each step reversible; offline SQL.

Each test here makes its own empty database (not the shared `database_url` one), because it takes
the schema down. The round trip also requests `database_url`: that database keeps grants to the
service roles alive, which is exactly the case where a downgrade must keep the cluster-wide roles.
"""

from __future__ import annotations

import asyncio
import configparser
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.config import REPO_ROOT
from services.common.db import make_engine
from tests.fixtures import db as dbfix
from tests.fixtures.db import ALEMBIC_INI, alembic_config, asyncpg_dsn, migrate
from tests.test_schema import (
    assert_job_status_enum,
    assert_seed_columns,
    assert_seed_constraints,
    assert_seed_indexes,
)

ROLES = ("swarmcast_auth", "swarmcast_jobs")
ALEMBIC_BIN = Path(sys.executable).with_name("alembic")


async def alembic_cli(*args: str) -> str:
    """Run the `alembic` command line as an operator (or `make migrate`) would."""
    command = [str(ALEMBIC_BIN)] if ALEMBIC_BIN.exists() else [sys.executable, "-m", "alembic"]
    proc = await asyncio.create_subprocess_exec(
        *command,
        "-c",
        str(ALEMBIC_INI),
        *args,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    text = out.decode()
    assert proc.returncode == 0, f"alembic {' '.join(args)} failed:\n{text}"
    return text


@pytest_asyncio.fixture(loop_scope="session")
async def empty_database_url() -> AsyncIterator[str]:
    url = await asyncio.to_thread(dbfix.create_test_database)
    yield url
    await asyncio.to_thread(dbfix.drop_test_database, url)


async def snapshot(url: str) -> dict[str, Any]:
    """Everything a migration defines in the auth and jobs schemas, in comparable form."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:

        async def rows(query: str) -> list[tuple[Any, ...]]:
            return sorted(tuple(r) for r in await conn.fetch(query))

        return {
            "schemas": await rows(
                "SELECT nspname, nspacl::text FROM pg_namespace WHERE nspname IN ('auth', 'jobs')"
            ),
            "columns": await rows(
                """
                SELECT table_schema, table_name, ordinal_position, column_name, data_type, udt_name,
                       character_maximum_length, is_nullable, column_default
                FROM information_schema.columns WHERE table_schema IN ('auth', 'jobs')
                """
            ),
            "indexes": await rows(
                "SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes "
                "WHERE schemaname IN ('auth', 'jobs')"
            ),
            "constraints": await rows(
                """
                SELECT n.nspname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
                JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname IN ('auth', 'jobs')
                """
            ),
            "types": await rows(
                """
                SELECT n.nspname, t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text
                FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                JOIN pg_enum e ON e.enumtypid = t.oid
                WHERE n.nspname IN ('auth', 'jobs') GROUP BY 1, 2
                """
            ),
            "grants": await rows(
                """
                SELECT grantee, table_schema, table_name, privilege_type
                FROM information_schema.role_table_grants
                WHERE grantee IN ('swarmcast_auth', 'swarmcast_jobs')
                """
            ),
            "routing": await rows(
                """
                SELECT sim_tier, model_id, gpu_type, max_rounds, target_agents, vllm_args
                FROM jobs.model_routing
                """
            )
            if await conn.fetchval("SELECT to_regclass('jobs.model_routing') IS NOT NULL")
            else [],
        }
    finally:
        await conn.close()


async def _roles_present(url: str) -> set[str]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await conn.fetch("SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])", list(ROLES))
        return {r["rolname"] for r in rows}
    finally:
        await conn.close()


async def test_upgrade_downgrade_upgrade_on_an_empty_database(
    database_url: str, empty_database_url: str
) -> None:
    url = empty_database_url
    await alembic_cli("-x", f"url={url}", "upgrade", "head")
    first = await snapshot(url)
    assert {s[0] for s in first["schemas"]} == {"auth", "jobs"}
    assert sorted(r[0] for r in first["routing"]) == ["large", "local", "medium", "small"]
    assert {g[0] for g in first["grants"]} == set(ROLES)

    await alembic_cli("-x", f"url={url}", "downgrade", "base")
    down = await snapshot(url)
    assert down == {k: [] for k in down}, "downgrade base left schema objects behind"
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        assert await conn.fetchval("SELECT count(*) FROM alembic_version") == 0
    finally:
        await conn.close()
    # The shared test database still grants these roles rights, so the downgrade kept them.
    assert await _roles_present(url) == set(ROLES)

    await alembic_cli("-x", f"url={url}", "upgrade", "head")
    again = await snapshot(url)
    assert again == first
    # The routing tiers are seeded once, not once per upgrade.
    assert len(again["routing"]) == 4


async def test_every_revision_downgrades_to_exactly_what_was_before(empty_database_url: str) -> None:
    """Walk the history one step at a time: each downgrade restores the previous catalog."""
    url = empty_database_url
    script = ScriptDirectory.from_config(Config(str(ALEMBIC_INI)))
    revisions = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert revisions and revisions[0] == "0001"
    previous = "base"
    for revision in revisions:
        before = await snapshot(url)
        await asyncio.to_thread(migrate, url, revision)
        await asyncio.to_thread(migrate, url, previous, down=True)
        assert await snapshot(url) == before, f"downgrade of {revision} did not undo its upgrade"
        await asyncio.to_thread(migrate, url, revision)
        previous = revision


async def test_revision_0001_is_exactly_the_seed(empty_database_url: str) -> None:
    """The seed migration alone: the catalog equals the seed with nothing added (later revisions may
    add their own tables and plain indexes; tests/test_schema.py checks head)."""
    await asyncio.to_thread(migrate, empty_database_url, "0001")
    engine = make_engine(empty_database_url, pool_size=1)
    try:
        await assert_seed_columns(engine)
        await assert_seed_indexes(engine, exact=True)
        await assert_seed_constraints(engine)
        await assert_job_status_enum(engine)
        tables = await _table_names(engine)
        assert tables == ["auth.users", "jobs.error_events", "jobs.model_routing", "jobs.simulation_jobs"]
    finally:
        await engine.dispose()


async def _table_names(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        result = await conn.execute(
            text(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                "WHERE table_schema IN ('auth', 'jobs') ORDER BY 1"
            )
        )
        return list(result.scalars())


async def test_head_is_a_single_revision() -> None:
    heads = ScriptDirectory.from_config(Config(str(ALEMBIC_INI))).get_heads()
    assert len(heads) == 1, f"the Alembic tree has several heads: {heads}"


async def test_offline_sql_renders_the_seed_schema() -> None:
    """`alembic upgrade head --sql` works without a database (for DBAs who apply SQL by hand)."""
    sql = await alembic_cli(
        "-x", "url=postgresql+asyncpg://nobody@127.0.0.1:1/none", "upgrade", "head", "--sql"
    )
    assert "CREATE SCHEMA auth" in sql and "CREATE SCHEMA jobs" in sql
    assert (
        "CREATE TYPE jobs.jobstatus AS ENUM ('DRAFT', 'PENDING', 'PROVISIONING', 'RUNNING', "
        "'REPORTING', 'COMPLETED', 'FAILED', 'REFUNDED')" in sql
    )
    assert "INSERT INTO jobs.model_routing" in sql and "NVIDIA H100 80GB HBM3" in sql


def test_alembic_ini_has_no_url_and_the_config_carries_ours() -> None:
    ini = configparser.ConfigParser()
    ini.read(ALEMBIC_INI)
    assert ini.get("alembic", "script_location", raw=True).endswith("alembic")
    assert not ini.has_option("alembic", "sqlalchemy.url"), "the URL comes from the environment"
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/x%y"
    assert alembic_config(url).get_main_option("sqlalchemy.url") == url


def test_unreachable_server_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dbfix, "server_url", lambda: make_url("postgresql+asyncpg://postgres@127.0.0.1:1/x"))
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL is not reachable"):
        dbfix.create_test_database()


async def test_0004_adds_tier_settings_beside_the_untouched_seed_tables(empty_database_url: str) -> None:
    """0004 seeds the seeded tiers' forecast settings in a table of its own; the seed's tables
    (model_routing included) stay exactly as 0003 left them, and the downgrade removes only it."""
    url = empty_database_url
    await asyncio.to_thread(migrate, url, "0003_jobs_runtime")
    before = await snapshot(url)
    await asyncio.to_thread(migrate, url, "0004_tier_settings")
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await conn.fetch(
            "SELECT sim_tier, replicates, heuristic_replicates, market_subsidy FROM jobs.tier_settings"
        )
        assert sorted(tuple(r) for r in rows) == [
            ("large", 1, 5, 15.0),
            ("medium", 1, 5, 15.0),
            ("small", 2, 5, 15.0),
        ]
        # The database refuses what the service refuses.
        refused = (
            "replicates = 0",
            "heuristic_replicates = 33",
            "market_subsidy = 0",
            "market_subsidy = 2e4",
        )
        for bad in refused:
            with pytest.raises(asyncpg.CheckViolationError):
                await conn.execute(f"UPDATE jobs.tier_settings SET {bad} WHERE sim_tier = 'small'")
        # The settings follow their route (checked in a transaction that is rolled back).
        tx = conn.transaction()
        await tx.start()
        try:
            await conn.execute("DELETE FROM jobs.model_routing WHERE sim_tier = 'large'")
            left = await conn.fetchval("SELECT count(*) FROM jobs.tier_settings WHERE sim_tier = 'large'")
            assert left == 0
        finally:
            await tx.rollback()
    finally:
        await conn.close()
    after = await snapshot(url)
    assert after["routing"] == before["routing"] and after["types"] == before["types"]
    seed_tables = ("users", "simulation_jobs", "model_routing", "error_events")
    assert [c for c in after["columns"] if c[1] in seed_tables] == [
        c for c in before["columns"] if c[1] in seed_tables
    ]
    assert {c[1] for c in after["columns"]} - {c[1] for c in before["columns"]} == {"tier_settings"}
    assert {g[2] for g in after["grants"] if g[0] == "swarmcast_jobs"} >= {"tier_settings"}
    await asyncio.to_thread(migrate, url, "0003_jobs_runtime", down=True)
    assert await snapshot(url) == before


async def test_0005_seeds_the_local_tier_and_keeps_an_operators_row(empty_database_url: str) -> None:
    """0005 adds the `local` route (SmolLM2 on the CPU) and its settings; an operator's existing
    `local` row is kept as it is; the downgrade removes the route and, by cascade, its settings."""
    url = empty_database_url
    await asyncio.to_thread(migrate, url, "0004_tier_settings")
    before = await snapshot(url)
    await asyncio.to_thread(migrate, url, "0005_local_tier")
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        route = await conn.fetchrow(
            "SELECT model_id, gpu_type, max_rounds, target_agents, vllm_args "
            "FROM jobs.model_routing WHERE sim_tier = 'local'"
        )
        assert tuple(route) == ("HuggingFaceTB/SmolLM2-135M-Instruct", "CPU", 3, 4, None)
        settings = await conn.fetchrow(
            "SELECT replicates, market_subsidy FROM jobs.tier_settings WHERE sim_tier = 'local'"
        )
        assert tuple(settings) == (1, 15.0)
    finally:
        await conn.close()
    after = await snapshot(url)
    assert after["columns"] == before["columns"] and after["types"] == before["types"]
    await asyncio.to_thread(migrate, url, "0004_tier_settings", down=True)
    assert await snapshot(url) == before

    # An operator's own `local` tier survives the upgrade untouched.
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(
            "INSERT INTO jobs.model_routing (sim_tier, model_id, gpu_type, max_rounds, target_agents) "
            "VALUES ('local', 'mine.gguf', 'CPU', 9, 2)"
        )
    finally:
        await conn.close()
    await asyncio.to_thread(migrate, url, "0005_local_tier")
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        row = await conn.fetchrow(
            "SELECT model_id, max_rounds FROM jobs.model_routing WHERE sim_tier = 'local'"
        )
        assert tuple(row) == ("mine.gguf", 9)
    finally:
        await conn.close()


async def test_0006_adds_outcome_tables_beside_the_untouched_seed_tables(empty_database_url: str) -> None:
    """0006 adds jobs.job_outcomes and jobs.market_outcomes (the seed's tables keep exactly their
    columns): the database refuses an outcome that is not YES/NO/ANNULLED, deleting a job deletes
    its outcome and scores, the jobs role may write them, and the downgrade removes only them."""
    url = empty_database_url
    await asyncio.to_thread(migrate, url, "0005_local_tier")
    before = await snapshot(url)
    await asyncio.to_thread(migrate, url, "0006_outcomes")
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        job_id = await conn.fetchval(
            "INSERT INTO jobs.simulation_jobs (user_id, seed_text, status) VALUES ('7', 's', 'COMPLETED') "
            "RETURNING id"
        )
        await conn.execute(
            "INSERT INTO jobs.job_outcomes "
            "(job_id, user_id, outcome, resolved_on, settlement, editable_until) "
            "VALUES ($1, '7', 'YES', '2026-12-01', '{}', now())",
            job_id,
        )
        await conn.execute(
            "INSERT INTO jobs.market_outcomes (job_id, market_id, question, is_goal, outcome, probability, "
            "opening_price, brier) VALUES ($1, 'm1', 'q', true, 'YES', 0.7, 0.5, 0.09)",
            job_id,
        )
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE jobs.market_outcomes SET outcome = 'MAYBE'")
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE jobs.job_outcomes SET outcome = 'yes'")
        await conn.execute("DELETE FROM jobs.simulation_jobs WHERE id = $1", job_id)
        assert await conn.fetchval("SELECT count(*) FROM jobs.market_outcomes") == 0
        assert await conn.fetchval("SELECT count(*) FROM jobs.job_outcomes") == 0
    finally:
        await conn.close()
    after = await snapshot(url)
    seed_tables = ("users", "simulation_jobs", "model_routing", "error_events")
    assert [c for c in after["columns"] if c[1] in seed_tables] == [
        c for c in before["columns"] if c[1] in seed_tables
    ]
    assert {c[1] for c in after["columns"]} - {c[1] for c in before["columns"]} == {
        "job_outcomes",
        "market_outcomes",
    }
    assert {g[2] for g in after["grants"] if g[0] == "swarmcast_jobs"} >= {"job_outcomes", "market_outcomes"}
    await asyncio.to_thread(migrate, url, "0005_local_tier", down=True)
    assert await snapshot(url) == before


async def _outbox_columns(conn: asyncpg.Connection, schema: str, table: str) -> dict[str, tuple[Any, ...]]:
    """Each column of an outbox table: type, length, nullability, default (the id's sequence,
    which is named after its table, left out)."""
    rows = await conn.fetch(
        "SELECT column_name, data_type, character_maximum_length, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2",
        schema,
        table,
    )
    return {
        r["column_name"]: (
            r["data_type"],
            r["character_maximum_length"],
            r["is_nullable"],
            None if r["column_name"] == "id" else r["column_default"],
        )
        for r in rows
    }


async def test_0007_gives_both_outbox_tables_the_same_columns(empty_database_url: str) -> None:
    """After 0007 auth.outbox_events and jobs.outbox have the same columns (and both the partial
    index of pending rows); pending rows survive the upgrade, and the downgrade restores 0006's
    catalog with a dispatch's job_id/run_id and a cancel's job_id filled back in."""
    url = empty_database_url
    await asyncio.to_thread(migrate, url, "0006_outcomes")
    before = await snapshot(url)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        job_id = await conn.fetchval(
            "INSERT INTO jobs.simulation_jobs (user_id, seed_text, status, workflow_run_id) "
            "VALUES ('7', 's', 'PENDING', 'run-1') RETURNING id"
        )
        await conn.execute(
            "INSERT INTO jobs.job_runs (run_id, job_id, attempt, resume, route) "
            "VALUES ('run-1', $1, 1, false, '{}')",
            job_id,
        )
        await conn.execute(
            "INSERT INTO jobs.outbox (subject, msg_id, payload, job_id, run_id) VALUES "
            "('jobs.dispatch.small', 'run-1', 'd', $1, 'run-1'), "
            "($2, $3, 'c', $1, NULL)",
            job_id,
            f"jobs.cancel.{job_id}",
            f"cancel-{job_id}-all",
        )
        await conn.execute(
            "INSERT INTO auth.outbox_events (subject, msg_id, payload) "
            "VALUES ('auth.user.deleted', 'u-1', 'x')"
        )
        old_rows = await conn.fetch("SELECT * FROM jobs.outbox ORDER BY id")
    finally:
        await conn.close()

    await asyncio.to_thread(migrate, url, "0007_outbox_columns")
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        auth_columns = await _outbox_columns(conn, "auth", "outbox_events")
        jobs_columns = await _outbox_columns(conn, "jobs", "outbox")
        assert auth_columns == jobs_columns
        assert set(jobs_columns) == {
            "id",
            "subject",
            "msg_id",
            "payload",
            "created_at",
            "published_at",
            "attempts",
        }
        partial = await conn.fetch(
            "SELECT schemaname, indexname FROM pg_indexes "
            "WHERE indexname LIKE '%unpublished' AND indexdef LIKE '%WHERE (published_at IS NULL)'"
        )
        assert sorted(tuple(r) for r in partial) == [
            ("auth", "ix_outbox_events_unpublished"),
            ("jobs", "ix_outbox_unpublished"),
        ]
        pending = await conn.fetch("SELECT msg_id, published_at FROM jobs.outbox ORDER BY id")
        assert [tuple(r) for r in pending] == [("run-1", None), (f"cancel-{job_id}-all", None)]
        assert await conn.fetchval("SELECT published_at FROM auth.outbox_events") is None
        # A published auth row: the downgrade drops it (the old relay deleted published rows).
        await conn.execute(
            "INSERT INTO auth.outbox_events (subject, msg_id, payload, published_at) "
            "VALUES ('auth.user.deleted', 'u-2', 'x', now())"
        )
    finally:
        await conn.close()

    await asyncio.to_thread(migrate, url, "0006_outcomes", down=True)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        assert await conn.fetch("SELECT * FROM jobs.outbox ORDER BY id") == old_rows
        assert await conn.fetchval("SELECT string_agg(msg_id, ',') FROM auth.outbox_events") == "u-1"
        # The id sequence goes on after the restored rows.
        next_id = await conn.fetchval(
            "INSERT INTO jobs.outbox (subject, msg_id, payload) "
            "VALUES ('jobs.cancel.1', 'n', 'p') RETURNING id"
        )
        assert next_id == old_rows[-1]["id"] + 1
        await conn.execute("DELETE FROM jobs.outbox")
        await conn.execute("DELETE FROM auth.outbox_events")
        await conn.execute("DELETE FROM jobs.simulation_jobs")
    finally:
        await conn.close()
    assert await snapshot(url) == before


async def test_0008_hashes_share_tokens_in_place_and_its_downgrade_clears_shares(
    empty_database_url: str,
) -> None:
    """0008 replaces each plain share token with its SHA-256 (the one the jobs service computes),
    so an existing link keeps working; NULLs stay NULL and the column's type and index do not
    change. The downgrade cannot un-hash: it clears the shares."""
    from services.jobs.domain.sharing import new_share_token, share_token_digest

    url = empty_database_url
    await asyncio.to_thread(migrate, url, "0007_outbox_columns")
    before = await snapshot(url)
    tokens = [new_share_token(), new_share_token()]
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        ids = [
            await conn.fetchval(
                "INSERT INTO jobs.simulation_jobs (user_id, seed_text, status, share_token) "
                "VALUES ('7', 's', 'COMPLETED', $1) RETURNING id",
                token,
            )
            for token in [*tokens, None]
        ]
    finally:
        await conn.close()

    await asyncio.to_thread(migrate, url, "0008_share_token_hashes")
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        stored = [
            await conn.fetchval("SELECT share_token FROM jobs.simulation_jobs WHERE id = $1", i) for i in ids
        ]
        assert stored == [share_token_digest(tokens[0]), share_token_digest(tokens[1]), None]
        assert not any(token in (stored[0], stored[1]) for token in tokens)
    finally:
        await conn.close()
    after = await snapshot(url)
    assert after["columns"] == before["columns"] and after["types"] == before["types"]

    # Once more from 0007 with the digests in place: nothing is hashed twice.
    await asyncio.to_thread(migrate, url, "0007_outbox_columns", down=True)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        assert await conn.fetchval("SELECT count(share_token) FROM jobs.simulation_jobs") == 0
        await conn.execute(
            "UPDATE jobs.simulation_jobs SET share_token = $1 WHERE id = $2",
            share_token_digest(tokens[0]),
            ids[0],
        )
    finally:
        await conn.close()
    await asyncio.to_thread(migrate, url, "0008_share_token_hashes")
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        assert await conn.fetchval(
            "SELECT share_token FROM jobs.simulation_jobs WHERE id = $1", ids[0]
        ) == share_token_digest(tokens[0])
    finally:
        await conn.close()
    await asyncio.to_thread(migrate, url, "0007_outbox_columns", down=True)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute("DELETE FROM jobs.simulation_jobs")
    finally:
        await conn.close()
    assert await snapshot(url) == before
