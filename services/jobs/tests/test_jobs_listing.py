"""The job list's extras over real gRPC (real DB, NATS, S3): the goal's headline forecast on every
job, search and sort in ListJobs, a PENDING job's place in its queue, and a shared job's market
curves.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
import httpx
import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select, text
from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2

from services.common.storage import ObjectStore
from services.jobs import repository as repo
from services.jobs.domain.artifacts import artifact_key
from services.jobs.domain.listing import JobSort, check_list_query
from services.jobs.domain.pagination import Page
from services.jobs.listing_models import JobForecastRow, JobRunTimeRow
from services.jobs.tests.jobs_helpers import (
    GOAL,
    progress,
    reporter_completed,
    seed_text,
    successful_history,
    upload_artifacts,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

J = jobs_pb2


def structured(probability: Any, interval: Any = None) -> str:
    goal: dict[str, Any] = {"market_id": "m1", "probability": probability, "level": 0.8}
    if interval is not None:
        goal["interval"] = interval
    return json.dumps({"verdict": "likely", "forecast": {"goal": goal, "markets": {}, "method": "m"}})


async def create(
    server: Any, user: int = 1, *, goal: str = GOAL, variant: str = "", tier: str = "small"
) -> Any:
    request = J.CreateJobRequest(seed_text=seed_text(variant or goal), goal=goal, tier=tier)
    return (await server.stub.CreateJob(request, metadata=server.md(user))).job


async def complete(
    server: Any,
    store: ObjectStore,
    job: Any,
    result_structured: str | None,
    *,
    pipeline_seconds: float = 9.6,
) -> None:
    """Plays a whole successful run of `job` into the service, with the reporter's results given."""
    await upload_artifacts(store, job.id)
    handlers = server.app.handlers
    for event in successful_history(job.id, job.workflow_run_id):
        if isinstance(event, events_pb2.RunnerCompleted):
            event.pipeline_seconds = pipeline_seconds
        if isinstance(event, events_pb2.ReporterCompleted):
            event.result_structured = result_structured or ""
        await {
            events_pb2.RunnerProgress: handlers.apply_progress,
            events_pb2.RunnerCompleted: handlers.apply_runner_completed,
            events_pb2.ReporterCompleted: handlers.apply_reporter_completed,
        }[type(event)](event)


async def get(server: Any, job_id: int, user: int = 1) -> Any:
    return (await server.stub.GetJob(J.GetJobRequest(job_id=job_id), metadata=server.md(user))).job


async def listed(server: Any, user: int = 1, **kw: Any) -> Any:
    return await server.stub.ListJobs(J.ListJobsRequest(**kw), metadata=server.md(user))


def forecast(job: Any) -> tuple[float | None, float | None, float | None]:
    return tuple(  # type: ignore[return-value]
        getattr(job, f) if job.HasField(f) else None
        for f in ("forecast_probability", "forecast_low", "forecast_high")
    )


# --- the headline forecast -----------------------------------------------------------------------


async def test_a_completed_jobs_forecast_is_on_get_list_and_watch(
    jobs_server: Any, object_store: ObjectStore
) -> None:
    job = await create(jobs_server)
    assert forecast(await get(jobs_server, job.id)) == (None, None, None)  # nothing before the report
    await complete(jobs_server, object_store, job, structured(0.63, [0.55, 0.7]))

    assert forecast(await get(jobs_server, job.id)) == (0.63, 0.55, 0.7)
    page = await listed(jobs_server)
    assert forecast(page.jobs[0]) == (0.63, 0.55, 0.7)
    assert not page.jobs[0].HasField("result_structured")  # the list still leaves results out
    call = jobs_server.stub.WatchJob(J.WatchJobRequest(job_id=job.id), metadata=jobs_server.md(1))
    snapshots = [m.job async for m in call]
    assert [forecast(s) for s in snapshots] == [(0.63, 0.55, 0.7)]


