"""Event consumers against the real database, S3 and NATS: idempotence, order, superseded runs."""

from __future__ import annotations

import asyncio
import random
from collections import deque
from datetime import timedelta
from typing import Any

import pytest
from google.protobuf.message import Message
from sqlalchemy import func, select, update
from swarmcast.events.v1 import events_pb2

from services.common import subjects
from services.common.bus import EventBus
from services.common.db import utcnow
from services.common.storage import ObjectStore
from services.jobs.app import JobsApp
from services.jobs.domain.artifacts import ARTIFACT_NAMES, artifact_key, job_prefix
from services.jobs.domain.state_machine import JobStatus
from services.jobs.handlers import DeferredEvent, Outcome
from services.jobs.models import ErrorEvent, SimulationJob
from services.jobs.tests.jobs_helpers import (
    SEED,
    T0,
    apply,
    identity,
    job_fields,
    last_cancel,
    progress,
    reporter_completed,
    row,
    runner_completed,
    seed_text,
    successful_history,
    upload_artifacts,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

# Columns that identify a job rather than result from its events.
IDENTITY_COLUMNS = {"id", "created_at", "workflow_id", "workflow_run_id"}


async def new_job(app: JobsApp, user: int = 1, seed: str = SEED) -> tuple[int, str]:
    job = await app.core.create_job(identity(user), job_fields(seed=seed))
    assert job.workflow_run_id
    return job.id, job.workflow_run_id


async def replay(app: JobsApp, events: list[Message]) -> list[Outcome]:
    """Applies events like JetStream delivers them: a deferred event comes back later."""
    queue: deque[tuple[Message, int]] = deque((e, 0) for e in events)
    outcomes: list[Outcome] = []
    while queue:
        event, deferrals = queue.popleft()
        try:
            outcomes.append(await apply(app.handlers, event))
        except DeferredEvent:
            assert deferrals < len(events), "an event was deferred forever"
            queue.append((event, deferrals + 1))
    return outcomes


def content(values: dict[str, Any] | None) -> dict[str, Any]:
    assert values is not None
    return {k: v for k, v in values.items() if k not in IDENTITY_COLUMNS}


# --- the whole history ---------------------------------------------------------------------------


async def test_history_applied_in_order_completes_the_job(
    jobs_app: JobsApp, object_store: ObjectStore
) -> None:
    job_id, run_id = await new_job(jobs_app)
    await upload_artifacts(object_store, job_id)
    outcomes = await replay(jobs_app, successful_history(job_id, run_id))
    assert set(outcomes) == {Outcome.APPLIED}
    values = await row(jobs_app.sessions, job_id)
    assert values is not None
    assert values["status"] is JobStatus.COMPLETED
    assert values["pipeline_stage"] == 5
    assert values["sim_data_available"] is True
    assert values["pod_id"] == "pod-a" and values["gpu_provider"] == "local"
    assert values["gpu_cost_usd"] == pytest.approx(0.0125)
    assert values["provision_seconds"] == 2 and values["pipeline_seconds"] == 10
    assert values["completed_at"] == T0 + timedelta(seconds=120)
    assert values["last_heartbeat"] == T0 + timedelta(seconds=100)
    assert values["markets_config"][0]["id"] == "m1"
    assert values["enriched_seed"] == "the enriched seed"
    assert len(values["key_insight"]) == 200
    assert values["result_report"].startswith("# Report")
    assert values["credits_charged"] == 0


async def test_replaying_the_history_twice_changes_nothing(
    jobs_app: JobsApp, object_store: ObjectStore
) -> None:
    job_id, run_id = await new_job(jobs_app)
    await upload_artifacts(object_store, job_id)
    history = successful_history(job_id, run_id)
    await replay(jobs_app, history)
    first = await row(jobs_app.sessions, job_id)
    outcomes = await replay(jobs_app, history)
    assert set(outcomes) == {Outcome.IGNORED}
    assert await row(jobs_app.sessions, job_id) == first  # the full row, every column


async def test_an_operators_regenerated_report_replaces_the_report_of_a_completed_job(
    jobs_app: JobsApp, object_store: ObjectStore
) -> None:
    job_id, run_id = await new_job(jobs_app)
    await upload_artifacts(object_store, job_id)
    await replay(jobs_app, successful_history(job_id, run_id))
    before = await row(jobs_app.sessions, job_id)
    assert before is not None

    rewrite = reporter_completed(job_id, run_id)
    rewrite.report_markdown = "# Report, revision 2"
    rewrite.key_insight = "Revised: the strike most likely ends by July."
    rewrite.regenerated, rewrite.revision = True, 2
    assert await apply(jobs_app.handlers, rewrite) is Outcome.APPLIED
    after = await row(jobs_app.sessions, job_id)
    assert after is not None
    assert after["result_report"] == "# Report, revision 2"
    assert after["key_insight"] == "Revised: the strike most likely ends by July."
    assert after["status"] is JobStatus.COMPLETED and after["completed_at"] == before["completed_at"]

    # Without the flag, a second report for a finished job is a duplicate and changes nothing.
    stale = reporter_completed(job_id, run_id)
    assert await apply(jobs_app.handlers, stale) is Outcome.IGNORED
    assert await row(jobs_app.sessions, job_id) == after


@pytest.mark.parametrize("shuffle_seed", range(6))
async def test_shuffled_history_reaches_the_same_row(
    jobs_app: JobsApp, object_store: ObjectStore, shuffle_seed: int
) -> None:
    in_order_id, in_order_run = await new_job(jobs_app, seed=seed_text("in order"))
    shuffled_id, shuffled_run = await new_job(jobs_app, seed=seed_text("shuffled"))
    for job_id in (in_order_id, shuffled_id):
        await upload_artifacts(object_store, job_id)
    await replay(jobs_app, successful_history(in_order_id, in_order_run))
    events = successful_history(shuffled_id, shuffled_run) * 2  # duplicates too
    random.Random(shuffle_seed).shuffle(events)
    await replay(jobs_app, events)
    expected, actual = (
        content(await row(jobs_app.sessions, in_order_id)),
        content(await row(jobs_app.sessions, shuffled_id)),
    )
    expected.pop("seed_text"), actual.pop("seed_text")
    assert actual == expected


async def test_terminal_jobs_ignore_every_late_event(jobs_app: JobsApp, object_store: ObjectStore) -> None:
    job_id, run_id = await new_job(jobs_app)
    await upload_artifacts(object_store, job_id)
    await replay(jobs_app, successful_history(job_id, run_id))
    cancelled_id, cancelled_run = await new_job(jobs_app, seed=seed_text("cancelled"))
    await jobs_app.core.cancel_job(identity(1), cancelled_id)
    for target_id, target_run in ((job_id, run_id), (cancelled_id, cancelled_run)):
        before = await row(jobs_app.sessions, target_id)
        late: list[Message] = [
            progress(target_id, target_run, 1000, 3),
            runner_completed(target_id, target_run),
            events_pb2.RunnerFailed(
                job_id=target_id, run_id=target_run, kind=events_pb2.FAILURE_KIND_TRANSIENT
            ),
            reporter_completed(target_id, target_run),
            events_pb2.ReporterFailed(job_id=target_id, run_id=target_run, reason="late"),
        ]
        assert set(await replay(jobs_app, late)) == {Outcome.IGNORED}
        assert await row(jobs_app.sessions, target_id) == before


async def test_progress_applies_only_if_newer(jobs_app: JobsApp) -> None:
    job_id, run_id = await new_job(jobs_app)
    assert await jobs_app.handlers.apply_progress(progress(job_id, run_id, 5, 3, round=5)) is Outcome.APPLIED
    assert await jobs_app.handlers.apply_progress(progress(job_id, run_id, 4, 3, round=4)) is Outcome.IGNORED
    assert await jobs_app.handlers.apply_progress(progress(job_id, run_id, 5, 3, round=5)) is Outcome.IGNORED
    values = await row(jobs_app.sessions, job_id)
    assert values is not None and values["status"] is JobStatus.RUNNING
    assert values["live_status"]["round"] == 5 and values["live_status"]["seq"] == 5


async def test_concurrent_progress_keeps_the_newest(jobs_app: JobsApp) -> None:
    job_id, run_id = await new_job(jobs_app)
    events = [progress(job_id, run_id, seq, 3, round=seq) for seq in range(1, 41)]
    random.Random(7).shuffle(events)
    await asyncio.gather(*(jobs_app.handlers.apply_progress(e) for e in events))
    values = await row(jobs_app.sessions, job_id)
    assert values is not None and values["live_status"]["seq"] == 40 and values["live_status"]["round"] == 40


async def test_reporter_ahead_of_runner_completed_is_deferred_then_applied(
    jobs_app: JobsApp, object_store: ObjectStore
) -> None:
    job_id, run_id = await new_job(jobs_app)
    await upload_artifacts(object_store, job_id)
    await jobs_app.handlers.apply_progress(progress(job_id, run_id, 1, 3))
    with pytest.raises(DeferredEvent):
        await jobs_app.handlers.apply_reporter_completed(reporter_completed(job_id, run_id))
    with pytest.raises(DeferredEvent):
        await jobs_app.handlers.apply_reporter_failed(events_pb2.ReporterFailed(job_id=job_id, run_id=run_id))
    assert await jobs_app.handlers.apply_runner_completed(runner_completed(job_id, run_id)) is Outcome.APPLIED
    assert (
        await jobs_app.handlers.apply_reporter_completed(reporter_completed(job_id, run_id))
        is Outcome.APPLIED
    )
    values = await row(jobs_app.sessions, job_id)
    assert values is not None and values["status"] is JobStatus.COMPLETED


async def test_reporter_failure_fails_a_reporting_job(jobs_app: JobsApp, object_store: ObjectStore) -> None:
    job_id, run_id = await new_job(jobs_app)
    await jobs_app.handlers.apply_runner_completed(runner_completed(job_id, run_id))
    failed = events_pb2.ReporterFailed(job_id=job_id, run_id=run_id, reason="LLM refused")
    assert await jobs_app.handlers.apply_reporter_failed(failed) is Outcome.APPLIED
    values = await row(jobs_app.sessions, job_id)
    assert values is not None and values["status"] is JobStatus.FAILED
    assert values["error_message"] == "report generation failed: LLM refused"


async def test_sim_data_needs_all_ten_artifacts(jobs_app: JobsApp, object_store: ObjectStore) -> None:
    job_id, run_id = await new_job(jobs_app)
    await upload_artifacts(object_store, job_id, ARTIFACT_NAMES[:-1])
    await jobs_app.handlers.apply_runner_completed(runner_completed(job_id, run_id))
    values = await row(jobs_app.sessions, job_id)
    assert values is not None and values["status"] is JobStatus.REPORTING
    assert values["sim_data_available"] is False


# --- failures and superseded runs ----------------------------------------------------------------


async def test_transient_failures_redispatch_with_resume_until_the_budget_is_spent(
    jobs_app: JobsApp, dispatch_reader: Any
) -> None:
    job_id, run_1 = await new_job(jobs_app)
    await jobs_app.relay.flush()
    first = await dispatch_reader.take()
    assert first.run_id == run_1 and first.attempt == 1 and not first.resume
    await jobs_app.handlers.apply_progress(progress(job_id, run_1, 1, 3))
    runs = [run_1]
    for attempt in (2, 3):  # the budget is 2 re-dispatches
        failure = events_pb2.RunnerFailed(
            job_id=job_id, run_id=runs[-1], reason="LLM unreachable", kind=events_pb2.FAILURE_KIND_TRANSIENT
        )
        assert await jobs_app.handlers.apply_runner_failed(failure) is Outcome.APPLIED
        await jobs_app.relay.flush()
        dispatch = await dispatch_reader.take()
        values = await row(jobs_app.sessions, job_id)
        assert values is not None
        assert dispatch.resume and dispatch.attempt == attempt
        assert dispatch.run_id == values["workflow_run_id"] != runs[-1]
        assert dispatch.random_seed == first.random_seed and dispatch.dispatch_id == f"sim-{job_id}"
        assert values["retry_count"] == attempt - 1 and values["status"] is JobStatus.RUNNING
        assert values["resume_task_id"] == runs[-1]  # resumed from the failed attempt
        runs.append(dispatch.run_id)
    # The superseded attempt's late events change nothing.
    before = await row(jobs_app.sessions, job_id)
    for old in runs[:-1]:
        assert await jobs_app.handlers.apply_progress(progress(job_id, old, 99, 4)) is Outcome.IGNORED
        assert (
            await jobs_app.handlers.apply_runner_completed(runner_completed(job_id, old)) is Outcome.IGNORED
        )
    assert await row(jobs_app.sessions, job_id) == before
    final = events_pb2.RunnerFailed(
        job_id=job_id, run_id=runs[-1], reason="LLM unreachable", kind=events_pb2.FAILURE_KIND_TRANSIENT
    )
    assert await jobs_app.handlers.apply_runner_failed(final) is Outcome.APPLIED
    values = await row(jobs_app.sessions, job_id)
    assert values is not None and values["status"] is JobStatus.FAILED
    assert values["error_message"] == (
        "simulation failed after 3 attempts (retry budget of 2 spent): LLM unreachable"
    )
    await jobs_app.relay.flush()
    assert await dispatch_reader.nothing()


async def test_permanent_failure_fails_at_once(jobs_app: JobsApp) -> None:
    job_id, run_id = await new_job(jobs_app)
    failure = events_pb2.RunnerFailed(
        job_id=job_id, run_id=run_id, reason="bad config", kind=events_pb2.FAILURE_KIND_PERMANENT
    )
    assert await jobs_app.handlers.apply_runner_failed(failure) is Outcome.APPLIED
    values = await row(jobs_app.sessions, job_id)
    assert values is not None and values["status"] is JobStatus.FAILED
    assert values["error_message"] == "simulation failed: bad config" and values["retry_count"] == 0


# --- errors and deleted users ----------------------------------------------------------------------


async def test_error_events_are_recorded_once_and_pruned_after_30_days(jobs_app: JobsApp) -> None:
    event = events_pb2.ErrorCaptured(
        level="error", source="worker", service="reporter", message="boom\x00", traceback="tb",
        user_id="3", job_id=12, request_path="/x", error_id="e-1",
    )  # fmt: skip
    event.timestamp.FromDatetime(utcnow())
    assert await jobs_app.handlers.apply_error_captured(event, "error-e-1") is Outcome.APPLIED
    assert await jobs_app.handlers.apply_error_captured(event, "error-e-1") is Outcome.IGNORED
    async with jobs_app.sessions() as session:
        stored = (await session.scalars(select(ErrorEvent))).all()
    assert len(stored) == 1
    assert stored[0].message == "[reporter] boom" and stored[0].level == "ERROR" and stored[0].job_id == 12
    async with jobs_app.sessions() as session, session.begin():
        await session.execute(update(ErrorEvent).values(timestamp=utcnow() - timedelta(days=31)))
    report = await jobs_app.pruner.prune_once()
    assert report.error_events == 1
    async with jobs_app.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(ErrorEvent))).scalar_one() == 0


