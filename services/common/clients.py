"""gRPC channels and typed stubs for calling the swarmcast services.

Channels share the servers' 8 MiB message limits and send keepalive pings so a connection that
died silently (a restarted pod, a dropped NAT entry) is noticed instead of hanging a call.

`channel(addr, settings)` is the one to use between services: mutual TLS when
`SWARMCAST_TLS_*` is configured, plaintext otherwise, and plaintext only to loopback unless
`SWARMCAST_ALLOW_INSECURE=true` (see `services/common/tls.py`). `insecure_channel(addr)` is always
plaintext and checks nothing; it stays for callers that mean exactly that (tests on loopback).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from swarmcast.auth.v1 import auth_pb2_grpc
from swarmcast.jobs.v1 import jobs_pb2_grpc
from swarmcast.reporter.v1 import reporter_pb2_grpc
from swarmcast.runner.v1 import runner_pb2_grpc

from services.common.config import Settings
from services.common.tls import check_plaintext_allowed, load_tls

# The same limit on both sides: 8 MiB is far above any message we send (large payloads such as
# artifacts travel through object storage), yet bounds what a bad peer can make us buffer.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024

Metadata = tuple[tuple[str, str], ...]


def channel_options(max_message_bytes: int = MAX_MESSAGE_BYTES) -> list[tuple[str, Any]]:
    return [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
        # Reconnect quickly after a service restart (the default backoff grows to 2 minutes).
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 2_000),
    ]


def insecure_channel(
    addr: str,
    *,
    interceptors: Sequence[grpc.aio.ClientInterceptor] | None = None,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
) -> grpc.aio.Channel:
    """An asyncio channel to `addr` (host:port) with swarmcast's limits and keepalives."""
    return grpc.aio.insecure_channel(
        addr, options=channel_options(max_message_bytes), interceptors=interceptors
    )


def channel(
    addr: str,
    settings: Settings,
    *,
    interceptors: Sequence[grpc.aio.ClientInterceptor] | None = None,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
) -> grpc.aio.Channel:
    """An asyncio channel to `addr` secured as `settings` say (see the module docstring).

    Raises `tls.InsecureTransportError` for plaintext to a non-loopback address without
    `allow_insecure`, and `tls.TlsConfigError` when the configured certificate files are unusable.
    """
    tls = load_tls(settings)
    if tls is None:
        check_plaintext_allowed(addr, allow_insecure=settings.allow_insecure, action="dial")
        return insecure_channel(addr, interceptors=interceptors, max_message_bytes=max_message_bytes)
    return grpc.aio.secure_channel(
        addr,
        tls.channel_credentials(),
        options=[*channel_options(max_message_bytes), *tls.channel_options()],
        interceptors=interceptors,
    )


def bearer(access_token: str) -> Metadata:
    """Call metadata carrying an access token: `stub.GetJob(req, metadata=bearer(token))`."""
    return (("authorization", f"Bearer {access_token}"),)


def auth_stub(channel: grpc.aio.Channel) -> auth_pb2_grpc.AuthServiceStub:
    return auth_pb2_grpc.AuthServiceStub(channel)


def jobs_stub(channel: grpc.aio.Channel) -> jobs_pb2_grpc.JobsServiceStub:
    return jobs_pb2_grpc.JobsServiceStub(channel)


def runner_stub(channel: grpc.aio.Channel) -> runner_pb2_grpc.RunnerServiceStub:
    return runner_pb2_grpc.RunnerServiceStub(channel)


def reporter_stub(channel: grpc.aio.Channel) -> reporter_pb2_grpc.ReporterServiceStub:
    return reporter_pb2_grpc.ReporterServiceStub(channel)


def health_stub(channel: grpc.aio.Channel) -> health_pb2_grpc.HealthStub:
    return health_pb2_grpc.HealthStub(channel)


async def check_health(channel: grpc.aio.Channel, service: str = "", *, rpc_timeout: float = 2.0) -> str:
    """The serving status name ("SERVING", "NOT_SERVING", ...) or "UNREACHABLE"."""
    try:
        response = await health_stub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=rpc_timeout
        )
    except grpc.aio.AioRpcError as exc:
        if exc.code() is grpc.StatusCode.NOT_FOUND:
            return "SERVICE_UNKNOWN"
        return "UNREACHABLE"
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


class ServiceClients:
    """One lazily opened channel per service, with typed stubs; `await close()` when done.

    Create it inside a running event loop (grpc.aio channels bind to the loop).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._channels: dict[str, grpc.aio.Channel] = {}

    def channel(self, addr: str) -> grpc.aio.Channel:
        ch = self._channels.get(addr)
        if ch is None:
            # The module-level channel(): TLS or plaintext as the settings say.
            ch = self._channels[addr] = channel(addr, self.settings)
        return ch

    @property
    def auth(self) -> auth_pb2_grpc.AuthServiceStub:
        return auth_stub(self.channel(self.settings.auth_addr))

    @property
    def jobs(self) -> jobs_pb2_grpc.JobsServiceStub:
        return jobs_stub(self.channel(self.settings.jobs_addr))

    @property
    def runner(self) -> runner_pb2_grpc.RunnerServiceStub:
        return runner_stub(self.channel(self.settings.runner_addr))

    @property
    def reporter(self) -> reporter_pb2_grpc.ReporterServiceStub:
        return reporter_stub(self.channel(self.settings.reporter_addr))

    async def close(self) -> None:
        channels, self._channels = list(self._channels.values()), {}
        for ch in channels:
            await ch.close()
