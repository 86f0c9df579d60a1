"""The reporter process over gRPC: the real `build()` on a free port, tokens from a test Ed25519 key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from swarmcast.reporter.v1 import reporter_pb2, reporter_pb2_grpc

from services.common.bus import EventBus
from services.common.config import Settings
from services.common.grpc_server import GrpcServer
from services.common.identity import SigningKeyCache
from services.common.storage import ObjectStore
from services.reporter.repository import report_key
from services.reporter.server import SERVICE_NAME, build
from services.reporter.service import ReportService
from services.reporter.settings import ReporterSettings
from services.reporter.tests.support import (
    AUDIENCE,
    ISSUER,
    Collector,
    RunOutput,
    SigningKeys,
    publish_completed,
    runner_completed,
    upload,
    wait_for,
)

OPERATOR = ("operator",)


@dataclass
class Reporter:
    server: GrpcServer
    stub: reporter_pb2_grpc.ReporterServiceStub
    channel: grpc.aio.Channel
    keys: SigningKeys

    @property
    def service(self) -> ReportService:
        return self.server.state["report_service"]


@pytest_asyncio.fixture
async def reporter(shared_settings: Settings, reporter_settings: ReporterSettings) -> AsyncIterator[Reporter]:
    keys = SigningKeys()
    cache = SigningKeyCache(fetch=keys.fetch, issuer=ISSUER, audience=AUDIENCE)
    server = GrpcServer(await build(shared_settings, reporter_settings, keys=cache))
    await server.start()
    channel = grpc.aio.insecure_channel(server.address)
    try:
        yield Reporter(server, reporter_pb2_grpc.ReporterServiceStub(channel), channel, keys)
    finally:
        await channel.close()
        await server.stop(1.0)


async def report_job(reporter: Reporter, bus: EventBus, store: ObjectStore, collector: Collector,
                     result: RunOutput, job_id: int) -> None:  # fmt: skip
    manifest = await upload(store, job_id, result)
    await publish_completed(bus, runner_completed(job_id, result, manifest, run_id="run-a"))
    await wait_for(lambda: bool(collector.for_job(job_id)[0]), what="first report")


def operator_metadata(reporter: Reporter) -> tuple[tuple[str, str], ...]:
    return reporter.keys.metadata(99, roles=("operator",))


async def test_health_and_status_of_an_unknown_job(reporter: Reporter) -> None:
    health = health_pb2_grpc.HealthStub(reporter.channel)
    answer = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME))
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
    status = await reporter.stub.GetReportStatus(
        reporter_pb2.GetReportStatusRequest(job_id=424242), metadata=operator_metadata(reporter)
    )
    assert status.state == reporter_pb2.REPORT_STATE_NOT_STARTED and status.job_id == 424242


async def test_get_report_status_needs_an_operator_and_a_valid_id(reporter: Reporter) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await reporter.stub.GetReportStatus(reporter_pb2.GetReportStatusRequest(job_id=1))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # An ordinary user must not learn anything about jobs (theirs or others'): the reporter
    # cannot tell owners apart.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await reporter.stub.GetReportStatus(
            reporter_pb2.GetReportStatusRequest(job_id=1), metadata=reporter.keys.metadata(5)
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await reporter.stub.GetReportStatus(
            reporter_pb2.GetReportStatusRequest(job_id=0), metadata=operator_metadata(reporter)
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_status_is_done_with_the_writer(
    reporter: Reporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    heuristic_result: RunOutput,
) -> None:
    await report_job(reporter, event_bus, object_store, collector, heuristic_result, 501)
    status = await reporter.stub.GetReportStatus(
        reporter_pb2.GetReportStatusRequest(job_id=501), metadata=operator_metadata(reporter)
    )
    assert status.state == reporter_pb2.REPORT_STATE_DONE
    assert status.writer == "deterministic" and status.report_key == report_key(501)
    assert status.run_id == "run-a" and status.revision == 1 and status.attempts == 1
    assert status.HasField("updated_at") and status.updated_at.seconds > 0
    assert not status.error_message


async def test_regenerate_requires_the_operator_role(
    reporter: Reporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    heuristic_result: RunOutput,
) -> None:
    await report_job(reporter, event_bus, object_store, collector, heuristic_result, 502)
    request = reporter_pb2.RegenerateReportRequest(job_id=502)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await reporter.stub.RegenerateReport(request)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await reporter.stub.RegenerateReport(request, metadata=reporter.keys.metadata(7))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    forged = SigningKeys().metadata(7, roles=OPERATOR)  # signed by a key the reporter does not trust
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await reporter.stub.RegenerateReport(request, metadata=forged)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert reporter.service.stats.regenerated == 0
    assert len(collector.for_job(502)[0]) == 1


async def test_regenerate_rewrites_the_report(
    reporter: Reporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    heuristic_result: RunOutput,
) -> None:
    await report_job(reporter, event_bus, object_store, collector, heuristic_result, 503)
    # Spoil the stored report: the rewrite must replace it.
    await object_store.put_bytes(report_key(503), b"stale", "text/markdown")

    response = await reporter.stub.RegenerateReport(
        reporter_pb2.RegenerateReportRequest(job_id=503), metadata=reporter.keys.metadata(1, roles=OPERATOR)
    )
    assert response.state == reporter_pb2.REPORT_STATE_DONE
    assert response.writer == "deterministic" and response.report_key == report_key(503)
    assert response.run_id == "run-a" and response.revision == 2

    rewritten = (await object_store.get_bytes(report_key(503))).decode()
    assert rewritten.startswith("# Forecast report:")
    await wait_for(lambda: len(collector.for_job(503)[0]) == 2, what="the regenerated reporter.completed")
    first, second = collector.for_job(503)[0]
    assert not first.regenerated and second.regenerated
    assert (first.revision, second.revision) == (1, 2)
    assert second.report_markdown == rewritten
    assert json.loads(second.result_structured)["revision"] == 2

    status = await reporter.stub.GetReportStatus(
        reporter_pb2.GetReportStatusRequest(job_id=503), metadata=operator_metadata(reporter)
    )
    assert status.state == reporter_pb2.REPORT_STATE_DONE and status.writer == "deterministic"
    assert status.revision == 2 and status.attempts == 2
    # A duplicate runner.completed after the rewrite still changes nothing.
    await publish_completed(
        event_bus,
        runner_completed(503, heuristic_result, {}, run_id="run-a"),
        msg_id="late-duplicate",
    )
    await wait_for(lambda: reporter.service.stats.duplicates == 1, what="duplicate ignored")
    assert len(collector.for_job(503)[0]) == 2


async def test_regenerate_without_a_finished_run(reporter: Reporter) -> None:
    operator = reporter.keys.metadata(1, roles=OPERATOR)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await reporter.stub.RegenerateReport(
            reporter_pb2.RegenerateReportRequest(job_id=9999), metadata=operator
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await reporter.stub.RegenerateReport(
            reporter_pb2.RegenerateReportRequest(job_id=-3), metadata=operator
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_regenerate_after_a_permanent_failure(
    reporter: Reporter,
    event_bus: EventBus,
    object_store: ObjectStore,
    collector: Collector,
    heuristic_result: RunOutput,
) -> None:
    """An operator restores the missing artifact and regenerates: the report comes out."""
    manifest = await upload(object_store, 504, heuristic_result, skip=("profiles.json",))
    await publish_completed(event_bus, runner_completed(504, heuristic_result, manifest, run_id="run-a"))
    await wait_for(lambda: bool(collector.for_job(504)[1]), what="reporter.failed")
    operator = reporter.keys.metadata(1, roles=OPERATOR)
    response = await reporter.stub.RegenerateReport(
        reporter_pb2.RegenerateReportRequest(job_id=504), metadata=operator
    )
    assert response.state == reporter_pb2.REPORT_STATE_FAILED and "profiles.json" in response.error_message
    assert len(collector.for_job(504)[1]) == 1  # a failed rewrite is the operator's answer, not the job's

    await object_store.put_bytes(manifest["profiles.json"], heuristic_result.artifacts["profiles.json"])
    response = await reporter.stub.RegenerateReport(
        reporter_pb2.RegenerateReportRequest(job_id=504, deterministic=True), metadata=operator
    )
    assert response.state == reporter_pb2.REPORT_STATE_DONE
    await wait_for(lambda: bool(collector.for_job(504)[0]), what="reporter.completed")
    assert collector.for_job(504)[0][0].regenerated