async def test_user_deleted_removes_their_jobs_and_artifacts(
    jobs_app: JobsApp, object_store: ObjectStore, event_bus: EventBus
) -> None:
    done_id, done_run = await new_job(jobs_app, user=1, seed=seed_text("done"))
    await upload_artifacts(object_store, done_id)
    await replay(jobs_app, successful_history(done_id, done_run))
    live_id, _ = await new_job(jobs_app, user=1, seed=seed_text("live"))
    await object_store.put_bytes(artifact_key(live_id, "checkpoint"), b"state")
    other_id, _ = await new_job(jobs_app, user=2, seed=seed_text("other"))
    await upload_artifacts(object_store, other_id)

    assert await jobs_app.handlers.apply_user_deleted(events_pb2.UserDeleted(user_id="1")) is Outcome.APPLIED
    assert await row(jobs_app.sessions, done_id) is None and await row(jobs_app.sessions, live_id) is None
    assert await object_store.list_keys(job_prefix(done_id)) == []
    assert await object_store.list_keys(job_prefix(live_id)) == []
    assert await row(jobs_app.sessions, other_id) is not None
    assert len(await object_store.list_keys(job_prefix(other_id))) == len(ARTIFACT_NAMES)
    # The live run was told to stop.
    await jobs_app.relay.flush()
    cancel = await last_cancel(event_bus, live_id)
    assert cancel.reason == "account deleted"
    assert await jobs_app.handlers.apply_user_deleted(events_pb2.UserDeleted(user_id="1")) is Outcome.IGNORED


