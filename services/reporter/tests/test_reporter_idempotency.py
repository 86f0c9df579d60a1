"""Duplicate and late runner.completed events: one report, one reporter.completed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from services.common import subjects
from services.common.bus import EventBus
from services.common.storage import ObjectStore
from services.reporter.repository import ReportState, ReportStatus, RunSource, report_key
from services.reporter.tests.conftest import MakeReporter
from services.reporter.tests.support import (
    Collector,
    RunOutput,
    publish_completed,
    runner_completed,
    stream_messages,
    upload,
    wait_for,
)


async def test_duplicate_delivery_produces_one_report(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    heuristic_result: RunOutput,
) -> None:
    reporter = await make_reporter()
    job_id = 201
    manifest = await upload(object_store, job_id, heuristic_result)
    event = runner_completed(job_id, heuristic_result, manifest, run_id="run-a")

    # The same event under three message ids: JetStream stores each (a runner that republished
    # after its dedupe window), so the reporter really receives it three times.
    for n in range(3):
        await publish_completed(event_bus, event, msg_id=f"runner-completed-{job_id}-run-a-{n}")
    # A fourth publish with a repeated id is dropped by JetStream itself.
    await publish_completed(event_bus, event, msg_id=f"runner-completed-{job_id}-run-a-0")

    await wait_for(lambda: reporter.stats.handled == 3, what="three deliveries handled")
    await asyncio.sleep(0.5)  # room for a (wrong) second publish to arrive
    assert reporter.stats.written == 1
    assert reporter.stats.duplicates == 2
    completed, failed = collector.for_job(job_id)
    assert len(completed) == 1 and not failed
    stored = await stream_messages(event_bus, subjects.reporter_completed(job_id))
    assert len(stored) == 1
    status = await reporter.status(job_id)
    assert status.state is ReportState.DONE and status.attempts == 1


async def test_duplicates_across_replicas_produce_one_report(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    heuristic_result: RunOutput,
) -> None:
    """Two reporter processes share the durable consumer; the status in S3 is what they agree on."""
    first = await make_reporter()
    second = await make_reporter()
    job_id = 202
    manifest = await upload(object_store, job_id, heuristic_result)
    event = runner_completed(job_id, heuristic_result, manifest, run_id="run-a")
    for n in range(4):
        await publish_completed(event_bus, event, msg_id=f"dup-{n}")

        def delivered(expected: int = n + 1) -> bool:
            return first.stats.handled + second.stats.handled == expected

        await wait_for(delivered, what=f"delivery {n}")
    assert first.stats.written + second.stats.written == 1
    assert first.stats.duplicates + second.stats.duplicates == 3
    await asyncio.sleep(0.3)
    assert len(collector.for_job(job_id)[0]) == 1
    assert len(await stream_messages(event_bus, subjects.reporter_completed(job_id))) == 1


async def test_a_new_run_is_reported_but_a_late_older_one_is_not(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    heuristic_result: RunOutput,
) -> None:
    """A re-dispatched job completes as run-b; the superseded run-a finishing later changes nothing."""
    reporter = await make_reporter()
    job_id = 203
    manifest = await upload(object_store, job_id, heuristic_result)
    newer = runner_completed(job_id, heuristic_result, manifest, run_id="run-b", completed_at=2_000)
    older = runner_completed(job_id, heuristic_result, manifest, run_id="run-a", completed_at=1_000)

    await publish_completed(event_bus, newer)
    await wait_for(lambda: len(collector.for_job(job_id)[0]) == 1, what="report for run-b")
    body_before = await object_store.get_bytes(report_key(job_id))

    await publish_completed(event_bus, older)
    await wait_for(lambda: reporter.stats.handled == 2, what="late run-a handled")
    await asyncio.sleep(0.3)
    assert reporter.stats.written == 1 and reporter.stats.duplicates == 1
    assert [e.run_id for e in collector.for_job(job_id)[0]] == ["run-b"]
    assert await object_store.get_bytes(report_key(job_id)) == body_before
    assert (await reporter.status(job_id)).run_id == "run-b"


async def test_a_later_run_of_a_reported_job_gets_its_own_report(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    heuristic_result: RunOutput,
) -> None:
    """The jobs service only accepts a reporter.completed whose run_id is the job's current run."""
    reporter = await make_reporter()
    job_id = 204
    manifest = await upload(object_store, job_id, heuristic_result)
    await publish_completed(event_bus, runner_completed(job_id, heuristic_result, manifest, run_id="run-a"))
    await wait_for(lambda: len(collector.for_job(job_id)[0]) == 1, what="report for run-a")
    await publish_completed(
        event_bus,
        runner_completed(job_id, heuristic_result, manifest, run_id="run-b", completed_at=1_800_000_000),
    )
    await wait_for(lambda: len(collector.for_job(job_id)[0]) == 2, what="report for run-b")
    assert [e.run_id for e in collector.for_job(job_id)[0]] == ["run-a", "run-b"]
    assert reporter.stats.written == 2


async def test_a_crash_before_done_redoes_the_work_under_the_same_message_id(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    heuristic_result: RunOutput,
) -> None:
    """Published but the status never reached DONE (the process died): the redelivery republishes with
    the same Nats-Msg-Id, so the jobs service still sees one reporter.completed."""
    reporter = await make_reporter()
    job_id = 205
    manifest = await upload(object_store, job_id, heuristic_result)
    event = runner_completed(job_id, heuristic_result, manifest, run_id="run-a")
    await publish_completed(event_bus, event, msg_id="first")
    await wait_for(lambda: len(collector.for_job(job_id)[0]) == 1, what="first report")

    # Roll the status back to WRITING, as if the process died between publish and DONE (its last
    # heartbeat long ago, so its claim is stale).
    status = await reporter.statuses.load(job_id)
    assert status is not None
    status.state = ReportState.WRITING
    status.updated_at = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    await reporter.statuses.save(status)

    await publish_completed(event_bus, event, msg_id="redelivered")
    await wait_for(lambda: reporter.stats.written == 2, what="the redo")
    await asyncio.sleep(0.5)
    assert len(await stream_messages(event_bus, subjects.reporter_completed(job_id))) == 1
    status = await reporter.status(job_id)
    assert status.state is ReportState.DONE and status.attempts == 2


async def test_a_duplicate_of_a_report_being_written_elsewhere_is_dropped(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    heuristic_result: RunOutput,
) -> None:
    """Another replica holds a live claim (WRITING, recent heartbeat) for this run: drop the duplicate.
    Once the claim is stale (that writer died), a delivery takes it over."""
    reporter = await make_reporter()
    job_id = 206
    manifest = await upload(object_store, job_id, heuristic_result)
    event = runner_completed(job_id, heuristic_result, manifest, run_id="run-a")
    claim = ReportStatus(
        job_id=job_id,
        state=ReportState.WRITING,
        run_id="run-a",
        attempts=1,
        revision=1,
        claim=10**9,  # a delivery some other replica is handling
        source=RunSource.from_event(event),
        updated_at=datetime.now(UTC).isoformat(),
    )
    await reporter.statuses.save(claim)
    await publish_completed(event_bus, event, msg_id="duplicate")
    await wait_for(lambda: reporter.stats.handled == 1, what="duplicate handled")
    assert reporter.stats.duplicates == 1 and reporter.stats.written == 0

    claim.updated_at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    await reporter.statuses.save(claim)
    await publish_completed(event_bus, event, msg_id="after-the-writer-died")
    await wait_for(lambda: bool(collector.for_job(job_id)[0]), what="report after a stale claim")
    assert reporter.stats.written == 1
