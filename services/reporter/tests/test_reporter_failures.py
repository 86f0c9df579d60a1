"""Permanent failures publish reporter.failed; transient ones are retried with backoff."""

from __future__ import annotations

import asyncio

from swarmcast.events.v1 import events_pb2

from services.common.bus import EventBus
from services.common.storage import ObjectStore, StorageError
from services.reporter.repository import ReportState, artifact_key, report_key
from services.reporter.tests.conftest import MakeReporter
from services.reporter.tests.support import (
    Collector,
    RunOutput,
    publish_completed,
    runner_completed,
    upload,
    wait_for,
)


class FlakyStore(ObjectStore):
    """Reads fail (as after the store's own retries) until `failures` reads have failed."""

    def __init__(self, store: ObjectStore, failures: int) -> None:
        super().__init__(store.client, store.bucket, region=store.region)
        self.failures = failures
        self.failed = 0

    async def get_bytes(self, key: str) -> bytes:
        if key.endswith("/posts.json") and self.failed < self.failures:
            self.failed += 1
            raise StorageError("S3 answered 503 Service Unavailable")
        return await super().get_bytes(key)


async def test_missing_artifacts_publish_reporter_failed(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    heuristic_result: RunOutput,
) -> None:
    reporter = await make_reporter()
    job_id = 301
    manifest = await upload(object_store, job_id, heuristic_result, skip=("posts.json", "trades.json"))
    await publish_completed(event_bus, runner_completed(job_id, heuristic_result, manifest, run_id="run-a"))

    await wait_for(lambda: bool(collector.for_job(job_id)[1]), what="reporter.failed")
    completed, failed = collector.for_job(job_id)
    assert not completed
    assert failed[0].kind == events_pb2.FAILURE_KIND_PERMANENT and failed[0].run_id == "run-a"
    assert "posts.json" in failed[0].reason and "trades.json" in failed[0].reason
    assert not await object_store.exists(report_key(job_id))
    status = await reporter.status(job_id)
    assert status.state is ReportState.FAILED and status.failure_kind == "permanent"
    assert "posts.json" in status.error_message

    # A duplicate of the same completion changes nothing: no second failure, no retry.
    await publish_completed(
        event_bus, runner_completed(job_id, heuristic_result, manifest, run_id="run-a"), "again"
    )
    await wait_for(lambda: reporter.stats.handled == 2, what="duplicate handled")
    await asyncio.sleep(0.3)
    assert len(collector.for_job(job_id)[1]) == 1 and reporter.stats.duplicates == 1


async def test_corrupt_artifact_publishes_reporter_failed(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    heuristic_result: RunOutput,
) -> None:
    await make_reporter()
    job_id = 302
    manifest = await upload(object_store, job_id, heuristic_result)
    await object_store.put_bytes(artifact_key(job_id, "market_curves.json"), b'{"rounds": 12, "markets": [')
    await publish_completed(event_bus, runner_completed(job_id, heuristic_result, manifest))
    await wait_for(lambda: bool(collector.for_job(job_id)[1]), what="reporter.failed")
    failed = collector.for_job(job_id)[1][0]
    assert failed.kind == events_pb2.FAILURE_KIND_PERMANENT
    assert "market_curves.json is not valid JSON" in failed.reason


async def test_transient_storage_failure_is_retried_with_backoff(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    heuristic_result: RunOutput,
) -> None:
    flaky = FlakyStore(object_store, failures=1)
    reporter = await make_reporter(store=flaky)
    job_id = 303
    manifest = await upload(object_store, job_id, heuristic_result)
    await publish_completed(event_bus, runner_completed(job_id, heuristic_result, manifest))
    await wait_for(
        lambda: bool(collector.for_job(job_id)[0]), within=20, what="reporter.completed after a retry"
    )
    assert flaky.failed == 1 and not collector.for_job(job_id)[1]
    status = await reporter.status(job_id)
    assert status.state is ReportState.DONE and status.attempts == 2


async def test_transient_failure_on_the_last_delivery_publishes_reporter_failed(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    heuristic_result: RunOutput,
) -> None:
    """Storage stays down: after report_max_deliver attempts the job is told, instead of hanging."""
    flaky = FlakyStore(object_store, failures=1_000)
    reporter = await make_reporter(store=flaky, report_max_deliver=2)
    job_id = 304
    manifest = await upload(object_store, job_id, heuristic_result)
    await publish_completed(event_bus, runner_completed(job_id, heuristic_result, manifest))
    await wait_for(lambda: bool(collector.for_job(job_id)[1]), within=20, what="reporter.failed")
    failed = collector.for_job(job_id)[1][0]
    assert failed.kind == events_pb2.FAILURE_KIND_TRANSIENT and "503" in failed.reason
    assert flaky.failed == 2
    status = await reporter.status(job_id)
    assert status.state is ReportState.FAILED and status.failure_kind == "transient"
