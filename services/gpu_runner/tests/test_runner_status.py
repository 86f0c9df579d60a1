"""The runner's gRPC face: health follows the LLM backend, GetRunnerStatus reports the work
(to a signed-in caller; the current job only to operators)."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from swarmcast.events.v1 import events_pb2
from swarmcast.runner.v1 import runner_pb2, runner_pb2_grpc

from services.common.bus import EventBus
from services.common.clients import check_health
from services.common.grpc_server import GrpcServer
from services.common.identity import SigningKeyCache
from services.common.storage import ObjectStore
from services.gpu_runner.server import SERVICE_NAME, build
from services.gpu_runner.settings import RunnerSettings, SearchSettings
from services.gpu_runner.tests.runner_helpers import EventRecorder, free_port, make_dispatch, publish_dispatch
from services.reporter.tests.support import AUDIENCE, ISSUER, SigningKeys
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fixtures.settings import settings_for

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def wait_health(channel: grpc.aio.Channel, want: str, within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while (status := await check_health(channel, SERVICE_NAME)) != want:
        assert asyncio.get_running_loop().time() < deadline, f"health stayed {status}, wanted {want}"
        await asyncio.sleep(0.1)


async def test_health_waits_for_the_llm_and_status_reports_the_running_job(
    nats_url: str,
    nats_prefix: str,
    s3_endpoint: str,
    object_store: ObjectStore,
    event_bus: EventBus,
    recorder: EventRecorder,
) -> None:
    llm_port = free_port()
    runner_addr = f"127.0.0.1:{free_port()}"
    settings = settings_for(
        nats_url=nats_url,
        nats_prefix=nats_prefix,
        s3_endpoint=s3_endpoint,
        s3_bucket=object_store.bucket,
        runner_addr=runner_addr,
        auth_addr=f"127.0.0.1:{free_port()}",
        runner_tiers="small,medium",
    )
    runner_settings = settings_for(
        RunnerSettings,
        instance_id="status-runner",
        llm_probe_interval_seconds=0.2,
        progress_interval_seconds=0.1,
        llm_backend="openai",
        llm_url=f"http://127.0.0.1:{llm_port}/v1",
        llm_model="served-model",
        gpu_provider="test-cloud",
    )
    keys = SigningKeys()
    cache = SigningKeyCache(fetch=keys.fetch, issuer=ISSUER, audience=AUDIENCE)
    server = GrpcServer(
        await build(settings, runner_settings=runner_settings, search_settings=SearchSettings(), keys=cache)
    )
    operator = keys.metadata(1, roles=["operator"])
    user = keys.metadata(2)
    llm: FakeOpenAIServer | None = None
    try:
        await server.start()
        async with grpc.aio.insecure_channel(runner_addr) as channel:
            stub = runner_pb2_grpc.RunnerServiceStub(channel)
            # The endpoint is down: the process is up, answers status, but is not SERVING.
            await asyncio.sleep(0.5)
            assert await check_health(channel, SERVICE_NAME) == "NOT_SERVING"
            assert await check_health(channel) == "NOT_SERVING"
            with pytest.raises(grpc.aio.AioRpcError) as anonymous:
                await stub.GetRunnerStatus(runner_pb2.GetRunnerStatusRequest())
            assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
            idle = await stub.GetRunnerStatus(runner_pb2.GetRunnerStatusRequest(), metadata=operator)
            assert idle.instance_id == "status-runner" and idle.backend == "openai"
            assert idle.model_id == "served-model" and not idle.llm_ready
            assert list(idle.tiers) == ["small", "medium"] and idle.concurrency == 1
            assert idle.current_job_id == 0 and idle.jobs_completed == 0 and idle.started_at.seconds > 0
            assert idle.gpu == ""  # no nvidia-smi on this machine

            # The LLM server comes up: health turns SERVING by itself.
            llm = FakeOpenAIServer(concurrency=8, latency_ms=100)
            await llm.start(port=llm_port)
            await wait_health(channel, "SERVING")
            assert await check_health(channel) == "SERVING"

            dispatch = await make_dispatch(object_store, agents=8, rounds=12)
            await publish_dispatch(event_bus, dispatch)
            seen: dict[str, Any] = {}

            async def watch_status() -> None:
                while True:
                    status = await stub.GetRunnerStatus(
                        runner_pb2.GetRunnerStatusRequest(), metadata=operator
                    )
                    if status.current_job_id == dispatch.job_id and status.current_round >= 3:
                        seen["busy"] = status
                        # The same moment for an ordinary user: working, but not on which job.
                        other = await stub.GetRunnerStatus(runner_pb2.GetRunnerStatusRequest(), metadata=user)
                        if other.jobs_completed == 0:
                            seen["user_view"] = other
                    if status.jobs_completed == 1:
                        seen["done"] = status
                        return
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(watch_status(), 60)
            busy, done = seen["busy"], seen["done"]
            assert seen["user_view"].current_job_id == 0 and seen["user_view"].instance_id == "status-runner"
            assert busy.llm_ready and busy.rounds_per_second > 0 and busy.model_id == "served-model"
            assert done.current_job_id == 0
            completed = await recorder.outcome(dispatch.job_id, within=10)
            assert isinstance(completed, events_pb2.RunnerCompleted)
            assert completed.model_id == "served-model" and completed.backend == "openai"

            # The LLM server goes away again: health follows.
            await llm.stop()
            llm = None
            await wait_health(channel, "NOT_SERVING")
    finally:
        await server.stop(grace=1.0)
        if llm is not None:
            await llm.stop()
