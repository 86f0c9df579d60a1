"""What-if branches (BranchJob, ListJobs branch_of, branch_count) against the real DB, NATS and S3."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2 as J

from services.common.storage import ObjectStore, get_via_presigned, put_via_presigned
from services.jobs.domain.artifacts import job_prefix, round_checkpoint_key
from services.jobs.domain.dispatch import random_seed_for
from services.jobs.domain.fair_use import FairUseLimits
from services.jobs.tests.jobs_helpers import MARKETS, identity, job_fields, seed_text
from services.jobs.tests.whatif_helpers import ROUNDS, STRUCTURED, complete_job, complete_run, counts, event

pytestmark = pytest.mark.asyncio(loop_scope="session")


def branch(job_id: int, round_no: int, *events: Any) -> J.BranchJobRequest:
    return J.BranchJobRequest(job_id=job_id, round=round_no, events=list(events))


async def refused(server: Any, code: grpc.StatusCode, request: J.BranchJobRequest, *, user: int = 1) -> str:
    """BranchJob refuses `request` with `code` and writes nothing; the status details."""
    before = await counts(server.app)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await server.stub.BranchJob(request, metadata=server.md(user))
    assert info.value.code() == code, info.value.details()
    assert await counts(server.app) == before
    return info.value.details() or ""


async def test_a_branch_is_a_pending_copy_of_its_parent_dispatched_from_the_round_checkpoint(
    jobs_server: Any, dispatch_reader: Any, object_store: ObjectStore
) -> None:
    app, stub, md = jobs_server.app, jobs_server.stub, jobs_server.md(1)
    parent = await complete_job(app)
    parent_row = (await stub.GetJob(J.GetJobRequest(job_id=parent.id), metadata=md)).job
    assert parent_row.branch_count == 0 and not parent_row.HasField("branch_of")

    job = (await stub.BranchJob(branch(parent.id, 5, event(12, "Mediator appointed")), metadata=md)).job
    assert job.id != parent.id and job.status == J.JOB_STATUS_PENDING
    assert (job.branch_of, job.branch_round) == (parent.id, 5)
    assert [(e.day, e.headline, e.favours) for e in job.events] == [(12, "Mediator appointed", "yes")]
    copied = ("seed_text", "goal", "tier", "forecast_days", "enrich_web", "enriched_seed", "markets_config")
    for name in copied:
        assert getattr(job, name) == getattr(parent_row, name), name
    assert parent_row.enriched_seed == "the enriched seed"
    assert json_format.MessageToDict(job.markets_config) == MARKETS
    assert job.retry_of == 0 and not job.HasField("retry_of")
    parent_now = (await stub.GetJob(J.GetJobRequest(job_id=parent.id), metadata=md)).job
    assert parent_now.branch_count == 1 and parent_now.status == J.JOB_STATUS_COMPLETED

    await app.relay.flush()
    dispatch = await dispatch_reader.take()
    assert dispatch.job_id == job.id and dispatch.run_id == job.workflow_run_id and not dispatch.resume
    assert dispatch.random_seed == random_seed_for(parent.id) != random_seed_for(job.id)
    assert (dispatch.branch.parent_job_id, dispatch.branch.round) == (parent.id, 5)
    assert await get_via_presigned(dispatch.branch.checkpoint_get_url) == b"after round 5"
    assert json_format.MessageToDict(dispatch.branch.parent_forecast) == STRUCTURED["forecast"]
    assert [(e.day, e.headline, e.favours) for e in dispatch.events] == [(12, "Mediator appointed", "yes")]
    assert json_format.MessageToDict(dispatch.markets) == MARKETS
    assert dispatch.route.max_rounds == ROUNDS and dispatch.tier == "small"
    # The branch keeps its own round checkpoints (a branch of the branch resumes from them).
    assert len(dispatch.upload.round_checkpoint_put_urls) == ROUNDS + 1
    await put_via_presigned(dispatch.upload.round_checkpoint_put_urls[6], b"branch round 6")
    assert await object_store.get_bytes(round_checkpoint_key(job.id, 6)) == b"branch round 6"
    assert dispatch.upload.prefix == f"sim-data/{job.id}/"


async def test_a_branch_without_events_and_day_zero_events(jobs_server: Any, dispatch_reader: Any) -> None:
    app, stub, md = jobs_server.app, jobs_server.stub, jobs_server.md(1)
    parent = await complete_job(app)
    plain = (await stub.BranchJob(branch(parent.id, 0), metadata=md)).job
    assert list(plain.events) == [] and plain.branch_round == 0
    now = (await stub.BranchJob(branch(parent.id, 14, event(0, "Deal announced")), metadata=md)).job
    assert [(e.day, e.headline) for e in now.events] == [(0, "Deal announced")]
    await app.relay.flush()
    first, second = await dispatch_reader.take(), await dispatch_reader.take()
    by_job = {first.job_id: first, second.job_id: second}
    assert list(by_job[plain.id].events) == [] and by_job[plain.id].branch.round == 0
    assert [e.day for e in by_job[now.id].events] == [0] and by_job[now.id].branch.round == 14


async def test_branches_are_never_duplicates_and_are_listed_by_parent(jobs_server: Any) -> None:
    app, stub, md = jobs_server.app, jobs_server.stub, jobs_server.md
    parent = await complete_job(app)
    other_parent = await complete_job(app, seed=seed_text("another"))
    # Two branches of one parent within the duplicate window: same seed, goal and tier, both made.
    a = (
        await stub.BranchJob(
            branch(parent.id, 3, event(20, "Strike vote fails", favours="no")), metadata=md(1)
        )
    ).job
    b = (await stub.BranchJob(branch(parent.id, 3, event(20, "Strike vote passes")), metadata=md(1))).job
    c = (await stub.BranchJob(branch(other_parent.id, 2), metadata=md(1))).job
    # A live branch does not make the parent's seed a duplicate for a fresh job either.
    fresh = (
        await stub.CreateJob(
            J.CreateJobRequest(seed_text=parent.seed_text, goal=parent.goal or "", tier="small"),
            metadata=md(1),
        )
    ).job
    assert fresh.status == J.JOB_STATUS_PENDING and not fresh.HasField("branch_of")

    listed = await stub.ListJobs(J.ListJobsRequest(branch_of=parent.id), metadata=md(1))
    assert [j.id for j in listed.jobs] == [b.id, a.id] and listed.total == 2
    assert all(j.branch_of == parent.id and j.branch_round == 3 for j in listed.jobs)
    assert [
        j.id for j in (await stub.ListJobs(J.ListJobsRequest(branch_of=other_parent.id), metadata=md(1))).jobs
    ] == [c.id]
    everything = (await stub.ListJobs(J.ListJobsRequest(), metadata=md(1))).jobs
    counts_by_id = {j.id: j.branch_count for j in everything}
    assert counts_by_id[parent.id] == 2 and counts_by_id[other_parent.id] == 1 and counts_by_id[a.id] == 0
    # Another user sees none of them; ids no job can have list nothing rather than failing.
    assert (await stub.ListJobs(J.ListJobsRequest(branch_of=parent.id), metadata=md(2))).total == 0
    assert (await stub.ListJobs(J.ListJobsRequest(branch_of=2**40), metadata=md(1))).total == 0
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.ListJobs(J.ListJobsRequest(branch_of=-4), metadata=md(1))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_refusals_write_nothing(jobs_server: Any, object_store: ObjectStore) -> None:
    app = jobs_server.app
    parent = await complete_job(app, round_checkpoints=[0, 1, 2, 3, 4, 5])
    pending = await app.core.create_job(identity(1), job_fields(seed_text("still running")))
    ok = event(20)

    assert "not found" in await refused(
        jobs_server, grpc.StatusCode.NOT_FOUND, branch(parent.id, 2, ok), user=2
    )
    await refused(jobs_server, grpc.StatusCode.NOT_FOUND, branch(999_999, 2, ok))
    await refused(jobs_server, grpc.StatusCode.NOT_FOUND, branch(2**62, 2, ok))
    details = await refused(jobs_server, grpc.StatusCode.FAILED_PRECONDITION, branch(pending.id, 2, ok))
    assert "only a COMPLETED job can be branched" in details
    for bad_round in (-1, ROUNDS, 10_000):
        details = await refused(
            jobs_server, grpc.StatusCode.INVALID_ARGUMENT, branch(parent.id, bad_round, ok)
        )
        assert f"round must be within 0..{ROUNDS - 1}" in details
    # Round 5 ends on day 10 of 30: an event on day 10 would fall in a round already run.
    details = await refused(jobs_server, grpc.StatusCode.INVALID_ARGUMENT, branch(parent.id, 5, event(10)))
    assert "day 10 falls in round 5, not after round 5; pick day 11 or later" in details
    await refused(jobs_server, grpc.StatusCode.INVALID_ARGUMENT, branch(parent.id, 5, event(31)))
    await refused(jobs_server, grpc.StatusCode.INVALID_ARGUMENT, branch(parent.id, 5, event(20, "")))
    await refused(
        jobs_server, grpc.StatusCode.INVALID_ARGUMENT, branch(parent.id, 5, event(20, favours="up"))
    )
    many = [event(20 + i % 5, f"news {i}") for i in range(11)]
    await refused(jobs_server, grpc.StatusCode.INVALID_ARGUMENT, branch(parent.id, 5, *many))
    # Round 7 was run, but its checkpoint was never kept (a job from before round checkpoints).
    details = await refused(jobs_server, grpc.StatusCode.FAILED_PRECONDITION, branch(parent.id, 7, ok))
    assert "no checkpoint of round 7" in details
    # And a job whose simulation data is gone.
    await object_store.delete_prefix(job_prefix(parent.id))
    await refused(jobs_server, grpc.StatusCode.FAILED_PRECONDITION, branch(parent.id, 2, ok))


async def test_the_rounds_a_parent_really_ran_bound_the_round(jobs_server: Any) -> None:
    # A run that stopped after 6 rounds (its report's scale) cannot be branched after round 6.
    structured = {**STRUCTURED, "scale": {"rounds": 6}}
    parent = await complete_job(jobs_server.app, structured=structured, round_checkpoints=range(7))
    details = await refused(jobs_server, grpc.StatusCode.INVALID_ARGUMENT, branch(parent.id, 6))
    assert "round must be within 0..5: the parent ran 6 rounds" in details
    job = (await jobs_server.stub.BranchJob(branch(parent.id, 5), metadata=jobs_server.md(1))).job
    assert job.branch_round == 5


async def test_fair_use_limits_apply_to_branches(jobs_server: Any) -> None:
    app = jobs_server.app
    parent = await complete_job(app)
    app.core.limits = FairUseLimits(max_live_jobs=1)
    try:
        await jobs_server.stub.BranchJob(branch(parent.id, 1), metadata=jobs_server.md(1))
        details = await refused(jobs_server, grpc.StatusCode.RESOURCE_EXHAUSTED, branch(parent.id, 2))
        assert "queued or running (the limit is 1)" in details
    finally:
        app.core.limits = FairUseLimits()


async def test_a_branch_of_a_branch_runs_with_the_original_seed(
    jobs_server: Any, dispatch_reader: Any
) -> None:
    app, stub, md = jobs_server.app, jobs_server.stub, jobs_server.md(1)
    root = await complete_job(app)
    child = (await stub.BranchJob(branch(root.id, 4, event(15)), metadata=md)).job
    await app.relay.flush()
    child_dispatch = await dispatch_reader.take()
    child_row = await app.core.get_job(identity(1), child.id)
    await complete_run(app, child_row)
    grandchild = (await stub.BranchJob(branch(child.id, 8), metadata=md)).job
    await app.relay.flush()
    g = await dispatch_reader.take()
    assert g.job_id == grandchild.id
    assert g.random_seed == child_dispatch.random_seed == random_seed_for(root.id)
    assert (g.branch.parent_job_id, g.branch.round) == (child.id, 8)
    assert await get_via_presigned(g.branch.checkpoint_get_url) == b"after round 8"
    assert (await stub.GetJob(J.GetJobRequest(job_id=child.id), metadata=md)).job.branch_count == 1


async def test_retries_and_redispatches_of_a_branch_stay_branches(
    jobs_server: Any, dispatch_reader: Any
) -> None:
    app, stub, md = jobs_server.app, jobs_server.stub, jobs_server.md(1)
    parent = await complete_job(app)
    job = (await stub.BranchJob(branch(parent.id, 6, event(25, "Court ruling")), metadata=md)).job
    await app.relay.flush()
    first = await dispatch_reader.take()
    # A runner lost mid-run: the next attempt resumes, still a branch with its events.
    failure = events_pb2.RunnerFailed(
        job_id=job.id, run_id=first.run_id, kind=events_pb2.FAILURE_KIND_TRANSIENT, reason="evicted"
    )
    await app.handlers.apply_runner_failed(failure)
    await app.relay.flush()
    again = await dispatch_reader.take()
    assert again.resume and again.branch.parent_job_id == parent.id and again.branch.round == 6
    assert again.random_seed == first.random_seed and [e.headline for e in again.events] == ["Court ruling"]
    # Cancelled, then retried: the retry is a branch of the same parent, same round and events.
    await stub.CancelJob(J.CancelJobRequest(job_id=job.id), metadata=md)
    retry = (await stub.RetryJob(J.RetryJobRequest(job_id=job.id), metadata=md)).job
    got = (await stub.GetJob(J.GetJobRequest(job_id=retry.id), metadata=md)).job
    assert (got.retry_of, got.branch_of, got.branch_round) == (job.id, parent.id, 6)
    assert [e.headline for e in got.events] == ["Court ruling"] and got.enriched_seed == "the enriched seed"
    await app.relay.flush()
    retried = await dispatch_reader.take()
    assert retried.job_id == retry.id and retried.branch.parent_job_id == parent.id
    assert retried.random_seed == random_seed_for(parent.id)


async def test_deleting_the_parent_keeps_its_branches_and_deleting_a_branch_removes_its_rows(
    jobs_server: Any, dispatch_reader: Any, object_store: ObjectStore
) -> None:
    app, stub, md = jobs_server.app, jobs_server.stub, jobs_server.md(1)
    parent = await complete_job(app)
    job = (await stub.BranchJob(branch(parent.id, 2, event(20)), metadata=md)).job
    await app.relay.flush()
    first = await dispatch_reader.take()
    await stub.DeleteJob(J.DeleteJobRequest(job_id=parent.id), metadata=md)
    # Every round checkpoint went with the parent's objects.
    assert await object_store.list_keys(job_prefix(parent.id)) == []
    kept = (await stub.GetJob(J.GetJobRequest(job_id=job.id), metadata=md)).job
    assert kept.branch_of == parent.id and [e.day for e in kept.events] == [20]
    # A re-dispatch after the parent is gone still carries the parent's forecast and seed (the
    # branch may have its own checkpoint by then).
    failure = events_pb2.RunnerFailed(
        job_id=job.id, run_id=first.run_id, kind=events_pb2.FAILURE_KIND_TRANSIENT, reason="evicted"
    )
    await app.handlers.apply_runner_failed(failure)
    await app.relay.flush()
    again = await dispatch_reader.take()
    assert again.job_id == job.id and again.resume and again.branch.parent_job_id == parent.id
    assert json.loads(json_format.MessageToJson(again.branch.parent_forecast)) == STRUCTURED["forecast"]
    assert again.random_seed == random_seed_for(parent.id)
    before = await counts(app)
    await stub.DeleteJob(J.DeleteJobRequest(job_id=job.id), metadata=md)
    after = await counts(app)
    assert after["job_branches"] == before["job_branches"] - 1
    assert after["job_events"] == before["job_events"] - 1
