"""The GPU runner process: gRPC on the port of SWARMCAST_RUNNER_ADDR (50053); no database.

`on_start` connects the bus and starts the `Runner` (dispatch and cancel consumers, the engine
thread, backend readiness). Health stays NOT_SERVING until the LLM backend is ready (at once for
the heuristic backend; when the endpoint answers for `openai`; once the model is loaded for
`vllm` and `llamacpp`) and follows it afterwards. `llamacpp` loads its model before the runner
takes work: a model that cannot load ends the process with one line saying why. On SIGTERM the
bootstrap calls `on_stop`: the runner stops taking work and finishes or releases its job before
the bus closes. Errors are captured with source "gpu".
"""

from __future__ import annotations

import logging
from typing import Any

from swarmcast.runner.v1 import runner_pb2, runner_pb2_grpc

from services.common.config import Settings
from services.common.grpc_server import GrpcServer, ServiceRuntime, ServiceSpec, run_service
from services.common.identity import TokenAuthenticator
from services.common.storage import ObjectStore
from services.gpu_runner.backends import IN_PROCESS
from services.gpu_runner.handlers import Runner
from services.gpu_runner.servicer import RunnerStatusService, gpu_name
from services.gpu_runner.settings import RunnerSettings, SearchSettings, get_runner_settings

SERVICE_NAME = runner_pb2.DESCRIPTOR.services_by_name["RunnerService"].full_name


async def build(
    settings: Settings,
    *,
    runner_settings: RunnerSettings | None = None,
    search_settings: SearchSettings | None = None,
    keys: TokenAuthenticator | None = None,
) -> ServiceSpec:
    """The runner's spec; `keys` replaces the auth-backed signing-key cache (tests)."""
    # After configure_logging: a presigned checkpoint PUT per round would log a line per round.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    runner_settings = runner_settings or get_runner_settings()
    # Object storage is probed only where the runner reads it itself (see `store` below).
    in_process = runner_settings.llm_backend.lower() in IN_PROCESS
    runtime = ServiceRuntime(settings, "gpu_runner", error_source="gpu", storage=in_process)
    state: dict[str, Any] = {}
    servicer = RunnerStatusService(lambda: state.get("runner"))

    async def on_start(server: GrpcServer) -> None:
        await runtime.start()
        assert runtime.bus is not None

        async def on_ready(ready: bool) -> None:
            await server.set_serving(ready)

        runner = Runner(
            settings,
            runtime.bus,
            runner_settings=runner_settings,
            search_settings=search_settings,
            errors=runtime.errors,
            # Only the in-process backends read object storage with credentials (pre-staged
            # weights); job data moves through the dispatch's presigned URLs.
            store=ObjectStore.from_settings(settings) if in_process else None,
            on_ready=on_ready,
            gpu_name=await gpu_name(),
        )
        state["runner"] = server.state["runner"] = runner
        await runner.start()

    async def on_stop(_server: GrpcServer) -> None:
        runner: Runner | None = state.get("runner")
        if runner is not None:
            await runner.stop()
        await runtime.close()

    return ServiceSpec(
        name="gpu_runner",
        service_names=(SERVICE_NAME,),
        add_servicers=lambda server: runner_pb2_grpc.add_RunnerServiceServicer_to_server(servicer, server),
        listen_addr=settings.listen_addr(settings.runner_addr),
        on_start=on_start,
        on_stop=on_stop,
        interceptors=runtime.interceptors(keys=keys),
        ready_on_start=False,
        dependencies=runtime.dependencies,
    )


def main() -> None:
    run_service("gpu_runner", build)


if __name__ == "__main__":
    main()
