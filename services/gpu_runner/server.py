"""The GPU runner process: gRPC on the port of SWARMCAST_RUNNER_ADDR (50053); no database.

GetRunnerStatus, the dispatch consumer and the engine wiring arrive with the runner issue; until
then the generated base class answers UNIMPLEMENTED. Errors are captured with source "gpu".
A backend that must load a model first (vLLM) builds its spec with `ready_on_start=False` and
calls `server.set_serving(True)` once the LLM is ready, so health says NOT_SERVING until then.
"""

from __future__ import annotations

from swarmcast.runner.v1 import runner_pb2, runner_pb2_grpc

from services.common.config import Settings
from services.common.grpc_server import ServiceRuntime, ServiceSpec, run_service

SERVICE_NAME = runner_pb2.DESCRIPTOR.services_by_name["RunnerService"].full_name


class RunnerService(runner_pb2_grpc.RunnerServiceServicer):
    """swarmcast.runner.v1.RunnerService; RPCs not overridden here answer UNIMPLEMENTED."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime


async def build(settings: Settings) -> ServiceSpec:
    runtime = ServiceRuntime(settings, "gpu_runner", error_source="gpu")
    servicer = RunnerService(runtime)

    async def on_start(_server: object) -> None:
        await runtime.start()

    async def on_stop(_server: object) -> None:
        await runtime.close()

    return ServiceSpec(
        name="gpu_runner",
        service_names=(SERVICE_NAME,),
        add_servicers=lambda server: runner_pb2_grpc.add_RunnerServiceServicer_to_server(servicer, server),
        listen_addr=settings.listen_addr(settings.runner_addr),
        on_start=on_start,
        on_stop=on_stop,
        interceptors=runtime.interceptors(),
    )


def main() -> None:
    run_service("gpu_runner", build)


if __name__ == "__main__":
    main()
