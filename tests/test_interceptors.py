"""The gRPC bootstrap and interceptors, in process: identity, error capture, domain errors,
health/readiness, message limits. A real EventBus (test prefix) receives `errors.captured`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from grpc_health.v1 import health_pb2, health_pb2_grpc
from swarmcast.auth.v1 import auth_pb2
from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2, jobs_pb2_grpc

from services.common import subjects
from services.common.bus import EventBus, EventMeta
from services.common.clients import bearer, insecure_channel, jobs_stub
from services.common.errors import InvalidArgument, NotFound, ResourceExhausted
from services.common.grpc_server import GrpcServer, ServiceSpec
from services.common.identity import SigningKeyCache, get_identity, require_identity, require_operator
from services.common.interceptors import ErrorReporter, standard_interceptors
from services.common.status import RETRY_AFTER_METADATA, field_violations

SERVICE = "swarmcast.jobs.v1.JobsService"
KEY = Ed25519PrivateKey.generate()


def token(roles: list[str] | None = None, kid: str = "k1", key: Ed25519PrivateKey = KEY) -> str:
    now = int(time.time())
    claims = {
        "sub": "7",
        "email": "u@example.com",
        "roles": roles or [],
        "iss": "swarmcast-auth",
        "aud": "swarmcast",
        "iat": now,
        "exp": now + 60,
    }
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})


async def fetch_keys() -> auth_pb2.GetSigningKeysResponse:
    pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return auth_pb2.GetSigningKeysResponse(
        keys=[auth_pb2.SigningKey(kid="k1", algorithm="EdDSA", public_key_pem=pem.decode())]
    )


class Jobs(jobs_pb2_grpc.JobsServiceServicer):
    """Handlers that exercise each path through the interceptors."""

    async def GetJob(self, request: jobs_pb2.GetJobRequest, context: Any) -> jobs_pb2.GetJobResponse:
        raise RuntimeError("database exploded; password=hunter2")

    async def ListJobs(self, request: jobs_pb2.ListJobsRequest, context: Any) -> jobs_pb2.ListJobsResponse:
        identity = require_identity()
        assert get_identity() == identity
        return jobs_pb2.ListJobsResponse(total=int(identity.user_id))

    async def ListRoutes(self, request: Any, context: Any) -> Any:
        require_operator()
        return jobs_pb2.ListRoutesResponse()

    async def CreateJob(self, request: jobs_pb2.CreateJobRequest, context: Any) -> Any:
        if not request.goal:
            raise InvalidArgument("goal must not be empty", fields={"goal": "required"})
        raise ResourceExhausted("slow down", retry_after_seconds=2.5)

    async def WatchJob(self, request: jobs_pb2.WatchJobRequest, context: Any) -> AsyncIterator[Any]:
        identity = require_identity()
        yield jobs_pb2.WatchJobResponse(job=jobs_pb2.Job(id=int(identity.user_id)))
        if request.job_id == 404:
            raise NotFound("job 404 was deleted")
        raise ValueError("stream broke")


@pytest.fixture
async def served(event_bus: EventBus) -> AsyncIterator[tuple[GrpcServer, ErrorReporter]]:
    errors = ErrorReporter("jobs", "api", event_bus)
    keys = SigningKeyCache(fetch=fetch_keys, issuer="swarmcast-auth", audience="swarmcast")
    spec = ServiceSpec(
        name="jobs",
        service_names=(SERVICE,),
        add_servicers=lambda s: jobs_pb2_grpc.add_JobsServiceServicer_to_server(Jobs(), s),
        listen_addr="127.0.0.1:0",
        interceptors=standard_interceptors("jobs", keys=keys, errors=errors),
        grace_seconds=1.0,
    )
    server = GrpcServer(spec)
    await server.start()
    yield server, errors
    await server.stop()


@pytest.fixture
async def stub(served: tuple[GrpcServer, ErrorReporter]) -> AsyncIterator[jobs_pb2_grpc.JobsServiceStub]:
    async with insecure_channel(served[0].address) as channel:
        yield jobs_stub(channel)


async def test_identity_from_bearer_token(stub: jobs_pb2_grpc.JobsServiceStub) -> None:
    response = await stub.ListJobs(jobs_pb2.ListJobsRequest(), metadata=bearer(token()))
    assert response.total == 7


@pytest.mark.parametrize(
    "metadata",
    [
        None,  # missing: the handler's require_identity rejects it
        bearer("garbage"),
        bearer(token(key=Ed25519PrivateKey.generate())),  # forged: right kid, wrong key
        bearer(token(kid="unknown")),
        (("authorization", "Basic dXNlcjpwYXNz"),),
    ],
)
async def test_bad_or_missing_token_is_unauthenticated(
    stub: jobs_pb2_grpc.JobsServiceStub, metadata: Any
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ListJobs(jobs_pb2.ListJobsRequest(), metadata=metadata)
    assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_operator_rpc_needs_operator_role(stub: jobs_pb2_grpc.JobsServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ListRoutes(jobs_pb2.ListRoutesRequest(), metadata=bearer(token()))
    assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED
    await stub.ListRoutes(jobs_pb2.ListRoutesRequest(), metadata=bearer(token(["operator"])))


async def test_public_method_ignores_bad_token(stub: jobs_pb2_grpc.JobsServiceStub) -> None:
    # GetSharedJob is public: a stale token must not turn it into UNAUTHENTICATED.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetSharedJob(jobs_pb2.GetSharedJobRequest(), metadata=bearer("stale"))
    assert err.value.code() is grpc.StatusCode.UNIMPLEMENTED


async def test_unimplemented_stays_unimplemented(stub: jobs_pb2_grpc.JobsServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.DeleteJob(jobs_pb2.DeleteJobRequest(job_id=1), metadata=bearer(token()))
    assert err.value.code() is grpc.StatusCode.UNIMPLEMENTED


async def test_unhandled_error_is_internal_with_error_id_and_published(
    stub: jobs_pb2_grpc.JobsServiceStub, event_bus: EventBus
) -> None:
    received: asyncio.Queue[events_pb2.ErrorCaptured] = asyncio.Queue()

    async def on_error(event: events_pb2.ErrorCaptured, meta: EventMeta) -> None:
        await received.put(event)

    await event_bus.subscribe(
        subjects.ERRORS_CAPTURED, events_pb2.ErrorCaptured, on_error, durable="test-errors"
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetJob(jobs_pb2.GetJobRequest(job_id=99), metadata=bearer(token()))
    assert err.value.code() is grpc.StatusCode.INTERNAL
    details = err.value.details() or ""
    assert "hunter2" not in details and "exploded" not in details  # nothing internal leaks
    event = await asyncio.wait_for(received.get(), 10)
    assert event.error_id in details
    assert event.source == "api"
    assert event.service == "jobs"
    assert event.user_id == "7"
    assert event.job_id == 99
    assert event.request_path == "/swarmcast.jobs.v1.JobsService/GetJob"
    assert "RuntimeError" in event.message
    assert "Traceback" in event.traceback


async def test_streaming_error_after_messages(stub: jobs_pb2_grpc.JobsServiceStub) -> None:
    seen = []
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for msg in stub.WatchJob(jobs_pb2.WatchJobRequest(job_id=1), metadata=bearer(token())):
            seen.append(msg.job.id)
    assert seen == [7]
    assert err.value.code() is grpc.StatusCode.INTERNAL
    assert "error id" in (err.value.details() or "")


async def test_streaming_domain_error_after_messages(stub: jobs_pb2_grpc.JobsServiceStub) -> None:
    seen = []
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for msg in stub.WatchJob(jobs_pb2.WatchJobRequest(job_id=404), metadata=bearer(token())):
            seen.append(msg.job.id)
    assert seen == [7]
    assert err.value.code() is grpc.StatusCode.NOT_FOUND
    assert err.value.details() == "job 404 was deleted"


async def test_streaming_requires_identity(stub: jobs_pb2_grpc.JobsServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for _ in stub.WatchJob(jobs_pb2.WatchJobRequest(job_id=1)):
            pass
    assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_invalid_argument_carries_field_violations(stub: jobs_pb2_grpc.JobsServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.CreateJob(jobs_pb2.CreateJobRequest(), metadata=bearer(token()))
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details() == "goal must not be empty"
    assert field_violations(err.value) == {"goal": "required"}


async def test_resource_exhausted_carries_retry_after(stub: jobs_pb2_grpc.JobsServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.CreateJob(jobs_pb2.CreateJobRequest(goal="g"), metadata=bearer(token()))
    assert err.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert dict(err.value.trailing_metadata() or ())[RETRY_AFTER_METADATA] == "3"


async def test_message_size_limit(served: tuple[GrpcServer, ErrorReporter]) -> None:
    # A client without our limits sends 9 MiB; the server refuses it (8 MiB).
    async with grpc.aio.insecure_channel(served[0].address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await jobs_stub(channel).CreateJob(jobs_pb2.CreateJobRequest(seed_text="x" * (9 << 20)))
    assert err.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_health_follows_startup_and_set_serving() -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def on_start(_server: GrpcServer) -> None:
        entered.set()
        await release.wait()

    spec = ServiceSpec(
        name="jobs",
        service_names=(SERVICE,),
        add_servicers=lambda s: jobs_pb2_grpc.add_JobsServiceServicer_to_server(Jobs(), s),
        listen_addr="127.0.0.1:0",
        on_start=on_start,
        grace_seconds=0.5,
    )
    server = GrpcServer(spec)
    starting = asyncio.create_task(server.start())
    await entered.wait()  # listening, on_start still running
    async with insecure_channel(server.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)

        async def status(service: str = "") -> int:
            return (await health.Check(health_pb2.HealthCheckRequest(service=service))).status

        assert await status() == health_pb2.HealthCheckResponse.NOT_SERVING
        # Domain RPCs wait for on_start: UNAVAILABLE, not a half-initialised handler.
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await jobs_stub(channel).ListJobs(jobs_pb2.ListJobsRequest())
        assert err.value.code() is grpc.StatusCode.UNAVAILABLE
        release.set()
        await starting
        assert await status() == health_pb2.HealthCheckResponse.SERVING
        assert await status(SERVICE) == health_pb2.HealthCheckResponse.SERVING
        await server.set_serving(False)
        assert await status() == health_pb2.HealthCheckResponse.NOT_SERVING
        await server.set_serving(True)
    await server.stop()


async def test_taken_port_fails_loudly(served: tuple[GrpcServer, ErrorReporter]) -> None:
    spec = ServiceSpec(
        name="dup",
        service_names=(SERVICE,),
        add_servicers=lambda s: jobs_pb2_grpc.add_JobsServiceServicer_to_server(Jobs(), s),
        listen_addr=served[0].address,
    )
    with pytest.raises(RuntimeError, match="bind"):
        await GrpcServer(spec).start()
