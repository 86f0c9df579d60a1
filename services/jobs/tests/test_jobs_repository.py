"""The SQL compare-and-set against the real database: the state machine holds in SQL too."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.jobs import repository as repo
from services.jobs.domain.events import RowChange, failed_change
from services.jobs.domain.pagination import resolve_page
from services.jobs.domain.state_machine import JobStatus, allowed_sources, can_transition
from services.jobs.models import SimulationJob
from services.jobs.tests.jobs_helpers import row

S = JobStatus
PAIRS = list(itertools.product(S, S))

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def make_job(sessions: async_sessionmaker[AsyncSession], status: JobStatus, **kw: Any) -> int:
    async with sessions() as session, session.begin():
        job = await repo.insert_job(
            session,
            user_id=str(kw.pop("user_id", "1")),
            status=status,
            seed_text=kw.pop("seed_text", "seed"),
            goal=kw.pop("goal", "goal?"),
            tier="small",
            enrich_web=True,
            forecast_days=30,
            retry_of=kw.pop("retry_of", None),
        )
        if kw:
            await session.execute(update(SimulationJob).where(SimulationJob.id == job.id).values(**kw))
        return job.id


async def test_insert_defaults(jobs_db: async_sessionmaker[AsyncSession]) -> None:
    job_id = await make_job(jobs_db, S.PENDING)
    values = await row(jobs_db, job_id)
    assert values is not None
    assert values["credits_charged"] == 0 and values["retry_count"] == 0
    assert values["status"] is S.PENDING and values["created_at"] is not None


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
async def test_sql_guard_allows_exactly_the_legal_moves(
    jobs_db: async_sessionmaker[AsyncSession], source: JobStatus, target: JobStatus
) -> None:
    job_id = await make_job(jobs_db, source)
    before = await row(jobs_db, job_id)
    change = RowChange(target=target, guard=allowed_sources(target), values={"error_message": "changed"})
    async with jobs_db() as session, session.begin():
        updated = await repo.apply_change(session, job_id, change)
    after = await row(jobs_db, job_id)
    if can_transition(source, target):
        assert updated is not None and updated.status is target
        assert after is not None and after["status"] is target and after["error_message"] == "changed"
    else:
        assert updated is None
        assert after == before  # the whole row is untouched


@pytest.mark.parametrize("status", [S.PENDING, S.PROVISIONING, S.RUNNING, S.REPORTING, S.COMPLETED])
async def test_move_if_legal_never_moves_backwards(
    jobs_db: async_sessionmaker[AsyncSession], status: JobStatus
) -> None:
    """Progress of a resumed run (stage 0) keeps a RUNNING job RUNNING but still records fields."""
    job_id = await make_job(jobs_db, status, workflow_run_id="run-1")
    change = RowChange(
        target=S.PROVISIONING,
        guard=frozenset({S.PENDING, S.PROVISIONING, S.RUNNING}),
        values={"pipeline_stage": 0},
        move_if_legal=True,
    )
    async with jobs_db() as session, session.begin():
        updated = await repo.apply_change(session, job_id, change, run_id="run-1")
    after = await row(jobs_db, job_id)
    assert after is not None
    if status in (S.REPORTING, S.COMPLETED):
        assert updated is None and after["pipeline_stage"] is None
    else:
        assert after["pipeline_stage"] == 0
        assert after["status"] is (S.PROVISIONING if status is S.PENDING else status)


async def test_other_runs_change_nothing(jobs_db: async_sessionmaker[AsyncSession]) -> None:
    job_id = await make_job(jobs_db, S.RUNNING, workflow_run_id="current")
    before = await row(jobs_db, job_id)
    async with jobs_db() as session, session.begin():
        assert await repo.apply_change(session, job_id, failed_change("boom"), run_id="superseded") is None
    assert await row(jobs_db, job_id) == before


async def test_concurrent_terminal_moves_have_one_winner(jobs_db: async_sessionmaker[AsyncSession]) -> None:
    """Twenty racing FAILED writes (say, cancel vs. failure vs. detector): exactly one applies."""
    job_id = await make_job(jobs_db, S.RUNNING)

    async def attempt(i: int) -> bool:
        async with jobs_db() as session, session.begin():
            return await repo.apply_change(session, job_id, failed_change(f"writer {i}")) is not None

    results = await asyncio.gather(*(attempt(i) for i in range(20)))
    assert sum(results) == 1
    after = await row(jobs_db, job_id)
    assert after is not None and after["error_message"] == f"writer {results.index(True)}"


async def test_progress_seq_is_only_if_newer(jobs_db: async_sessionmaker[AsyncSession]) -> None:
    job_id = await make_job(jobs_db, S.RUNNING)
    async with jobs_db() as session, session.begin():
        await repo.insert_run(session, run_id="r1", job_id=job_id, attempt=1, resume=False, route={})
    async with jobs_db() as session, session.begin():
        assert await repo.advance_progress_seq(session, job_id, "r1", 0)  # a runner counting from 0
        assert await repo.advance_progress_seq(session, job_id, "r1", 5)
        assert not await repo.advance_progress_seq(session, job_id, "r1", 5)
        assert not await repo.advance_progress_seq(session, job_id, "r1", 3)
        assert not await repo.advance_progress_seq(session, job_id, "other-run", 9)


async def test_list_hides_superseded_originals_and_other_users(
    jobs_db: async_sessionmaker[AsyncSession],
) -> None:
    original = await make_job(jobs_db, S.FAILED)
    retry = await make_job(jobs_db, S.PENDING, retry_of=original)
    mine = await make_job(jobs_db, S.COMPLETED)
    await make_job(jobs_db, S.COMPLETED, user_id="2")
    async with jobs_db() as session:
        jobs, total = await repo.list_jobs(session, "1", resolve_page(1, 10), None)
        assert [j.id for j in jobs] == [mine, retry] and total == 2
        done, total_done = await repo.list_jobs(session, "1", resolve_page(1, 10), S.COMPLETED)
        assert [j.id for j in done] == [mine] and total_done == 1


async def test_lookups_with_impossible_ids_find_nothing(jobs_db: async_sessionmaker[AsyncSession]) -> None:
    async with jobs_db() as session:
        for job_id in (0, -1, 2**31, 2**63 - 1):
            assert await repo.get_job(session, job_id) is None
            assert await repo.apply_change(session, job_id, failed_change("x")) is None