# --- through NATS ----------------------------------------------------------------------------------


async def wait_for(predicate: Any, limit: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_consumers_apply_events_published_on_the_bus(
    jobs_app: JobsApp, event_bus: EventBus, object_store: ObjectStore
) -> None:
    job_id, run_id = await new_job(jobs_app)
    await upload_artifacts(object_store, job_id)
    for i, event in enumerate(successful_history(job_id, run_id)):
        subject = {
            events_pb2.RunnerProgress: subjects.runner_progress,
            events_pb2.RunnerCompleted: subjects.runner_completed,
            events_pb2.ReporterCompleted: subjects.reporter_completed,
        }[type(event)](job_id)
        await event_bus.publish(subject, event, msg_id=f"{run_id}-{i}")

    async def completed() -> bool:
        values = await row(jobs_app.sessions, job_id)
        return values is not None and values["status"] is JobStatus.COMPLETED

    await wait_for(completed)

    error = events_pb2.ErrorCaptured(source="gpu", message="cuda oom", error_id="gpu-1")
    await event_bus.publish(subjects.ERRORS_CAPTURED, error, msg_id="error-gpu-1")
    await event_bus.publish(subjects.USER_DELETED, events_pb2.UserDeleted(user_id="1"), msg_id="deleted-1")

    async def error_stored_and_user_gone() -> bool:
        async with jobs_app.sessions() as session:
            errors = (await session.execute(select(func.count()).select_from(ErrorEvent))).scalar_one()
            jobs = (await session.execute(select(func.count()).select_from(SimulationJob))).scalar_one()
        return errors == 1 and jobs == 0

    await wait_for(error_stored_and_user_gone)