async def test_results_without_a_usable_forecast_show_none_and_a_regenerated_report_updates_it(
    jobs_server: Any, object_store: ObjectStore
) -> None:
    cases = {
        "not json": "{not json",
        "no forecast": json.dumps({"verdict": "likely"}),
        "out of range": structured(1.7, [0.2, 0.4]),
        "a string": structured("0.6"),
        "empty": None,
    }
    for name, result in cases.items():
        job = await create(jobs_server, variant=name)
        await complete(jobs_server, object_store, job, result)
        got = await get(jobs_server, job.id)
        assert got.status == J.JOB_STATUS_COMPLETED, name
        assert forecast(got) == (None, None, None), name

    # An interval that is not two probabilities in order is left out; the probability stays.
    job = await create(jobs_server, variant="bad interval")
    await complete(jobs_server, object_store, job, structured(0.4, [0.6, 0.3]))
    assert forecast(await get(jobs_server, job.id)) == (0.4, None, None)

    # An operator's regenerated report replaces the forecast (and removing it removes it).
    regenerated = reporter_completed(job.id, job.workflow_run_id)
    regenerated.regenerated = True
    regenerated.result_structured = structured(0.35, [0.3, 0.41])
    await jobs_server.app.handlers.apply_reporter_completed(regenerated)
    assert forecast(await get(jobs_server, job.id)) == (0.35, 0.3, 0.41)
    regenerated.result_structured = json.dumps({"verdict": "unclear"})
    await jobs_server.app.handlers.apply_reporter_completed(regenerated)
    assert forecast(await get(jobs_server, job.id)) == (None, None, None)


async def test_the_forecast_row_follows_its_job_on_delete(
    jobs_server: Any, object_store: ObjectStore
) -> None:
    job = await create(jobs_server)
    await complete(jobs_server, object_store, job, structured(0.5, [0.4, 0.6]))
    await jobs_server.stub.DeleteJob(J.DeleteJobRequest(job_id=job.id), metadata=jobs_server.md(1))
    async with jobs_server.app.sessions() as session:
        assert await session.get(JobForecastRow, job.id) is None
        assert await session.get(JobRunTimeRow, job.id) is None


# --- search and sort -----------------------------------------------------------------------------


async def test_search_matches_goals_in_any_case_and_job_numbers_and_total_counts_matches(
    jobs_server: Any,
) -> None:
    strike = await create(jobs_server, goal="Will the harbour STRIKE end by June?")
    vote = await create(jobs_server, goal="Will the union vote yes on the 12 May offer?")
    odd = await create(jobs_server, goal="Will 100% of members vote_yes by June?")
    theirs = await create(jobs_server, user=2, goal="Will the strike end by June?")

    def ids(page: Any) -> list[int]:
        return [j.id for j in page.jobs]

    page = await listed(jobs_server, query="strike")
    assert ids(page) == [strike.id] and page.total == 1  # not user 2's job
    page = await listed(jobs_server, query="  by JUNE ")
    assert ids(page) == [odd.id, strike.id] and page.total == 2
    page = await listed(jobs_server, query="by june", per_page=1, page=2)
    assert ids(page) == [strike.id] and page.total == 2
    # "#123" and "123" find that job; a number also finds goals containing it.
    assert ids(await listed(jobs_server, query=f"#{vote.id}")) == [vote.id]
    assert vote.id in ids(await listed(jobs_server, query=str(vote.id)))
    assert ids(await listed(jobs_server, query="12 MAY")) == [vote.id]
    assert ids(await listed(jobs_server, query=f"#{theirs.id}")) == []  # someone else's job
    # % and _ are plain characters, not wildcards.
    assert ids(await listed(jobs_server, query="100%")) == [odd.id]
    assert ids(await listed(jobs_server, query="vote_")) == [odd.id]
    assert ids(await listed(jobs_server, query="e%d")) == []
    # With the status filter too.
    page = await listed(jobs_server, query="june", status=J.JOB_STATUS_COMPLETED)
    assert ids(page) == [] and page.total == 0
    # Control characters count as spaces; an empty search lists everything.
    assert ids(await listed(jobs_server, query="harbour\x00strike")) == [strike.id]
    assert (await listed(jobs_server, query=" \t ")).total == 3


async def test_sorts_newest_oldest_and_by_forecast_with_unforecast_jobs_last(
    jobs_server: Any, object_store: ObjectStore
) -> None:
    probabilities = {"a": 0.3, "b": 0.8, "c": None, "d": 0.3, "e": 0.55}
    jobs = {}
    for name, p in probabilities.items():
        jobs[name] = await create(jobs_server, variant=name)
        if p is not None:
            await complete(jobs_server, object_store, jobs[name], structured(p, [p - 0.1, p + 0.1]))
    pending = await create(jobs_server, variant="pending")
    by_id = {j.id: n for n, j in jobs.items()} | {pending.id: "pending"}

    async def order(sort: int) -> list[str]:
        page = await listed(jobs_server, sort=sort)
        assert page.total == 6
        return [by_id[j.id] for j in page.jobs]

    newest = ["pending", "e", "d", "c", "b", "a"]
    assert await order(J.JOB_SORT_UNSPECIFIED) == newest
    assert await order(J.JOB_SORT_NEWEST) == newest
    assert await order(J.JOB_SORT_OLDEST) == newest[::-1]
    # Equal forecasts: the newer job first; jobs without a forecast last, newest first.
    assert await order(J.JOB_SORT_PROBABILITY_HIGH) == ["b", "e", "d", "a", "pending", "c"]
    assert await order(J.JOB_SORT_PROBABILITY_LOW) == ["d", "a", "e", "b", "pending", "c"]
    page = await listed(jobs_server, sort=J.JOB_SORT_PROBABILITY_HIGH, query="0.", per_page=2)
    assert page.total == 0  # the search is on goals, never on numbers shown


