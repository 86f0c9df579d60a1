"""The reporter process: gRPC on the port of SWARMCAST_REPORTER_ADDR (50054); no database.

The shared bootstrap gives health, reflection, request logging, identity, error capture and the
event bus; `on_start` builds the `ReportService`, starts its `runner.completed` consumer
(`handlers.py`) and binds the servicer (`servicer.py`).
"""

from __future__ import annotations

from swarmcast.reporter.v1 import reporter_pb2_grpc

from services.common.config import Settings
from services.common.grpc_server import GrpcServer, ServiceRuntime, ServiceSpec, run_service
from services.common.identity import TokenAuthenticator
from services.common.storage import ObjectStore
from services.reporter.service import ReportService
from services.reporter.servicer import SERVICE_NAME, ReporterServicer
from services.reporter.settings import ReporterSettings, get_reporter_settings


async def build(
    settings: Settings,
    reporter_settings: ReporterSettings | None = None,
    *,
    keys: TokenAuthenticator | None = None,
) -> ServiceSpec:
    """The reporter's spec; `keys` replaces the auth-backed signing-key cache (tests)."""
    reporter_settings = reporter_settings or get_reporter_settings()
    runtime = ServiceRuntime(settings, "reporter", error_source="worker", storage=True)
    servicer = ReporterServicer()

    async def on_start(server: GrpcServer) -> None:
        await runtime.start()
        assert runtime.bus is not None
        store = ObjectStore.from_settings(settings)
        await store.ensure_bucket()
        service = ReportService(reporter_settings, bus=runtime.bus, store=store, errors=runtime.errors)
        await service.start()
        servicer.bind(service)
        server.state["report_service"] = service

    async def on_stop(server: GrpcServer) -> None:
        service = server.state.pop("report_service", None)
        if service is not None:
            await service.stop()
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
        interceptors=runtime.interceptors(keys=keys),
        dependencies=runtime.dependencies,
    )


def main() -> None:
    run_service("reporter", build)


if __name__ == "__main__":
    main()
