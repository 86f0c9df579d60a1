"""runner.completed -> report.md in S3 + reporter.completed on NATS, end to end on real servers."""

from __future__ import annotations

import json

import pytest

from services.common.bus import EventBus
from services.common.storage import ObjectStore
from services.reporter.repository import ReportState, report_key, status_key
from services.reporter.tests.conftest import MakeReporter
from services.reporter.tests.support import (
    SECTIONS,
    Collector,
    RunOutput,
    artifact_ids,
    cited,
    forecast_probabilities,
    is_real_sentence,
    publish_completed,
    runner_completed,
    upload,
    verdict_probabilities,
    wait_for,
)


async def test_runner_completed_produces_the_report(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    heuristic_result: RunOutput,
) -> None:
    reporter = await make_reporter()
    job_id = 101
    manifest = await upload(object_store, job_id, heuristic_result)
    await publish_completed(event_bus, runner_completed(job_id, heuristic_result, manifest, run_id="run-a"))

    await wait_for(lambda: bool(collector.for_job(job_id)[0]), what="reporter.completed")
    event = collector.for_job(job_id)[0][0]
    assert event.run_id == "run-a" and event.writer == "deterministic" and not event.regenerated
    assert event.revision == 1 and event.report_key == report_key(job_id)

    # report.md in object storage is what the event carries.
    stored = (await object_store.get_bytes(report_key(job_id))).decode()
    assert stored == event.report_markdown
    assert [line[3:] for line in stored.splitlines() if line.startswith("## ")] == list(SECTIONS)

    posts, trades = artifact_ids(heuristic_result)
    cited_posts, cited_trades = cited(stored)
    assert cited_posts and cited_posts <= posts
    assert cited_trades and cited_trades <= trades

    prices = forecast_probabilities(heuristic_result)
    shown = verdict_probabilities(stored)
    assert set(shown) == set(prices)
    for market_id, price in prices.items():
        assert shown[market_id] == pytest.approx(price, abs=0.0006)

    assert len(event.key_insight) <= 200 and is_real_sentence(event.key_insight)
    structured = json.loads(event.result_structured)
    assert structured["probabilities"]["markets"] == prices
    assert structured["run_id"] == "run-a" and structured["key_insight"] == event.key_insight
    assert "heuristic" in stored.lower()

    status = await reporter.status(job_id)
    assert status.state is ReportState.DONE and status.writer == "deterministic"
    assert status.report_key == report_key(job_id) and status.revision == 1 and status.attempts == 1
    assert await object_store.exists(status_key(job_id))
    assert reporter.stats.written == 1 and reporter.stats.failed == 0


async def test_artifacts_are_read_from_the_bucket_in_the_manifest(
    make_reporter: MakeReporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    heuristic_result: RunOutput,
) -> None:
    """The runner's manifest names keys (not necessarily the default layout) and the bucket."""
    await make_reporter()
    job_id = 102
    manifest = {}
    for name, data in heuristic_result.artifacts.items():
        key = f"elsewhere/{job_id}/{name}"
        await object_store.put_bytes(key, data)
        manifest[name] = key
    event = runner_completed(job_id, heuristic_result, manifest, bucket=object_store.bucket)
    await publish_completed(event_bus, event)
    await wait_for(lambda: bool(collector.for_job(job_id)[0]), what="reporter.completed")
    assert await object_store.exists(report_key(job_id))
