"""JobsService over real gRPC (in-process server on a free port), real DB, NATS and S3."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import httpx
import pytest
from sqlalchemy import func, select
from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2, jobs_pb2_grpc

from services.common import subjects
from services.common.bus import EventBus
from services.common.storage import ObjectStore
from services.jobs.app import JobsApp
from services.jobs.domain.artifacts import ARTIFACT_NAMES, REPORT_NAME, artifact_key, job_prefix
from services.jobs.domain.validation import MAX_SEED_CHARS
from services.jobs.runtime_models import OutboxMessage
from services.jobs.tests.jobs_helpers import (
    GOAL,
    SEED,
    SigningKeys,
    count_jobs,
    identity,
    job_fields,
    last_cancel,
    progress,
    reporter_completed,
    row,
    runner_completed,
    seed_text,
    start_jobs_server,
    successful_history,
    upload_artifacts,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

J = jobs_pb2


def create_request(**kw: Any) -> jobs_pb2.CreateJobRequest:
    values: dict[str, Any] = {"seed_text": SEED, "goal": GOAL, "tier": "small"}
    values.update(kw)
    return J.CreateJobRequest(**values)


async def code_of(call: Any) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


async def expect(code: grpc.StatusCode, call: Any, contains: str = "") -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    assert info.value.code() == code, info.value.details()
    assert contains in (info.value.details() or "")
    return info.value


async def outbox_rows(app: JobsApp) -> int:
    async with app.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one())


async def completed_job(server: Any, store: ObjectStore, user: int = 1, seed: str = SEED) -> jobs_pb2.Job:
    job = (await server.stub.CreateJob(create_request(seed_text=seed), metadata=server.md(user))).job
    await upload_artifacts(store, job.id)
    await store.put_bytes(artifact_key(job.id, REPORT_NAME), b"# Report")
    for event in successful_history(job.id, job.workflow_run_id):
        handlers = server.app.handlers
        await {
            events_pb2.RunnerProgress: handlers.apply_progress,
            events_pb2.RunnerCompleted: handlers.apply_runner_completed,
            events_pb2.ReporterCompleted: handlers.apply_reporter_completed,
        }[type(event)](event)
    return (await server.stub.GetJob(J.GetJobRequest(job_id=job.id), metadata=server.md(user))).job


# --- create, get, validation ---------------------------------------------------------------------


async def test_create_and_get(jobs_server: Any) -> None:
    stub, md = jobs_server.stub, jobs_server.md
    job = (await stub.CreateJob(create_request(forecast_days=7), metadata=md(1))).job
    assert job.status == J.JOB_STATUS_PENDING and job.user_id == "1" and job.credits_charged == 0
    assert (job.seed_text, job.goal, job.tier, job.forecast_days) == (SEED, GOAL, "small", 7)
    assert job.enrich_web is True and job.workflow_id == f"sim-{job.id}" and job.workflow_run_id
    assert job.HasField("created_at")
    got = (await stub.GetJob(J.GetJobRequest(job_id=job.id), metadata=md(1))).job
    # GetJob adds where the waiting job stands in the queue (test_jobs_listing.py); the rest is equal.
    assert got.queue_position == 1 and got.queue_estimate_seconds > 0
    got.ClearField("queue_position")
    got.ClearField("queue_estimate_seconds")
    assert got == job
    other = create_request(seed_text=seed_text("other"), enrich_web=False)
    defaults = (await stub.CreateJob(other, metadata=md(1))).job
    assert defaults.forecast_days == 30 and defaults.enrich_web is False


async def test_calls_without_a_valid_token_are_unauthenticated(jobs_server: Any) -> None:
    stub = jobs_server.stub
    await expect(grpc.StatusCode.UNAUTHENTICATED, stub.CreateJob(create_request()))
    await expect(grpc.StatusCode.UNAUTHENTICATED, stub.ListJobs(J.ListJobsRequest()))
    forged = SigningKeys(kid=jobs_server.keys.kid).token(1)  # right kid, wrong key
    await expect(
        grpc.StatusCode.UNAUTHENTICATED,
        stub.GetJob(J.GetJobRequest(job_id=1), metadata=(("authorization", f"Bearer {forged}"),)),
    )


BAD_CREATES = [
    (create_request(seed_text="x" * (MAX_SEED_CHARS + 1)), "50,000"),
    (create_request(seed_text=""), "seed_text is required"),
    (create_request(seed_text="  \n "), "seed_text is required"),
    (create_request(seed_text="nul\x00inside"), "control characters"),
    (create_request(goal=""), "goal is required"),
    (create_request(goal="   "), "goal is required"),
    (create_request(goal="g" * 2001), "too long"),
    (create_request(tier="mega"), "valid tiers: large, local, medium, small"),
    (create_request(tier=""), "tier is required"),
    (create_request(tier="small.>"), "unknown tier"),
    (create_request(forecast_days=0), "between 1 and 365"),
    (create_request(forecast_days=366), "between 1 and 365"),
    (create_request(forecast_days=-(2**31)), "between 1 and 365"),
]


@pytest.mark.parametrize(("request_", "message"), BAD_CREATES, ids=[m for _, m in BAD_CREATES])
async def test_bad_input_is_invalid_argument_and_writes_nothing(
    jobs_server: Any, request_: jobs_pb2.CreateJobRequest, message: str
) -> None:
    app = jobs_server.app
    jobs_before, outbox_before = await count_jobs(app.sessions), await outbox_rows(app)
    await expect(
        grpc.StatusCode.INVALID_ARGUMENT,
        jobs_server.stub.CreateJob(request_, metadata=jobs_server.md(1)),
        message,
    )
    assert await count_jobs(app.sessions) == jobs_before
    assert await outbox_rows(app) == outbox_before


async def test_bad_list_and_draft_input_is_invalid_argument(jobs_server: Any) -> None:
    stub, md = jobs_server.stub, jobs_server.md(1)
    for per_page in (101, -1):
        await expect(
            grpc.StatusCode.INVALID_ARGUMENT, stub.ListJobs(J.ListJobsRequest(per_page=per_page), metadata=md)
        )
    await expect(grpc.StatusCode.INVALID_ARGUMENT, stub.ListJobs(J.ListJobsRequest(page=-1), metadata=md))
    await expect(
        grpc.StatusCode.INVALID_ARGUMENT, stub.CreateDraft(J.CreateDraftRequest(forecast_days=0), metadata=md)
    )
    await expect(
        grpc.StatusCode.INVALID_ARGUMENT, stub.CreateDraft(J.CreateDraftRequest(tier="zz"), metadata=md)
    )
    assert await count_jobs(jobs_server.app.sessions) == 0


async def test_duplicate_submissions_are_refused_even_when_racing(jobs_server: Any) -> None:
    stub, md = jobs_server.stub, jobs_server.md
    await stub.CreateJob(create_request(), metadata=md(1))
    await expect(
        grpc.StatusCode.ALREADY_EXISTS,
        stub.CreateJob(create_request(), metadata=md(1)),
        "identical simulation",
    )
    await stub.CreateJob(create_request(), metadata=md(2))  # another user
    await stub.CreateJob(create_request(tier="medium"), metadata=md(1))  # another tier
    codes = await asyncio.gather(
        *(
            code_of(stub.CreateJob(create_request(goal="Will the strike end by July?"), metadata=md(3)))
            for _ in range(12)
        )
    )
    assert codes.count(grpc.StatusCode.OK) == 1
    assert codes.count(grpc.StatusCode.ALREADY_EXISTS) == 11


async def test_require_verified_email(jobs_app: JobsApp) -> None:
    from services.common.errors import FailedPrecondition
    from services.jobs.service import JobsCore

    strict = JobsCore(
        jobs_app.sessions,
        store=jobs_app.store,
        dispatcher=jobs_app.dispatcher,
        relay=jobs_app.relay,
        notifier=jobs_app.hub,
        require_verified_email=True,
    )
    with pytest.raises(FailedPrecondition, match="verify your email"):
        await strict.create_job(identity(1), job_fields())
    assert await count_jobs(jobs_app.sessions) == 0
    job = await strict.create_job(identity(1, email_verified=True), job_fields())
    assert job.id


# --- ownership ----------------------------------------------------------------------------------


async def test_another_users_job_is_not_found_everywhere(jobs_server: Any, object_store: ObjectStore) -> None:
    stub = jobs_server.stub
    live = (await stub.CreateJob(create_request(), metadata=jobs_server.md(1))).job
    done = await completed_job(jobs_server, object_store, seed=seed_text("done"))
    to_fail = create_request(seed_text=seed_text("to fail"))
    failed = (await stub.CreateJob(to_fail, metadata=jobs_server.md(1))).job
    await stub.CancelJob(J.CancelJobRequest(job_id=failed.id), metadata=jobs_server.md(1))
    draft = (await stub.CreateDraft(J.CreateDraftRequest(seed_text="draft"), metadata=jobs_server.md(1))).job
    before = {j: await row(jobs_server.app.sessions, j) for j in (live.id, done.id, failed.id, draft.id)}

    intruder = jobs_server.md(2)
    for job_id in (live.id, done.id, failed.id, draft.id, 987654, 2**40, -3):
        calls = [
            stub.GetJob(J.GetJobRequest(job_id=job_id), metadata=intruder),
            stub.UpdateDraft(J.UpdateDraftRequest(job_id=job_id, goal="mine now"), metadata=intruder),
            stub.LaunchDraft(J.LaunchDraftRequest(job_id=job_id), metadata=intruder),
            stub.CancelJob(J.CancelJobRequest(job_id=job_id), metadata=intruder),
            stub.RetryJob(J.RetryJobRequest(job_id=job_id), metadata=intruder),
            stub.DeleteJob(J.DeleteJobRequest(job_id=job_id), metadata=intruder),
            stub.CreateShareLink(J.CreateShareLinkRequest(job_id=job_id), metadata=intruder),
            stub.RevokeShareLink(J.RevokeShareLinkRequest(job_id=job_id), metadata=intruder),
            stub.GetSimData(J.GetSimDataRequest(job_id=job_id), metadata=intruder),
            stub.GetGraph(J.GetGraphRequest(job_id=job_id), metadata=intruder),
        ]
        for call in calls:
            await expect(grpc.StatusCode.NOT_FOUND, call, "not found")
        watch = stub.WatchJob(J.WatchJobRequest(job_id=job_id), metadata=intruder)
        await expect(grpc.StatusCode.NOT_FOUND, watch.read())
    for job_id, values in before.items():
        assert await row(jobs_server.app.sessions, job_id) == values
    listed = await stub.ListJobs(J.ListJobsRequest(), metadata=intruder)
    assert listed.total == 0 and not listed.jobs
    assert len(await object_store.list_keys(job_prefix(done.id))) == len(ARTIFACT_NAMES) + 1


# --- list, drafts, cancel, retry, delete ---------------------------------------------------------


async def test_list_is_newest_first_paged_light_and_hides_retried_originals(
    jobs_server: Any, object_store: ObjectStore
) -> None:
    stub, md = jobs_server.stub, jobs_server.md(1)
    done = await completed_job(jobs_server, object_store, seed=seed_text("done"))
    ids = [done.id]
    for i in range(4):
        request = create_request(seed_text=seed_text(f"seed {i}"))
        ids.append((await stub.CreateJob(request, metadata=md)).job.id)
    page1 = await stub.ListJobs(J.ListJobsRequest(page=1, per_page=2), metadata=md)
    page3 = await stub.ListJobs(J.ListJobsRequest(page=3, per_page=2), metadata=md)
    assert page1.total == 5 and (page1.page, page1.per_page) == (1, 2)
    assert [j.id for j in page1.jobs] == ids[::-1][:2] and [j.id for j in page3.jobs] == [done.id]
    completed = await stub.ListJobs(J.ListJobsRequest(status=J.JOB_STATUS_COMPLETED), metadata=md)
    assert [j.id for j in completed.jobs] == [done.id] and completed.per_page == 20
    listed = completed.jobs[0]
    assert not listed.HasField("result_report") and not listed.HasField("result_graph")
    assert listed.key_insight and listed.HasField("live_status")
    full = (await stub.GetJob(J.GetJobRequest(job_id=done.id), metadata=md)).job
    assert full.result_report and full.result_graph and full.result_structured and full.result_chat_log

    await stub.CancelJob(J.CancelJobRequest(job_id=ids[1]), metadata=md)
    retry = (await stub.RetryJob(J.RetryJobRequest(job_id=ids[1]), metadata=md)).job
    assert retry.retry_of == ids[1] and retry.status == J.JOB_STATUS_PENDING
    assert retry.seed_text == seed_text("seed 0")
    listed_ids = [j.id for j in (await stub.ListJobs(J.ListJobsRequest(), metadata=md)).jobs]
    assert retry.id in listed_ids and ids[1] not in listed_ids


async def test_drafts(jobs_server: Any, dispatch_reader: Any) -> None:
    stub, md = jobs_server.stub, jobs_server.md(1)
    draft = (await stub.CreateDraft(J.CreateDraftRequest(seed_text=SEED), metadata=md)).job
    assert draft.status == J.JOB_STATUS_DRAFT and not draft.HasField("goal") and not draft.workflow_id
    await expect(
        grpc.StatusCode.INVALID_ARGUMENT,
        stub.LaunchDraft(J.LaunchDraftRequest(job_id=draft.id), metadata=md),
        "goal",
    )
    updated = (
        await stub.UpdateDraft(J.UpdateDraftRequest(job_id=draft.id, goal=GOAL, tier="Large"), metadata=md)
    ).job
    assert (updated.seed_text, updated.goal, updated.tier) == (SEED, GOAL, "large")
    assert updated.status == J.JOB_STATUS_DRAFT
    launched = (await stub.LaunchDraft(J.LaunchDraftRequest(job_id=draft.id), metadata=md)).job
    assert launched.status == J.JOB_STATUS_PENDING and launched.forecast_days == 30
    await jobs_server.app.relay.flush()
    dispatch = await dispatch_reader.take("large")
    assert dispatch.job_id == draft.id and dispatch.run_id == launched.workflow_run_id
    await expect(
        grpc.StatusCode.FAILED_PRECONDITION,
        stub.UpdateDraft(J.UpdateDraftRequest(job_id=draft.id, goal="x"), metadata=md),
        "only drafts",
    )
    await expect(
        grpc.StatusCode.FAILED_PRECONDITION,
        stub.LaunchDraft(J.LaunchDraftRequest(job_id=draft.id), metadata=md),
    )


async def test_cancel_retry_and_their_preconditions(jobs_server: Any, event_bus: EventBus) -> None:
    stub, md = jobs_server.stub, jobs_server.md(1)
    job = (await stub.CreateJob(create_request(), metadata=md)).job
    await expect(
        grpc.StatusCode.FAILED_PRECONDITION,
        stub.RetryJob(J.RetryJobRequest(job_id=job.id), metadata=md),
        "only FAILED",
    )
    cancelled = (await stub.CancelJob(J.CancelJobRequest(job_id=job.id), metadata=md)).job
    assert cancelled.status == J.JOB_STATUS_FAILED and cancelled.error_message == "cancelled by user"
    await jobs_server.app.relay.flush()
    cancel = await last_cancel(event_bus, job.id)
    assert cancel.job_id == job.id
    await expect(
        grpc.StatusCode.FAILED_PRECONDITION,
        stub.CancelJob(J.CancelJobRequest(job_id=job.id), metadata=md),
        "already",
    )
    retry = (await stub.RetryJob(J.RetryJobRequest(job_id=job.id), metadata=md)).job
    assert retry.retry_of == job.id
    await expect(
        grpc.StatusCode.ALREADY_EXISTS,
        stub.RetryJob(J.RetryJobRequest(job_id=job.id), metadata=md),
        "already retried",
    )
    draft = (await stub.CreateDraft(J.CreateDraftRequest(), metadata=md)).job
    await expect(
        grpc.StatusCode.FAILED_PRECONDITION, stub.CancelJob(J.CancelJobRequest(job_id=draft.id), metadata=md)
    )


async def test_delete_cancels_a_live_run_and_removes_its_artifacts(
    jobs_server: Any, object_store: ObjectStore, event_bus: EventBus
) -> None:
    stub, md = jobs_server.stub, jobs_server.md(1)
    job = (await stub.CreateJob(create_request(), metadata=md)).job
    await object_store.put_bytes(artifact_key(job.id, "checkpoint"), b"state")
    await upload_artifacts(object_store, job.id, ARTIFACT_NAMES[:3])
    await stub.DeleteJob(J.DeleteJobRequest(job_id=job.id), metadata=md)
    assert await object_store.list_keys(job_prefix(job.id)) == []
    assert await row(jobs_server.app.sessions, job.id) is None
    await expect(grpc.StatusCode.NOT_FOUND, stub.GetJob(J.GetJobRequest(job_id=job.id), metadata=md))
    await jobs_server.app.relay.flush()
    cancel = await last_cancel(event_bus, job.id)
    assert cancel.reason == "deleted by user"


# --- results and sharing -------------------------------------------------------------------------


async def test_sim_data_and_graph(jobs_server: Any, object_store: ObjectStore) -> None:
    stub, md = jobs_server.stub, jobs_server.md(1)
    pending = (await stub.CreateJob(create_request(seed_text=seed_text("pending")), metadata=md)).job
    await expect(
        grpc.StatusCode.FAILED_PRECONDITION,
        stub.GetSimData(J.GetSimDataRequest(job_id=pending.id), metadata=md),
    )
    await expect(
        grpc.StatusCode.FAILED_PRECONDITION, stub.GetGraph(J.GetGraphRequest(job_id=pending.id), metadata=md)
    )
    done = await completed_job(jobs_server, object_store)
    data = await stub.GetSimData(J.GetSimDataRequest(job_id=done.id), metadata=md)
    assert set(data.files) == {*ARTIFACT_NAMES, REPORT_NAME} and data.expires_in_seconds == 3600
    async with httpx.AsyncClient() as http:
        response = await http.get(data.files["trades.json"])
        assert response.status_code == 200 and response.content == b"{}"
        assert "X-Amz-Expires=3600" in data.files["trades.json"]
    graph = await stub.GetGraph(J.GetGraphRequest(job_id=done.id), metadata=md)
    assert graph.graph == done.result_graph and '"nodes"' in graph.graph


async def test_share_links_work_only_for_completed_jobs_and_revoke(
    jobs_server: Any, object_store: ObjectStore
) -> None:
    stub, md = jobs_server.stub, jobs_server.md(1)
    pending = (await stub.CreateJob(create_request(seed_text=seed_text("pending")), metadata=md)).job
    await expect(
        grpc.StatusCode.FAILED_PRECONDITION,
        stub.CreateShareLink(J.CreateShareLinkRequest(job_id=pending.id), metadata=md),
        "only COMPLETED",
    )
    done = await completed_job(jobs_server, object_store)
    token = (await stub.CreateShareLink(J.CreateShareLinkRequest(job_id=done.id), metadata=md)).share_token
    assert len(token) == 43
    # The job says it is shared, never which token (only the token's hash is stored).
    got = (await stub.GetJob(J.GetJobRequest(job_id=done.id), metadata=md)).job
    assert got.shared and not got.HasField("share_token")
    # Sharing again makes a new link; the previous one stops working.
    again = (await stub.CreateShareLink(J.CreateShareLinkRequest(job_id=done.id), metadata=md)).share_token
    assert again != token and len(again) == 43
    await expect(
        grpc.StatusCode.NOT_FOUND, stub.GetSharedJob(J.GetSharedJobRequest(share_token=token)), "revoked"
    )
    token = again

    shared = (await stub.GetSharedJob(J.GetSharedJobRequest(share_token=token))).job  # no token needed
    assert shared.id == done.id and shared.status == J.JOB_STATUS_COMPLETED
    assert shared.result_report == done.result_report and shared.key_insight == done.key_insight
    assert shared.markets_config == done.markets_config
    # Nothing about the owner: SharedJob has no user fields, and no value leaks the owner's identity.
    assert {f.name for f in J.SharedJob.DESCRIPTOR.fields}.isdisjoint(
        {"user_id", "email", "share_token", "pod_id"}
    )
    assert b"user1@example.test" not in shared.SerializeToString()

    await stub.RevokeShareLink(J.RevokeShareLinkRequest(job_id=done.id), metadata=md)
    await expect(
        grpc.StatusCode.NOT_FOUND, stub.GetSharedJob(J.GetSharedJobRequest(share_token=token)), "revoked"
    )
    assert not (await stub.GetJob(J.GetJobRequest(job_id=done.id), metadata=md)).job.shared
    fresh = (await stub.CreateShareLink(J.CreateShareLinkRequest(job_id=done.id), metadata=md)).share_token
    assert fresh != token
    for bad in ("", "x", token[:-1] + "\x00", "a" * 43, "../" * 20):
        await expect(grpc.StatusCode.NOT_FOUND, stub.GetSharedJob(J.GetSharedJobRequest(share_token=bad)))


# --- operator RPCs -------------------------------------------------------------------------------


async def test_operator_rpcs_need_the_operator_role(jobs_server: Any, jobs_app: JobsApp) -> None:
    stub = jobs_server.stub
    route = J.ModelRoute(
        sim_tier="xl", model_id="Qwen/Qwen3-32B", gpu_type="NVIDIA H200", max_rounds=300, target_agents=50
    )
    for metadata, code in (
        (jobs_server.md(1), grpc.StatusCode.PERMISSION_DENIED),
        ((), grpc.StatusCode.UNAUTHENTICATED),
    ):
        await expect(code, stub.ListRoutes(J.ListRoutesRequest(), metadata=metadata))
        await expect(code, stub.UpsertRoute(J.UpsertRouteRequest(route=route), metadata=metadata))
        await expect(code, stub.ListErrorEvents(J.ListErrorEventsRequest(), metadata=metadata))

    op = jobs_server.operator()
    routes = (await stub.ListRoutes(J.ListRoutesRequest(), metadata=op)).routes
    # Listed in id order: the seeded tiers, unless a test re-inserted one after another.
    by_tier = {r.sim_tier: r for r in routes}
    assert len(routes) == len(by_tier) and set(by_tier) == {"small", "medium", "large", "local"}
    assert [r.id for r in routes] == sorted(r.id for r in routes)
    assert by_tier["large"].gpu_type == "NVIDIA H100 80GB HBM3"
    assert by_tier["small"].vllm_args == "--max-model-len 16384" and not by_tier["local"].HasField(
        "vllm_args"
    )
    created = (await stub.UpsertRoute(J.UpsertRouteRequest(route=route), metadata=op)).route
    assert created.sim_tier == "xl" and created.id and not created.HasField("vllm_args")
    changed = (
        await stub.UpsertRoute(
            J.UpsertRouteRequest(route=J.ModelRoute(**{**_fields(route), "max_rounds": 10})), metadata=op
        )
    ).route
    assert changed.id == created.id and changed.max_rounds == 10
    job = (await stub.CreateJob(create_request(tier="xl"), metadata=jobs_server.md(1))).job
    assert job.tier == "xl"
    for bad in (
        J.ModelRoute(**{**_fields(route), "sim_tier": "x.y"}),
        J.ModelRoute(**{**_fields(route), "max_rounds": 0}),
    ):
        await expect(
            grpc.StatusCode.INVALID_ARGUMENT, stub.UpsertRoute(J.UpsertRouteRequest(route=bad), metadata=op)
        )

    for i, source in enumerate(("api", "gpu", "gpu")):
        event = events_pb2.ErrorCaptured(
            source=source, message=f"error {i}", error_id=f"e{i}", job_id=job.id if i else None
        )
        await jobs_app.handlers.apply_error_captured(event, None)
    listed = await stub.ListErrorEvents(J.ListErrorEventsRequest(source="gpu", per_page=1), metadata=op)
    assert listed.total == 2 and len(listed.events) == 1 and listed.events[0].source == "gpu"
    by_job = await stub.ListErrorEvents(J.ListErrorEventsRequest(job_id=job.id), metadata=op)
    assert by_job.total == 2
    await expect(
        grpc.StatusCode.INVALID_ARGUMENT,
        stub.ListErrorEvents(J.ListErrorEventsRequest(source="a\x00"), metadata=op),
    )


def _fields(route: jobs_pb2.ModelRoute) -> dict[str, Any]:
    """The fields the route sets (an unset optional field stays unset)."""
    return {f.name: value for f, value in route.ListFields() if f.name not in ("id", "vllm_args")}


# --- WatchJob ------------------------------------------------------------------------------------


async def publish_history(bus: EventBus, events: list[Any], job_id: int, run_id: str, start: int = 0) -> None:
    for i, event in enumerate(events, start=start):
        subject = {
            events_pb2.RunnerProgress: subjects.runner_progress,
            events_pb2.RunnerCompleted: subjects.runner_completed,
            events_pb2.ReporterCompleted: subjects.reporter_completed,
        }[type(event)](job_id)
        await bus.publish(subject, event, msg_id=f"{run_id}-{i}")


async def test_watch_streams_published_progress_and_ends_on_completed(
    jobs_server: Any, event_bus: EventBus, object_store: ObjectStore
) -> None:
    stub, md = jobs_server.stub, jobs_server.md(1)
    job = (await stub.CreateJob(create_request(), metadata=md)).job
    await upload_artifacts(object_store, job.id)
    call = stub.WatchJob(J.WatchJobRequest(job_id=job.id), metadata=md)
    first = (await asyncio.wait_for(call.read(), 5)).job
    assert first.id == job.id and first.status == J.JOB_STATUS_PENDING

    await event_bus.publish(
        subjects.runner_progress(job.id), progress(job.id, job.workflow_run_id, 1, 3, round=4), msg_id="p-1"
    )
    update = (await asyncio.wait_for(call.read(), 5)).job
    assert update.status == J.JOB_STATUS_RUNNING and update.live_status["round"] == 4
    assert update.pipeline_stage == 3 and not update.HasField("result_report")

    await event_bus.publish(
        subjects.runner_completed(job.id), runner_completed(job.id, job.workflow_run_id), msg_id="c"
    )
    await event_bus.publish(
        subjects.reporter_completed(job.id), reporter_completed(job.id, job.workflow_run_id), msg_id="r"
    )
    statuses = []
    async with asyncio.timeout(10):
        while (message := await call.read()) is not grpc.aio.EOF:
            statuses.append(message.job.status)
    # REPORTING then COMPLETED (a watcher sends the row as it is when woken, so two commits in
    # quick succession may arrive as one update), and the stream ended by itself.
    assert statuses[-1] == J.JOB_STATUS_COMPLETED
    assert set(statuses) <= {J.JOB_STATUS_REPORTING, J.JOB_STATUS_COMPLETED}
    assert await call.code() == grpc.StatusCode.OK


async def test_watch_of_a_finished_job_sends_one_snapshot_and_ends(
    jobs_server: Any, object_store: ObjectStore
) -> None:
    done = await completed_job(jobs_server, object_store)
    call = jobs_server.stub.WatchJob(J.WatchJobRequest(job_id=done.id), metadata=jobs_server.md(1))
    messages = [m async for m in call]
    assert len(messages) == 1 and messages[0].job.status == J.JOB_STATUS_COMPLETED


async def test_watch_on_one_replica_sees_events_consumed_by_another(
    jobs_settings: Any, jobs_db: Any, event_bus: EventBus, event_bus_factory: Any, object_store: ObjectStore
) -> None:
    keys = SigningKeys()
    # Replica A serves the watch but consumes nothing; replica B consumes every event.
    replica_a = JobsApp(jobs_settings, sessions=jobs_db, bus=event_bus, store=object_store)
    bus_b = await event_bus_factory(name="replica-b")
    replica_b = JobsApp(jobs_settings, sessions=jobs_db, bus=bus_b, store=object_store)
    await replica_a.start(consumers=False, background=False)
    await replica_b.start(consumers=True, background=False)
    server = await start_jobs_server(replica_a, keys)
    channel = grpc.aio.insecure_channel(server.address)
    try:
        stub = jobs_pb2_grpc.JobsServiceStub(channel)
        md = (("authorization", f"Bearer {keys.token(1)}"),)
        job = (await stub.CreateJob(create_request(), metadata=md)).job
        call = stub.WatchJob(J.WatchJobRequest(job_id=job.id), metadata=md)
        assert (await asyncio.wait_for(call.read(), 5)).job.status == J.JOB_STATUS_PENDING
        loop = asyncio.get_running_loop()
        sent = loop.time()
        await bus_b.publish(
            subjects.runner_progress(job.id), progress(job.id, job.workflow_run_id, 1, 2), msg_id="p"
        )
        update = (await asyncio.wait_for(call.read(), 5)).job
        # Far quicker than the 30 s safety re-read: B's change notification woke A's watcher.
        assert update.status == J.JOB_STATUS_RUNNING and loop.time() - sent < 2.0
        assert replica_a.hub.watcher_count == 1
        call.cancel()
    finally:
        await channel.close()
        await server.stop(0.5)
        await replica_a.stop()
        await replica_b.stop()


async def test_no_bad_input_produces_internal(jobs_server: Any) -> None:
    stub, md = jobs_server.stub, jobs_server.md(1)
    weird = ["\x00", "\u202e\u0000", "🙂" * 30_000, "\x7f", "a" * 100_000, "\ud7ff", "'; DROP TABLE jobs; --"]
    for value in weird:
        for request_ in (
            create_request(seed_text=value),
            create_request(goal=value),
            create_request(tier=value),
        ):
            assert await code_of(stub.CreateJob(request_, metadata=md)) in (
                grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.ALREADY_EXISTS,
            )  # fmt: skip
        assert await code_of(stub.CreateDraft(J.CreateDraftRequest(goal=value), metadata=md)) in (
            grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT,
        )  # fmt: skip
        assert (
            await code_of(stub.GetSharedJob(J.GetSharedJobRequest(share_token=value)))
            == grpc.StatusCode.NOT_FOUND
        )
