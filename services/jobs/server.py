"""The jobs service process: gRPC on the port of SWARMCAST_JOBS_ADDR (50052), schema `jobs`.

The job RPCs, the state machine and the event consumers arrive with the jobs issue; until then
the generated base class answers each of them UNIMPLEMENTED, while the process already is a
complete swarmcast server
(health, reflection, request logging, identity, error capture, event bus, database engine).
"""

from __future__ import annotations

from swarmcast.jobs.v1 import jobs_pb2, jobs_pb2_grpc

from services.common.config import Settings
from services.common.grpc_server import ServiceRuntime, ServiceSpec, run_service

SERVICE_NAME = jobs_pb2.DESCRIPTOR.services_by_name["JobsService"].full_name


class JobsService(jobs_pb2_grpc.JobsServiceServicer):
    """swarmcast.jobs.v1.JobsService; RPCs not overridden here answer UNIMPLEMENTED."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime


async def build(settings: Settings) -> ServiceSpec:
    runtime = ServiceRuntime(settings, "jobs", database=True)
    servicer = JobsService(runtime)

    async def on_start(_server: object) -> None:
        await runtime.start()

    async def on_stop(_server: object) -> None:
        await runtime.close()

    return ServiceSpec(
        name="jobs",
        service_names=(SERVICE_NAME,),
        add_servicers=lambda server: jobs_pb2_grpc.add_JobsServiceServicer_to_server(servicer, server),
        listen_addr=settings.listen_addr(settings.jobs_addr),
        on_start=on_start,
        on_stop=on_stop,
        interceptors=runtime.interceptors(),
    )


def main() -> None:
    run_service("jobs", build)


if __name__ == "__main__":
    main()
