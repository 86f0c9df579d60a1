"""Mutual TLS between the services (services/common/tls.py, grpc_server.py, clients.py).

Certificates come from services/cli/devcerts.py, generated per test session: one CA for the
deployment, a server and a client identity it signed, and an impostor CA with its own client.
A server started with TLS answers health SERVING to a client with a valid certificate and refuses
everyone else; plaintext is refused off loopback unless explicitly allowed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from pydantic import ValidationError

from services.cli import devcerts
from services.common import healthcheck
from services.common.clients import channel, insecure_channel
from services.common.config import Settings
from services.common.grpc_server import GrpcServer, ServiceSpec, apply_transport_settings
from services.common.tls import (
    InsecureTransportError,
    TlsConfigError,
    is_loopback_host,
    load_tls,
    split_host_port,
)
from tests.fixtures.settings import settings_for

SERVICE = "swarmcast.test.v1.MtlsProbe"  # a name for health; the server needs no real servicer


@dataclass(frozen=True)
class Identity:
    cert: Path
    key: Path
    ca: Path


def _write_identity(folder: Path, issued: devcerts.Issued, ca: devcerts.Issued) -> Identity:
    folder.mkdir(parents=True)
    ident = Identity(folder / "tls.crt", folder / "tls.key", folder / "ca.crt")
    ident.cert.write_bytes(issued.cert_pem)
    ident.key.write_bytes(issued.key_pem)
    ident.ca.write_bytes(ca.cert_pem)
    return ident


@dataclass(frozen=True)
class Pki:
    server: Identity  # SANs: auth, localhost, 127.0.0.1
    client: Identity  # signed by the same CA
    named_only: Identity  # SAN "jobs" only: dialling 127.0.0.1 needs tls_server_name
    impostor: Identity  # signed by another CA, trusting that CA


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    ca, other_ca = devcerts.make_ca("swarmcast test CA"), devcerts.make_ca("impostor CA")
    loopback = ["127.0.0.1", "::1"]
    return Pki(
        server=_write_identity(
            root / "server",
            devcerts.issue(ca, "auth", dns_names=["auth", "localhost"], ip_addresses=loopback),
            ca,
        ),
        client=_write_identity(root / "client", devcerts.issue(ca, "gateway", dns_names=["gateway"]), ca),
        named_only=_write_identity(root / "named", devcerts.issue(ca, "jobs", dns_names=["jobs"]), ca),
        impostor=_write_identity(
            root / "impostor",
            devcerts.issue(other_ca, "gateway", dns_names=["gateway"], ip_addresses=loopback),
            other_ca,
        ),
    )


def tls_settings(ident: Identity, **overrides: object) -> Settings:
    return settings_for(tls_cert=ident.cert, tls_key=ident.key, tls_ca=ident.ca, **overrides)


async def start_server(settings: Settings, *, listen: str = "127.0.0.1:0", **spec_kw: object) -> GrpcServer:
    spec = ServiceSpec(
        name="mtls-test",
        service_names=(SERVICE,),
        add_servicers=lambda _server: None,
        listen_addr=listen,
        grace_seconds=0.5,
        **spec_kw,  # type: ignore[arg-type]
    )
    server = GrpcServer(apply_transport_settings(spec, settings))
    await server.start()
    return server


@pytest_asyncio.fixture
async def tls_server(pki: Pki) -> AsyncIterator[GrpcServer]:
    server = await start_server(tls_settings(pki.server), health_listen_addr="127.0.0.1:0")
    yield server
    await server.stop(0)


async def health_code(ch: grpc.aio.Channel, service: str = "") -> grpc.StatusCode | str:
    """SERVING / NOT_SERVING as a string, or the status code the call failed with."""
    async with ch:
        try:
            response = await health_pb2_grpc.HealthStub(ch).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=5
            )
        except grpc.aio.AioRpcError as exc:
            return exc.code()
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


# --- the handshake ----------------------------------------------------------------------------


async def test_client_with_a_valid_certificate_sees_serving(tls_server: GrpcServer, pki: Pki) -> None:
    settings = tls_settings(pki.client)
    assert await health_code(channel(tls_server.address, settings)) == "SERVING"
    assert await health_code(channel(tls_server.address, settings), SERVICE) == "SERVING"
    # Reflection is served on the TLS port as well.
    async with channel(tls_server.address, settings) as ch:
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        responses = stub.ServerReflectionInfo(iter([request]))
        names = [s.name async for r in responses for s in r.list_services_response.service]
    assert SERVICE in names


async def test_client_without_a_certificate_is_refused(tls_server: GrpcServer, pki: Pki) -> None:
    # TLS that trusts the server, but presents no certificate of its own.
    no_cert = grpc.ssl_channel_credentials(root_certificates=pki.client.ca.read_bytes())
    refused = await health_code(grpc.aio.secure_channel(tls_server.address, no_cert))
    assert refused is grpc.StatusCode.UNAVAILABLE
    # Plaintext against the TLS port.
    assert await health_code(insecure_channel(tls_server.address)) is grpc.StatusCode.UNAVAILABLE


async def test_certificate_from_another_ca_is_refused(tls_server: GrpcServer, pki: Pki) -> None:
    # The impostor trusts its own CA, so it also rejects our server: both checks fail.
    impostor = tls_settings(pki.impostor)
    assert await health_code(channel(tls_server.address, impostor)) is grpc.StatusCode.UNAVAILABLE
    # An impostor certificate that *does* trust our server's CA: only the server's check refuses it.
    trusting = grpc.ssl_channel_credentials(
        root_certificates=pki.client.ca.read_bytes(),
        private_key=pki.impostor.key.read_bytes(),
        certificate_chain=pki.impostor.cert.read_bytes(),
    )
    refused = await health_code(grpc.aio.secure_channel(tls_server.address, trusting))
    assert refused is grpc.StatusCode.UNAVAILABLE


async def test_client_verifies_the_server_name(pki: Pki) -> None:
    # The server's certificate names only "jobs"; the client dials 127.0.0.1.
    server = await start_server(tls_settings(pki.named_only))
    try:
        plain = tls_settings(pki.client)
        assert await health_code(channel(server.address, plain)) is grpc.StatusCode.UNAVAILABLE
        named = tls_settings(pki.client, tls_server_name="jobs")
        assert await health_code(channel(server.address, named)) == "SERVING"
    finally:
        await server.stop(0)


async def test_health_only_port_is_plaintext_and_only_health(tls_server: GrpcServer) -> None:
    addr = f"127.0.0.1:{tls_server.health_port}"
    assert tls_server.health_port not in (0, tls_server.port)
    assert await health_code(insecure_channel(addr)) == "SERVING"
    async with insecure_channel(addr) as ch:
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            async for _ in stub.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            ):
                pass
    assert err.value.code() is grpc.StatusCode.UNIMPLEMENTED
    # It follows the server's health: NOT_SERVING while shutting down.
    await tls_server.set_serving(False)
    assert await health_code(insecure_channel(addr)) == "NOT_SERVING"


# --- plaintext only on loopback ---------------------------------------------------------------


async def test_plaintext_bind_off_loopback_is_refused_unless_allowed() -> None:
    with pytest.raises(InsecureTransportError, match="SWARMCAST_ALLOW_INSECURE"):
        await start_server(settings_for(), listen="0.0.0.0:0")
    server = await start_server(settings_for(allow_insecure=True), listen="0.0.0.0:0")
    try:
        assert await health_code(insecure_channel(f"127.0.0.1:{server.port}")) == "SERVING"
    finally:
        await server.stop(0)
    loopback = await start_server(settings_for(), listen="127.0.0.1:0")
    try:
        assert await health_code(channel(loopback.address, settings_for())) == "SERVING"
    finally:
        await loopback.stop(0)


async def test_plaintext_dial_off_loopback_is_refused_unless_allowed() -> None:
    with pytest.raises(InsecureTransportError):
        channel("auth:50051", settings_for())
    with pytest.raises(InsecureTransportError):
        channel("10.0.0.7:50051", settings_for())
    await channel("auth:50051", settings_for(allow_insecure=True)).close()
    await channel("[::1]:50051", settings_for()).close()


def test_address_parsing() -> None:
    assert split_host_port("[::1]:50051") == ("::1", "50051")
    assert split_host_port("dns:///auth.swarmcast.svc:50051") == ("auth.swarmcast.svc", "50051")
    assert split_host_port("127.0.0.1:0") == ("127.0.0.1", "0")
    assert all(is_loopback_host(h) for h in ("127.0.0.1", "127.8.9.1", "::1", "localhost"))
    assert not any(is_loopback_host(h) for h in ("0.0.0.0", "::", "10.0.0.1", "auth", "localhost.evil"))


# --- configuration ----------------------------------------------------------------------------


def test_partial_tls_configuration_is_an_error(pki: Pki) -> None:
    with pytest.raises(ValidationError, match="SWARMCAST_TLS_KEY"):
        settings_for(tls_cert=pki.client.cert, tls_ca=pki.client.ca)
    blank = Settings(tls_cert="", tls_key="", tls_ca="")  # unset variables passed through as empty
    assert not blank.tls_enabled and load_tls(blank) is None


def test_unusable_certificate_files_are_reported(pki: Pki, tmp_path: Path) -> None:
    wrong_key = settings_for(tls_cert=pki.client.cert, tls_key=pki.server.key, tls_ca=pki.client.ca)
    with pytest.raises(TlsConfigError, match="does not belong"):
        load_tls(wrong_key)
    missing = settings_for(tls_cert=tmp_path / "nope.crt", tls_key=pki.client.key, tls_ca=pki.client.ca)
    with pytest.raises(TlsConfigError, match=r"nope\.crt"):
        load_tls(missing)


def test_rotated_files_are_picked_up(pki: Pki, tmp_path: Path) -> None:
    ident = Identity(tmp_path / "tls.crt", tmp_path / "tls.key", tmp_path / "ca.crt")
    for src, dst in ((pki.client.cert, ident.cert), (pki.client.key, ident.key), (pki.client.ca, ident.ca)):
        dst.write_bytes(src.read_bytes())
    settings = tls_settings(ident)
    first = load_tls(settings)
    assert first is not None and load_tls(settings) is first  # cached while unchanged
    ident.cert.write_bytes(pki.impostor.cert.read_bytes())
    ident.key.write_bytes(pki.impostor.key.read_bytes())
    second = load_tls(settings)
    assert second is not None and second.certificate_chain == pki.impostor.cert.read_bytes()


# --- python -m services.common.healthcheck ----------------------------------------------------


async def test_healthcheck_command(tls_server: GrpcServer, pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    async def run(*argv: str) -> int:
        # The command runs its own event loop: keep it off this one.
        return await asyncio.to_thread(healthcheck.main, list(argv))

    for name, path in (("CERT", pki.client.cert), ("KEY", pki.client.key), ("CA", pki.client.ca)):
        monkeypatch.setenv(f"SWARMCAST_TLS_{name}", str(path))
    assert await run(tls_server.address) == 0
    assert await run(tls_server.address, "--service", SERVICE) == 0
    assert await run(tls_server.address, "--service", "no.such.Service") == 1
    assert await run(f"127.0.0.1:{tls_server.health_port}", "--plaintext") == 0
    for name in ("CERT", "KEY", "CA"):
        monkeypatch.delenv(f"SWARMCAST_TLS_{name}")
    assert await run(tls_server.address) == 1  # plaintext against the TLS port
    assert await run("auth:50051") == 2  # plaintext off loopback, not allowed
