"""The auth service process: gRPC on the port of SWARMCAST_AUTH_ADDR (50051), schema `auth`.

The account and token RPCs arrive with the auth issue; until then the generated base class
answers each of them UNIMPLEMENTED, while the process already is a complete swarmcast server
(health, reflection, request logging, identity, error capture, event bus, database engine).
"""

from __future__ import annotations

from swarmcast.auth.v1 import auth_pb2, auth_pb2_grpc

from services.common.config import Settings
from services.common.grpc_server import ServiceRuntime, ServiceSpec, run_service

SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name


class AuthService(auth_pb2_grpc.AuthServiceServicer):
    """swarmcast.auth.v1.AuthService; RPCs not overridden here answer UNIMPLEMENTED."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime


async def build(settings: Settings) -> ServiceSpec:
    # Auth checks access tokens like every other service: through GetSigningKeys (its own).
    runtime = ServiceRuntime(settings, "auth", database=True)
    servicer = AuthService(runtime)

    async def on_start(_server: object) -> None:
        await runtime.start()

    async def on_stop(_server: object) -> None:
        await runtime.close()

    return ServiceSpec(
        name="auth",
        service_names=(SERVICE_NAME,),
        add_servicers=lambda server: auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, server),
        listen_addr=settings.listen_addr(settings.auth_addr),
        on_start=on_start,
        on_stop=on_stop,
        interceptors=runtime.interceptors(),
    )


def main() -> None:
    run_service("auth", build)


if __name__ == "__main__":
    main()
