"""Fixtures for the reporter tests: real NATS JetStream and S3 (the shared harness), a heuristic run.

- `heuristic_result` (session): a 30-agent × 12-round heuristic run of the engine, in process.
- `whatif` (session): a heuristic run with scheduled news and a what-if branch of it (support.py).
- `shared_settings`: the shared Settings on this test's NATS prefix and bucket (for `build`).
- `reporter_settings`: ReporterSettings with no LLM and quick retries.
- `make_reporter`: `await make_reporter(store=None, **settings_overrides)` starts a ReportService (a
  "replica") on its own bus connection; all are stopped after the test.
- `collector`: what the reporter publishes (reporter.completed / reporter.failed), as jobs sees it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from services.common.bus import EventBus
from services.common.config import Settings
from services.common.storage import ObjectStore
from services.reporter.service import ReportService
from services.reporter.settings import ReporterSettings
from services.reporter.tests.support import (
    AUDIENCE,
    ISSUER,
    Collector,
    WhatIfRuns,
    collect,
    heuristic_run,
    whatif_runs,
)
from tests.fixtures.nats import EventBusFactory
from tests.fixtures.settings import settings_for

if TYPE_CHECKING:
    from services.gpu_runner.engine import SimulationResult

MakeReporter = Callable[..., Awaitable[ReportService]]


@pytest_asyncio.fixture(scope="session")
async def heuristic_result() -> SimulationResult:
    return await heuristic_run()


@pytest_asyncio.fixture(scope="session")
async def whatif() -> WhatIfRuns:
    return await whatif_runs()


@pytest.fixture
def shared_settings(nats_url: str, nats_prefix: str, s3_endpoint: str, object_store: ObjectStore) -> Settings:
    return settings_for(
        nats_url=nats_url,
        nats_prefix=nats_prefix,
        s3_endpoint=s3_endpoint,
        s3_bucket=object_store.bucket,
        token_issuer=ISSUER,
        token_audience=AUDIENCE,
        reporter_addr="127.0.0.1:0",  # a free port: never the default port a dev stack may hold
    )


@pytest.fixture
def reporter_settings() -> ReporterSettings:
    return settings_for(ReporterSettings, report_llm_url="", report_model="", report_max_deliver=4)


@pytest_asyncio.fixture
async def make_reporter(
    reporter_settings: ReporterSettings, event_bus_factory: EventBusFactory, object_store: ObjectStore
) -> AsyncIterator[MakeReporter]:
    started: list[ReportService] = []

    async def make(*, store: ObjectStore | None = None, **overrides: Any) -> ReportService:
        settings = reporter_settings.model_copy(update=overrides)
        bus: EventBus = await event_bus_factory(name=f"reporter-{len(started)}")
        service = ReportService(settings, bus=bus, store=store or object_store)
        await service.start()
        started.append(service)
        return service

    yield make
    for service in started:
        await service.stop(grace=5)


@pytest_asyncio.fixture
async def collector(event_bus: EventBus) -> Collector:
    return await collect(event_bus)
