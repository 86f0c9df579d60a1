"""The reporter process: gRPC on the port of SWARMCAST_REPORTER_ADDR (50054); no database.

RegenerateReport, GetReportStatus and the `runner.completed` consumer arrive with the reporter
issue; until then the generated base class answers UNIMPLEMENTED.
"""

from __future__ import annotations

from swarmcast.reporter.v1 import reporter_pb2, reporter_pb2_grpc

from services.common.config import Settings
from services.common.grpc_server import ServiceRuntime, ServiceSpec, run_service

SERVICE_NAME = reporter_pb2.DESCRIPTOR.services_by_name["ReporterService"].full_name


class ReporterService(reporter_pb2_grpc.ReporterServiceServicer):
    """swarmcast.reporter.v1.ReporterService; RPCs not overridden here answer UNIMPLEMENTED."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime


async def build(settings: Settings) -> ServiceSpec:
    runtime = ServiceRuntime(settings, "reporter")
    servicer = ReporterService(runtime)

    async def on_start(_server: object) -> None:
        await runtime.start()

    async def on_stop(_server: object) -> None:
        await runtime.close()

    return ServiceSpec(
        name="reporter",
        service_names=(SERVICE_NAME,),
        add_servicers=lambda server: reporter_pb2_grpc.add_ReporterServiceServicer_to_server(
            servicer, server
        ),
        listen_addr=settings.listen_addr(settings.reporter_addr),
        on_start=on_start,
        on_stop=on_stop,
        interceptors=runtime.interceptors(),
    )


def main() -> None:
    run_service("reporter", build)


if __name__ == "__main__":
    main()
