"""The stale-job detector against real PostgreSQL and NATS (stale threshold 0.5 s, budget 2)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from swarmcast.events.v1 import events_pb2

from services.common import subjects
from services.common.bus import EventBus
from services.jobs.app import JobsApp
from services.jobs.detector import JetStreamQueueProbe, StaleJobDetector
from services.jobs.domain.state_machine import JobStatus
from services.jobs.tests.jobs_helpers import (
    SEED,
    identity,
    job_fields,
    progress,
    row,
    runner_completed,
    seed_text,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

# Just past the small tier's threshold (0.5 s × 1.0).
SILENCE = 0.8


async def started_job(app: JobsApp, reader: Any, seed: str = SEED) -> tuple[int, str]:
    """A job a runner has taken from the queue and reported on once."""
    job = await app.core.create_job(identity(), job_fields(seed=seed))
    await app.relay.flush()
    dispatch = await reader.take()
    await app.handlers.apply_progress(progress(job.id, dispatch.run_id, 1, 3))
    return job.id, dispatch.run_id


async def cancels(bus: EventBus, job_id: int) -> list[events_pb2.JobCancel]:
    sub = await bus.js.pull_subscribe(
        bus.subject(subjects.cancel(job_id)), durable=None, stream=bus.stream_name(subjects.JOBS_CONTROL.name)
    )
    try:
        msgs = await sub.fetch(10, timeout=1.0)
    finally:
        await sub.unsubscribe()
    return [events_pb2.JobCancel.FromString(m.data) for m in msgs]


async def test_a_silent_runner_is_redispatched_with_resume_and_then_failed(
    jobs_app: JobsApp, dispatch_reader: Any, event_bus: EventBus
) -> None:
    detector = jobs_app.detector
    job_id, run_1 = await started_job(jobs_app, dispatch_reader)
    assert (await detector.check_once()).redispatched == []  # it just reported

    runs = [run_1]
    for attempt in (2, 3):
        await asyncio.sleep(SILENCE)  # the runner goes silent
        assert (await detector.check_once()).redispatched == [job_id]
        await jobs_app.relay.flush()
        values = await row(jobs_app.sessions, job_id)
        assert values is not None and values["retry_count"] == attempt - 1
        assert values["status"] is JobStatus.RUNNING
        assert values["live_status"]["stage_name"] == "requeued"

        # Waiting in the queue is not silence, however long it takes a runner to come.
        await asyncio.sleep(SILENCE)
        report = await detector.check_once()
        assert report.redispatched == [] and report.taken == []

        dispatch = await dispatch_reader.take()  # a runner takes it ...
        assert dispatch.resume and dispatch.attempt == attempt
        assert dispatch.run_id == values["workflow_run_id"] != runs[-1]
        runs.append(dispatch.run_id)
        assert (await detector.check_once()).taken == [job_id]  # ... and the silence clock starts

    await asyncio.sleep(SILENCE)
    report = await detector.check_once()
    assert report.failed == [job_id]
    values = await row(jobs_app.sessions, job_id)
    assert values is not None and values["status"] is JobStatus.FAILED and values["retry_count"] == 2
    assert values["error_message"] == (
        "the runner stopped responding (no heartbeat for 0.5s) "
        "and the retry budget of 2 re-dispatches is spent"
    )
    await jobs_app.relay.flush()
    assert await dispatch_reader.nothing()
    # Every abandoned attempt was told to stop, by run id.
    stopped = await cancels(event_bus, job_id)
    assert [c.run_id for c in stopped] == runs
    assert (await detector.check_once()).failed == []  # terminal: left alone


async def test_progress_keeps_a_run_alive(jobs_app: JobsApp, dispatch_reader: Any) -> None:
    job_id, run_id = await started_job(jobs_app, dispatch_reader)
    for seq in range(2, 9):
        await asyncio.sleep(0.2)
        await jobs_app.handlers.apply_progress(progress(job_id, run_id, seq, 3))
        assert (await jobs_app.detector.check_once()).redispatched == []


async def test_a_job_waiting_for_a_runner_is_not_stale(jobs_app: JobsApp, dispatch_reader: Any) -> None:
    job = await jobs_app.core.create_job(identity(), job_fields())
    await asyncio.sleep(SILENCE)
    assert (await jobs_app.detector.check_once()).redispatched == []  # not even published yet
    await jobs_app.relay.flush()
    await asyncio.sleep(SILENCE)
    report = await jobs_app.detector.check_once()
    assert report.redispatched == [] and report.taken == []
    assert (await dispatch_reader.take()).job_id == job.id
    assert await dispatch_reader.nothing()


async def test_a_runner_that_took_the_job_and_died_before_reporting_is_detected(
    jobs_app: JobsApp, dispatch_reader: Any
) -> None:
    job = await jobs_app.core.create_job(identity(), job_fields())
    await jobs_app.relay.flush()
    await dispatch_reader.take()  # acked, then nothing
    assert (await jobs_app.detector.check_once()).taken == [job.id]
    await asyncio.sleep(SILENCE)
    assert (await jobs_app.detector.check_once()).redispatched == [job.id]
    values = await row(jobs_app.sessions, job.id)
    assert values is not None and values["status"] is JobStatus.PENDING and values["retry_count"] == 1


async def test_a_report_that_never_comes_fails_the_job(jobs_app: JobsApp, dispatch_reader: Any) -> None:
    job_id, run_id = await started_job(jobs_app, dispatch_reader)
    await jobs_app.handlers.apply_runner_completed(runner_completed(job_id, run_id))
    await asyncio.sleep(SILENCE)
    assert (await jobs_app.detector.check_once()).failed == []  # reporting gets 5 thresholds
    await asyncio.sleep(2.5 - SILENCE + 0.2)
    assert (await jobs_app.detector.check_once()).failed == [job_id]
    values = await row(jobs_app.sessions, job_id)
    assert values is not None and values["status"] is JobStatus.FAILED
    assert "report was not produced" in values["error_message"]


async def test_two_replicas_redispatch_a_stale_job_once(
    jobs_app: JobsApp, dispatch_reader: Any, event_bus_factory: Any
) -> None:
    other_bus = await event_bus_factory(name="replica-b")
    other = StaleJobDetector(
        jobs_app.sessions,
        dispatcher=jobs_app.dispatcher,
        relay=jobs_app.relay,
        notifier=jobs_app.hub,
        probe=JetStreamQueueProbe(other_bus),
        stale_after_seconds=0.5,
        retry_budget=2,
        interval_seconds=3600,
    )
    jobs = [await started_job(jobs_app, dispatch_reader, seed=seed_text(f"seed {i}")) for i in range(5)]
    await asyncio.sleep(SILENCE)
    reports = await asyncio.gather(jobs_app.detector.check_once(), other.check_once())
    redispatched = reports[0].redispatched + reports[1].redispatched
    assert sorted(redispatched) == sorted(job_id for job_id, _ in jobs)
    for job_id, _ in jobs:
        values = await row(jobs_app.sessions, job_id)
        assert values is not None and values["retry_count"] == 1
    await jobs_app.relay.flush()
    assert sorted([(await dispatch_reader.take()).job_id for _ in jobs]) == sorted(j for j, _ in jobs)
    assert await dispatch_reader.nothing()
