"""Scheduled events on CreateJob and per-round checkpoints in every dispatch (real DB, NATS, S3)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2 as J

from services.common.scheduled_events import ScheduledEvent
from services.common.storage import ObjectStore, get_via_presigned, put_via_presigned
from services.jobs.domain.artifacts import job_prefix, round_checkpoint_key
from services.jobs.tests.jobs_helpers import GOAL, SEED, seed_text
from services.jobs.tests.whatif_helpers import ROUNDS, complete_job, counts, event

pytestmark = pytest.mark.asyncio(loop_scope="session")


def create(seed: str = SEED, events: Any = (), **kw: Any) -> J.CreateJobRequest:
    return J.CreateJobRequest(seed_text=seed, goal=GOAL, tier="small", events=list(events), **kw)


async def test_events_are_stored_dispatched_and_shown_on_every_read(
    jobs_server: Any, dispatch_reader: Any
) -> None:
    stub, md = jobs_server.stub, jobs_server.md(1)
    given = [
        event(20, "  Union rejects the offer ", favours="NO", text=" Members voted 71% against. "),
        event(3, "Mediator appointed", favours="yes"),
        event(10, "Port authority publishes its accounts", favours=""),
    ]
    job = (await stub.CreateJob(create(events=given), metadata=md)).job
    # Day order, stripped text, favours in lower case.
    want = [
        ("Mediator appointed", 3, "yes", ""),
        ("Port authority publishes its accounts", 10, "", ""),
        ("Union rejects the offer", 20, "no", "Members voted 71% against."),
    ]
    assert [(e.headline, e.day, e.favours, e.text) for e in job.events] == want
    got = (await stub.GetJob(J.GetJobRequest(job_id=job.id), metadata=md)).job
    assert [(e.headline, e.day, e.favours, e.text) for e in got.events] == want
    listed = (await stub.ListJobs(J.ListJobsRequest(), metadata=md)).jobs
    assert [(e.headline, e.day) for e in listed[0].events] == [(h, d) for h, d, _, _ in want]
    watch = stub.WatchJob(J.WatchJobRequest(job_id=job.id), metadata=md)
    first = await watch.read()
    watch.cancel()
    assert [e.headline for e in first.job.events] == [h for h, _, _, _ in want]

    await jobs_server.app.relay.flush()
    dispatch = await dispatch_reader.take()
    assert dispatch.job_id == job.id
    assert sorted((e.day, e.headline, e.favours, e.text) for e in dispatch.events) == sorted(
        (d, h, f, t) for h, d, f, t in want
    )
    assert not dispatch.HasField("branch")


async def test_every_dispatch_carries_a_working_put_url_for_each_rounds_checkpoint(
    jobs_server: Any, dispatch_reader: Any, object_store: ObjectStore
) -> None:
    job = (await jobs_server.stub.CreateJob(create(), metadata=jobs_server.md(1))).job
    assert list(job.events) == []
    await jobs_server.app.relay.flush()
    dispatch = await dispatch_reader.take()
    assert list(dispatch.events) == []
    urls = dispatch.upload.round_checkpoint_put_urls
    assert len(urls) == ROUNDS + 1  # rounds 0 (built) .. 15
    await put_via_presigned(urls[0], b"built")
    await put_via_presigned(urls[7], b"after round 7")
    assert await object_store.get_bytes(round_checkpoint_key(job.id, 0)) == b"built"
    assert await object_store.get_bytes(f"sim-data/{job.id}/checkpoints/0007") == b"after round 7"
    # The latest checkpoint is separate and still works as before.
    await put_via_presigned(dispatch.upload.checkpoint_put_url, b"latest")
    assert await get_via_presigned(dispatch.upload.checkpoint_get_url) == b"latest"


async def test_a_resumed_attempt_carries_the_events_again(jobs_server: Any, dispatch_reader: Any) -> None:
    job = (await jobs_server.stub.CreateJob(create(events=[event(5)]), metadata=jobs_server.md(1))).job
    await jobs_server.app.relay.flush()
    await dispatch_reader.take()
    failure = events_pb2.RunnerFailed(
        job_id=job.id, run_id=job.workflow_run_id, kind=events_pb2.FAILURE_KIND_TRANSIENT, reason="evicted"
    )
    await jobs_server.app.handlers.apply_runner_failed(failure)
    await jobs_server.app.relay.flush()
    again = await dispatch_reader.take()
    assert again.resume and again.attempt == 2
    assert [(e.day, e.headline) for e in again.events] == [(5, "Mediator appointed")]
    assert len(again.upload.round_checkpoint_put_urls) == ROUNDS + 1


@pytest.mark.parametrize(
    ("events", "problem"),
    [
        ([event(0)], "event 1: the day must be within 1..30"),
        ([event(31)], "event 1: the day must be within 1..30"),
        ([event(3, "")], "event 1 needs a headline"),
        ([event(3, "x" * 201)], "headline is over 200 characters"),
        ([event(3, text="y" * 2001)], "text is over 2,000 characters"),
        ([event(3, favours="maybe")], 'favours must be "yes", "no" or empty'),
        ([event(3, "bad\x00news")], "control characters"),
        ([event(d) for d in range(1, 12)], "at most 10 events; got 11"),
    ],
)
async def test_bad_events_are_refused_and_nothing_is_written(
    jobs_server: Any, events: list[Any], problem: str
) -> None:
    before = await counts(jobs_server.app)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await jobs_server.stub.CreateJob(create(events=events), metadata=jobs_server.md(1))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert problem in (info.value.details() or "")
    assert await counts(jobs_server.app) == before


async def test_every_problem_is_listed_at_once(jobs_server: Any) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await jobs_server.stub.CreateJob(
            create(events=[event(0, ""), event(3, favours="perhaps")], forecast_days=20),
            metadata=jobs_server.md(1),
        )
    details = info.value.details() or ""
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "event 1 needs a headline" in details and "event 1: the day must be within 1..20" in details
    assert "event 2: favours" in details


async def test_deleting_a_job_removes_its_events_and_round_checkpoints(
    jobs_server: Any, object_store: ObjectStore
) -> None:
    app = jobs_server.app
    job = await complete_job(app, seed=seed_text("delete me"), events=[ScheduledEvent(4, "Strike vote")])
    before = await counts(app)
    assert before["job_events"] == 1
    assert len(await object_store.list_keys(f"{job_prefix(job.id)}checkpoints/")) == ROUNDS + 1
    await jobs_server.stub.DeleteJob(J.DeleteJobRequest(job_id=job.id), metadata=jobs_server.md(1))
    assert await object_store.list_keys(job_prefix(job.id)) == []
    after = await counts(app)
    assert after["job_events"] == 0 and after["simulation_jobs"] == before["simulation_jobs"] - 1