async def test_bad_search_or_sort_is_invalid_argument(jobs_server: Any) -> None:
    for request in (J.ListJobsRequest(query="x" * 201), J.ListJobsRequest(sort=99)):  # type: ignore[arg-type]
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await jobs_server.stub.ListJobs(request, metadata=jobs_server.md(1))
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "search" in (info.value.details() or "") or "sort" in (info.value.details() or "")
    assert (await listed(jobs_server, query="x" * 200)).total == 0


async def test_the_list_query_reads_only_the_users_rows_through_its_index(jobs_server: Any) -> None:
    """Whatever the search and order, ListJobs' page query starts from ix_simulation_jobs_user_id
    (the user's rows) rather than scanning everyone's jobs."""
    async with jobs_server.app.sessions() as session:
        # Enough other users' rows that a sequential scan would be the worse plan.
        await session.execute(
            text(
                "INSERT INTO jobs.simulation_jobs (user_id, seed_text, goal, status) "
                "SELECT 'u' || (g % 500), 's', 'Will it rain?', 'COMPLETED' FROM generate_series(1, 20000) g"
            )
        )
        await session.execute(text("ANALYZE jobs.simulation_jobs"))
        await session.commit()
        for sort in JobSort:
            for search in ("", "rain", "#7"):
                plan = await _explain_page_query(session, "u7", check_list_query(search, sort))
                assert "ix_simulation_jobs_user_id" in plan, f"{sort} {search!r}:\n{plan}"


