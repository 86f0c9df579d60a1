"""The jobs service process: gRPC on the port of SWARMCAST_JOBS_ADDR (50052), schema `jobs`.

The shared bootstrap (`services.common.grpc_server`) gives health, reflection, request logging,
identity, error capture, the event bus and the database engine; `on_start` then builds the
`JobsApp` (event consumers, outbox relay, stale-job detector, pruner, watch fan-out) on them and
binds the servicer to it. Domain RPCs are held UNAVAILABLE by the startup gate until then.

With `SWARMCAST_JOBS_WORKERS` > 1 this process only supervises that many worker processes, each a
full jobs replica on the same port (SO_REUSEPORT; `grpc_server.run_workers`).
"""

from __future__ import annotations

from swarmcast.jobs.v1 import jobs_pb2, jobs_pb2_grpc

from services.common.config import Settings, get_settings
from services.common.grpc_server import (
    GrpcServer,
    ServiceRuntime,
    ServiceSpec,
    run_service,
    run_workers,
    worker_index,
)
from services.common.storage import ObjectStore
from services.jobs.app import JobsApp
from services.jobs.servicer import JobsServicer
from services.jobs.settings import JobsSettings, get_jobs_settings

SERVICE_NAME = jobs_pb2.DESCRIPTOR.services_by_name["JobsService"].full_name


class JobsService(JobsServicer):
    """swarmcast.jobs.v1.JobsService, registered before start-up and bound to the app in on_start.

    gRPC needs the servicer when the server is built, while what it works with (bus, database)
    is opened in on_start; the startup gate guarantees no RPC reaches it before `bind`.
    """

    def __init__(self) -> None:  # dependencies arrive with bind()
        self.app: JobsApp | None = None

    def bind(self, app: JobsApp) -> None:
        super().__init__(app.core, app.hub, app.sessions)
        self.app = app


async def build(settings: Settings, jobs_settings: JobsSettings | None = None) -> ServiceSpec:
    jobs_settings = jobs_settings or get_jobs_settings()
    runtime = ServiceRuntime(settings, "jobs", database=True, storage=True)
    servicer = JobsService()

    async def on_start(server: GrpcServer) -> None:
        await runtime.start()
        assert runtime.bus is not None and runtime.sessions is not None
        app = JobsApp(
            jobs_settings,
            sessions=runtime.sessions,
            bus=runtime.bus,
            store=ObjectStore.from_settings(settings),
            revocations=runtime.revocations,
        )
        await app.start()
        servicer.bind(app)
        server.state["jobs_app"] = app

    async def on_stop(server: GrpcServer) -> None:
        app = server.state.pop("jobs_app", None)
        if app is not None:
            await app.stop()
        await runtime.close()

    return ServiceSpec(
        name="jobs",
        service_names=(SERVICE_NAME,),
        add_servicers=lambda server: jobs_pb2_grpc.add_JobsServiceServicer_to_server(servicer, server),
        listen_addr=settings.listen_addr(settings.jobs_addr),
        on_start=on_start,
        on_stop=on_stop,
        interceptors=runtime.interceptors(),
        dependencies=runtime.dependencies,
    )


def main() -> None:
    workers = get_jobs_settings().jobs_workers
    if workers > 1 and worker_index() is None:
        settings = get_settings()
        run_workers(
            "jobs",
            "services.jobs",
            settings.listen_addr(settings.jobs_addr),
            workers,
            addr_env="SWARMCAST_JOBS_ADDR",
            settings=settings,
        )
    else:
        run_service("jobs", build)


if __name__ == "__main__":
    main()
