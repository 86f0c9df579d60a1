"""Dispatch through the outbox: the row and the dispatch never disagree (real DB, NATS, S3)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from swarmcast.events.v1 import events_pb2

from services.common.bus import EventBus
from services.common.storage import ObjectStore, get_via_presigned, put_via_presigned
from services.jobs.app import JobsApp, outbox_relay
from services.jobs.domain.artifacts import ARTIFACT_NAMES, artifact_key, checkpoint_key
from services.jobs.domain.dispatch import random_seed_for
from services.jobs.domain.state_machine import JobStatus
from services.jobs.runtime_models import JobRun, OutboxMessage
from services.jobs.tests.jobs_helpers import identity, job_fields, last_cancel, row, seed_text

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def unpublished(app: JobsApp) -> int:
    async with app.sessions() as session:
        stmt = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
        return int((await session.execute(stmt)).scalar_one())


async def test_dispatch_carries_the_job_route_and_working_upload_targets(
    jobs_app: JobsApp, dispatch_reader: Any, object_store: ObjectStore, seeded_routing: list[dict[str, Any]]
) -> None:
    job = await jobs_app.core.create_job(
        identity(), job_fields(tier="medium", forecast_days=90, enrich_web=False)
    )
    assert job.status is JobStatus.PENDING and job.workflow_id == f"sim-{job.id}"
    await jobs_app.relay.flush()
    dispatch = await dispatch_reader.take("medium")
    medium = next(r for r in seeded_routing if r["sim_tier"] == "medium")
    assert dispatch.dispatch_id == f"sim-{job.id}" and dispatch.job_id == job.id
    assert dispatch.run_id == job.workflow_run_id
    assert (dispatch.seed_text, dispatch.goal, dispatch.tier) == (job.seed_text, job.goal, "medium")
    assert dispatch.forecast_days == 90 and dispatch.enrich_web is False
    assert dispatch.attempt == 1 and not dispatch.resume
    assert dispatch.random_seed == random_seed_for(job.id)
    assert (dispatch.route.model_id, dispatch.route.gpu_type) == (medium["model_id"], medium["gpu_type"])
    assert (dispatch.route.max_rounds, dispatch.route.target_agents) == (
        medium["max_rounds"],
        medium["target_agents"],
    )
    assert dispatch.route.vllm_args == medium["vllm_args"]
    assert set(dispatch.upload.put_urls) == set(ARTIFACT_NAMES)
    assert dispatch.upload.prefix == f"sim-data/{job.id}/" and dispatch.upload.bucket == object_store.bucket
    # The runner needs no credentials: the presigned URLs work as they are.
    await put_via_presigned(dispatch.upload.put_urls["posts.json"], b"[]")
    assert await object_store.exists(artifact_key(job.id, "posts.json"))
    await put_via_presigned(dispatch.upload.checkpoint_put_url, b"round 3")
    assert await get_via_presigned(dispatch.upload.checkpoint_get_url) == b"round 3"
    assert await object_store.exists(checkpoint_key(job.id))


async def test_a_crash_between_commit_and_publish_is_repaired_by_the_next_relay(
    jobs_app: JobsApp, dispatch_reader: Any, event_bus: EventBus
) -> None:
    # The job row committed, the process died before publishing: the outbox row is still pending.
    job = await jobs_app.core.create_job(identity(), job_fields())
    assert await unpublished(jobs_app) == 1
    assert await dispatch_reader.nothing()
    # A restarted process (a fresh relay) publishes it on its first sweep.
    restarted = outbox_relay(jobs_app.sessions, event_bus)
    assert await restarted.flush() == 1
    assert await unpublished(jobs_app) == 0
    assert (await dispatch_reader.take()).run_id == job.workflow_run_id
    # Published twice (a relay that died after publishing but before recording it): stored once.
    async with jobs_app.sessions() as session, session.begin():
        await session.execute(update(OutboxMessage).values(published_at=None))
    assert await restarted.flush() == 1
    assert await dispatch_reader.nothing()


async def test_two_relays_publish_each_dispatch_exactly_once(
    jobs_app: JobsApp, dispatch_reader: Any, event_bus_factory: Any
) -> None:
    jobs = [
        await jobs_app.core.create_job(identity(), job_fields(seed=seed_text(f"seed {i}"))) for i in range(30)
    ]
    other_bus = await event_bus_factory(name="replica-b")
    relays = [
        outbox_relay(jobs_app.sessions, jobs_app.bus, batch_size=7),
        outbox_relay(jobs_app.sessions, other_bus, batch_size=7),
    ]
    counts = await asyncio.gather(*(relay.flush() for relay in relays))
    assert sum(counts) == 30
    seen = [(await dispatch_reader.take()).job_id for _ in range(30)]
    assert sorted(seen) == sorted(j.id for j in jobs)
    assert await dispatch_reader.nothing()
    async with jobs_app.sessions() as session:
        seqs = (await session.scalars(select(JobRun.stream_seq))).all()
    assert len(seqs) == 30 and None not in seqs


async def test_a_dispatch_cancelled_before_it_went_out_is_never_published(
    jobs_app: JobsApp, dispatch_reader: Any, event_bus: EventBus
) -> None:
    job = await jobs_app.core.create_job(identity(), job_fields())
    await jobs_app.core.cancel_job(identity(), job.id)
    assert await jobs_app.relay.flush() == 1  # only the cancel
    assert await dispatch_reader.nothing()
    cancel = await last_cancel(event_bus, job.id)
    message = cancel
    assert message.job_id == job.id and message.reason == "cancelled by user" and message.run_id == ""
    values = await row(jobs_app.sessions, job.id)
    assert values is not None and values["status"] is JobStatus.FAILED
    assert values["error_message"] == "cancelled by user"


async def test_the_dispatch_of_a_job_deleted_before_it_went_out_is_never_published(
    jobs_app: JobsApp, dispatch_reader: Any, event_bus: EventBus
) -> None:
    """The job row and its run are gone; the pending dispatch (msg_id = run id) is retired unpublished."""
    job = await jobs_app.core.create_job(identity(), job_fields())
    await jobs_app.core.delete_job(identity(), job.id)
    assert await row(jobs_app.sessions, job.id) is None
    assert await jobs_app.relay.flush() == 1  # only the cancel
    assert await dispatch_reader.nothing()
    assert (await last_cancel(event_bus, job.id)).job_id == job.id
    assert await unpublished(jobs_app) == 0


async def test_the_running_relay_publishes_right_after_commit(
    jobs_app: JobsApp, dispatch_reader: Any
) -> None:
    jobs_app.relay.periodic.start()
    try:
        await asyncio.sleep(0.1)
        job = await jobs_app.core.create_job(identity(), job_fields())
        # Well inside the 2 s sweep: the kick after commit published it.
        dispatch = await dispatch_reader.take(wait=1.0)
        assert dispatch.job_id == job.id
    finally:
        await jobs_app.relay.periodic.stop()


async def test_redispatch_keeps_the_route_snapshot(
    jobs_app: JobsApp, dispatch_reader: Any, seeded_routing: list[dict[str, Any]]
) -> None:
    job = await jobs_app.core.create_job(identity(), job_fields())
    await jobs_app.relay.flush()
    await dispatch_reader.take()
    await jobs_app.core.upsert_route(
        {
            "sim_tier": "small",
            "model_id": "other/model",
            "gpu_type": "T4",
            "max_rounds": 3,
            "target_agents": 2,
        }
    )
    failure = events_pb2.RunnerFailed(
        job_id=job.id, run_id=job.workflow_run_id, kind=events_pb2.FAILURE_KIND_TRANSIENT, reason="evicted"
    )
    await jobs_app.handlers.apply_runner_failed(failure)
    await jobs_app.relay.flush()
    again = await dispatch_reader.take()
    assert again.resume and again.route.model_id == "Qwen/Qwen3-14B" and again.route.max_rounds == 15


async def test_published_outbox_rows_are_pruned_after_a_day(jobs_app: JobsApp) -> None:
    await jobs_app.core.create_job(identity(), job_fields())
    await jobs_app.core.create_job(identity(), job_fields(seed=seed_text("second")))
    await jobs_app.relay.flush()
    await jobs_app.core.create_job(identity(), job_fields(seed=seed_text("still pending")))
    async with jobs_app.sessions() as session, session.begin():
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.published_at.is_not(None))
            .values(published_at=func.now() - timedelta(days=2))
        )
    assert (await jobs_app.pruner.prune_once()).outbox == 2
    assert await unpublished(jobs_app) == 1  # what is not out yet is never pruned