async def _explain_page_query(session: Any, user_id: str, query: Any) -> str:
    """EXPLAIN of the page query ListJobs runs (captured from the driver as it is executed)."""
    statements: list[tuple[str, Any]] = []
    sync_engine = session.bind.sync_engine

    def hook(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        statements.append((statement, parameters))

    sa_event.listen(sync_engine, "before_cursor_execute", hook)
    try:
        await repo.list_jobs(session, user_id, Page(1, 20), None, query)
    finally:
        sa_event.remove(sync_engine, "before_cursor_execute", hook)
    statement, parameters = statements[-1]
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    rows = await raw.driver_connection.fetch(f"EXPLAIN {statement}", *parameters)
    return "\n".join(r[0] for r in rows)


# --- the queue -----------------------------------------------------------------------------------


def spot(job: Any) -> tuple[int | None, int | None]:
    return (
        job.queue_position if job.HasField("queue_position") else None,
        job.queue_estimate_seconds if job.HasField("queue_estimate_seconds") else None,
    )


async def test_pending_jobs_know_their_place_per_tier_and_move_up_as_runners_take_jobs(
    jobs_server: Any,
) -> None:
    small = [await create(jobs_server, variant=f"small {i}") for i in range(3)]
    large = await create(jobs_server, variant="large", tier="large")
    others = await create(jobs_server, user=2, variant="someone else's")  # same queue, other user

    positions = [spot(await get(jobs_server, j.id))[0] for j in small]
    assert positions == [1, 2, 3]
    assert spot(await get(jobs_server, others.id, user=2))[0] == 4
    assert spot(await get(jobs_server, large.id))[0] == 1  # the large tier has its own runners
    # No history yet: the tier's default run time; each place further back waits longer.
    waits = [spot(await get(jobs_server, j.id))[1] for j in small]
    assert all(w is not None and w > 0 for w in waits) and waits == sorted(set(waits))  # type: ignore[type-var]

    # The list carries the same figures.
    page = await listed(jobs_server)
    assert {j.id: spot(j) for j in page.jobs if j.tier == "small"} == {
        j.id: spot(await get(jobs_server, j.id)) for j in small
    }

    # A runner takes the first job: it leaves the queue and everyone behind moves up.
    taken = small[0]
    await jobs_server.app.handlers.apply_progress(progress(taken.id, taken.workflow_run_id, 1, 0))
    assert spot(await get(jobs_server, taken.id)) == (None, None)
    assert [spot(await get(jobs_server, j.id))[0] for j in small[1:]] == [1, 2]
    # A cancelled job leaves the queue too.
    await jobs_server.stub.CancelJob(J.CancelJobRequest(job_id=small[1].id), metadata=jobs_server.md(1))
    assert spot(await get(jobs_server, small[2].id))[0] == 1
    assert spot(await get(jobs_server, others.id, user=2))[0] == 2


async def test_the_wait_follows_the_tiers_recent_run_times(
    jobs_server: Any, object_store: ObjectStore
) -> None:
    # Three finished small jobs that each held a runner 2 + 40 s (provision + pipeline).
    for i in range(3):
        done = await create(jobs_server, variant=f"done {i}")
        await complete(jobs_server, object_store, done, structured(0.5), pipeline_seconds=40)
    first, second = await create(jobs_server, variant="first"), await create(jobs_server, variant="second")
    # Nothing running: the next job waits about half a run, the one behind it a run more.
    assert spot(await get(jobs_server, first.id)) == (1, 21)
    assert spot(await get(jobs_server, second.id)) == (2, 63)
    # Another tier's history says nothing about this one.
    large = await create(jobs_server, variant="large", tier="large")
    assert spot(await get(jobs_server, large.id))[1] != 21


async def test_a_watcher_of_a_waiting_job_sees_its_place_change(jobs_server: Any) -> None:
    ahead = await create(jobs_server, variant="ahead")
    waiting = await create(jobs_server, variant="waiting")
    call = jobs_server.stub.WatchJob(J.WatchJobRequest(job_id=waiting.id), metadata=jobs_server.md(1))
    first = (await asyncio.wait_for(call.read(), 5)).job
    assert spot(first)[0] == 2
    # The job ahead is taken: nothing about `waiting` changed, yet its watcher hears it moved up.
    await jobs_server.app.handlers.apply_progress(progress(ahead.id, ahead.workflow_run_id, 1, 0))
    moved = (await asyncio.wait_for(call.read(), 10)).job
    assert moved.status == J.JOB_STATUS_PENDING and spot(moved)[0] == 1
    call.cancel()


# --- a shared job's market curves ----------------------------------------------------------------


async def test_a_share_token_reads_only_its_jobs_market_curves(
    jobs_server: Any, object_store: ObjectStore
) -> None:
    job = await create(jobs_server)
    await complete(jobs_server, object_store, job, structured(0.6, [0.5, 0.7]))
    curves = json.dumps({"markets": [{"id": "m1"}], "replicates": []}).encode()
    await object_store.put_bytes(artifact_key(job.id, "market_curves.json"), curves)
    token = (
        await jobs_server.stub.CreateShareLink(
            J.CreateShareLinkRequest(job_id=job.id), metadata=jobs_server.md(1)
        )
    ).share_token

    # Public: no access token.
    reply = await jobs_server.stub.GetSharedSimData(
        J.GetSharedSimDataRequest(share_token=token, name="market_curves.json")
    )
    assert reply.job_id == job.id and reply.expires_in_seconds > 0
    async with httpx.AsyncClient() as http:
        assert (await http.get(reply.url)).content == curves

    for name in ("chat_log.json", "profiles.json", "../market_curves.json", ""):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await jobs_server.stub.GetSharedSimData(J.GetSharedSimDataRequest(share_token=token, name=name))
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    await jobs_server.stub.RevokeShareLink(
        J.RevokeShareLinkRequest(job_id=job.id), metadata=jobs_server.md(1)
    )
    for bad in (token, "x" * 43, "", "\x00"):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await jobs_server.stub.GetSharedSimData(
                J.GetSharedSimDataRequest(share_token=bad, name="market_curves.json")
            )
        assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_run_times_are_recorded_once_per_completed_job(
    jobs_server: Any, object_store: ObjectStore
) -> None:
    job = await create(jobs_server)
    await complete(jobs_server, object_store, job, structured(0.5), pipeline_seconds=30)
    # A duplicate reporter.completed changes nothing.
    await jobs_server.app.handlers.apply_reporter_completed(reporter_completed(job.id, job.workflow_run_id))
    async with jobs_server.app.sessions() as session:
        rows = (await session.scalars(select(JobRunTimeRow))).all()
    # provision_seconds 2.4 (stored as 2) + pipeline 30
    assert [(r.job_id, r.tier, r.run_seconds) for r in rows] == [(job.id, "small", 32)]
