"""Migration 0009 on a throwaway database: the new tables, and the backfill from jobs already there.

The backfill reads the goal's forecast out of every COMPLETED job's result_structured the way the
jobs service does (`domain.listing.headline_of`): text that is not JSON, results without a goal
forecast, numbers that are not probabilities and a NUL escape are all skipped without failing the
migration. The downgrade leaves exactly what 0008 had.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from services.jobs.domain.listing import headline_of
from tests.fixtures import db as dbfix
from tests.fixtures.db import asyncpg_dsn, migrate
from tests.test_migrations import snapshot

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def empty_database_url() -> AsyncIterator[str]:
    url = await asyncio.to_thread(dbfix.create_test_database)
    yield url
    await asyncio.to_thread(dbfix.drop_test_database, url)


def _goal(probability: Any, interval: Any = None) -> str:
    goal: dict[str, Any] = {"market_id": "m1", "probability": probability}
    if interval is not None:
        goal["interval"] = interval
    return json.dumps({"forecast": {"goal": goal}})


# result_structured → what the list shows (probability, low, high), or None: no forecast.
RESULTS: list[tuple[str | None, tuple[float, float | None, float | None] | None]] = [
    (_goal(0.63, [0.55, 0.7]), (0.63, 0.55, 0.7)),
    (_goal(0.2), (0.2, None, None)),
    (_goal(1, [0, 1]), (1.0, 0.0, 1.0)),
    (_goal(0.4, [0.6, 0.3]), (0.4, None, None)),  # an interval out of order is left out
    (_goal(0.4, [0.3]), (0.4, None, None)),
    (_goal(0.4, [0.3, "0.5"]), (0.4, None, None)),
    (_goal(1.5, [0.1, 0.2]), None),
    (_goal("0.5"), None),
    (_goal(None), None),
    ('{"forecast": {"goal": {"probability": 1e400}}}', None),  # beyond a float: skipped, no error
    # jsonb refuses the escape \u0000 (Python's reader does not): read without it
    ('{"forecast": {"goal": {"probability": 0.5, "note": "\\u0000"}}}', (0.5, None, None)),
    ('{"forecast": {"goal": [0.5]}}', None),
    ('{"forecast": "0.5"}', None),
    ("[1, 2]", None),
    ("{not json", None),
    ("", None),
    (None, None),
]


async def test_0009_backfills_forecasts_and_run_times_and_downgrades_cleanly(empty_database_url: str) -> None:
    url = empty_database_url
    await asyncio.to_thread(migrate, url, "0008_share_token_hashes")
    before = await snapshot(url)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        insert = (
            "INSERT INTO jobs.simulation_jobs (user_id, seed_text, tier, status, result_structured, "
            "provision_seconds, pipeline_seconds, completed_at) "
            "VALUES ('7', 's', $1, $2::jobs.jobstatus, $3, $4, $5, "
            "CASE WHEN $2::jobs.jobstatus = 'COMPLETED' THEN now() END) RETURNING id"
        )
        ids = [await conn.fetchval(insert, "small", "COMPLETED", text, 3, 40) for text, _ in RESULTS]
        # Not COMPLETED: no forecast even with results; and completed jobs without timings.
        failed = await conn.fetchval(insert, "small", "FAILED", _goal(0.9), 3, 40)
        untimed = await conn.fetchval(insert, "large", "COMPLETED", _goal(0.1), None, None)
    finally:
        await conn.close()

    await asyncio.to_thread(migrate, url, "0009_job_list_extras")
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await conn.fetch(
            "SELECT job_id, probability, interval_low, interval_high FROM jobs.job_forecasts"
        )
        found = {r["job_id"]: (r["probability"], r["interval_low"], r["interval_high"]) for r in rows}
        for job_id, (text, want) in zip(ids, RESULTS, strict=True):
            assert found.get(job_id) == want, text
            # The same reading as the service's, so a backfilled job and a new one agree.
            headline = headline_of(text)
            assert (None if headline is None else (headline.probability, headline.low, headline.high)) == want
        assert failed not in found and found[untimed] == (0.1, None, None)
        times = await conn.fetch("SELECT job_id, tier, run_seconds FROM jobs.job_run_times ORDER BY job_id")
        assert [(r["job_id"], r["tier"], r["run_seconds"]) for r in times] == [(i, "small", 43) for i in ids]
        # The helper function used while backfilling is gone.
        assert await conn.fetchval("SELECT count(*) FROM pg_proc WHERE proname LIKE 'swarmcast_0009%'") == 0
        # Deleting a job deletes its rows in both tables.
        await conn.execute("DELETE FROM jobs.simulation_jobs WHERE id = $1", ids[0])
        assert await conn.fetchval("SELECT count(*) FROM jobs.job_forecasts WHERE job_id = $1", ids[0]) == 0
        assert await conn.fetchval("SELECT count(*) FROM jobs.job_run_times WHERE job_id = $1", ids[0]) == 0
    finally:
        await conn.close()

    await asyncio.to_thread(migrate, url, "0008_share_token_hashes", down=True)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute("DELETE FROM jobs.simulation_jobs")
    finally:
        await conn.close()
    assert await snapshot(url) == before
