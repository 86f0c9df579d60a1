"""Fixtures for the runner tests: real NATS JetStream and S3, runners in this process.

- `runner_factory`: ``await start(instance="r1", *, backend="heuristic", tiers="small",
  concurrency=1, llm_url="", llm_model="", **runner_settings)`` starts a `Runner` on its own NATS
  connection (like a separate process) on this test's prefix; all are stopped at teardown.
- `recorder`: an `EventRecorder` of every runner.* event on this test's prefix.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio

from services.common.bus import EventBus
from services.common.storage import ObjectStore
from services.gpu_runner.handlers import Runner
from services.gpu_runner.settings import RunnerSettings, SearchSettings
from services.gpu_runner.tests.runner_helpers import EventRecorder
from tests.fixtures.settings import settings_for

RunnerFactory = Callable[..., Awaitable[Runner]]

FAST: dict[str, Any] = {
    "ack_wait_seconds": 5.0,
    "heartbeat_seconds": 1.0,
    "progress_interval_seconds": 0.1,
    "llm_probe_interval_seconds": 0.5,
    "llm_ready_timeout_seconds": 5.0,
    "shutdown_grace_seconds": 2.0,
}


@pytest_asyncio.fixture
async def runner_factory(
    nats_url: str, nats_prefix: str, s3_endpoint: str, object_store: ObjectStore, event_bus_factory: Any
) -> AsyncIterator[RunnerFactory]:
    runners: list[Runner] = []

    async def start(
        instance: str = "r1",
        *,
        backend: str = "heuristic",
        tiers: str = "small",
        concurrency: int = 1,
        llm_url: str = "",
        llm_model: str = "",
        search_url: str = "",
        **runner_settings: Any,
    ) -> Runner:
        settings = settings_for(
            nats_url=nats_url,
            nats_prefix=nats_prefix,
            s3_endpoint=s3_endpoint,
            s3_bucket=object_store.bucket,
            runner_tiers=tiers,
        )
        own = settings_for(
            RunnerSettings,
            instance_id=instance,
            concurrency=concurrency,
            llm_backend=backend,
            llm_url=llm_url,
            llm_model=llm_model,
            llm_concurrency=8,
            gpu_provider="test-cloud",
            gpu_hourly_usd=3.6,
            **{**FAST, **runner_settings},
        )
        bus: EventBus = await event_bus_factory(name=f"runner-{instance}")
        runner = Runner(
            settings,
            bus,
            runner_settings=own,
            search_settings=SearchSettings(url=search_url, timeout_seconds=3.0),
            store=object_store if backend == "vllm" else None,  # pre-staged weights
        )
        await runner.start()
        runners.append(runner)
        return runner

    yield start
    for runner in runners:
        await runner.stop()


@pytest_asyncio.fixture
async def recorder(event_bus: EventBus) -> EventRecorder:
    rec = EventRecorder()
    await rec.attach(event_bus)
    return rec
