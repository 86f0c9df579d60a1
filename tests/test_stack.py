"""The five processes, as `make up` starts them (through the `stack` fixture): health,
reflection, the gateway's health report, and that bad tokens never turn into INTERNAL."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from swarmcast.auth.v1 import auth_pb2
from swarmcast.jobs.v1 import jobs_pb2
from swarmcast.reporter.v1 import reporter_pb2
from swarmcast.runner.v1 import runner_pb2

from services.common.clients import auth_stub, bearer, jobs_stub, reporter_stub, runner_stub
from tests.fixtures.stack import RunningStack

SERVICES = {
    "auth": "swarmcast.auth.v1.AuthService",
    "jobs": "swarmcast.jobs.v1.JobsService",
    "gpu_runner": "swarmcast.runner.v1.RunnerService",
    "reporter": "swarmcast.reporter.v1.ReporterService",
}


def forged_token() -> str:
    """Well-formed EdDSA token, signed by a key auth never issued."""
    now = int(time.time())
    claims = {
        "sub": "1",
        "roles": ["operator"],
        "iss": "swarmcast-auth",
        "aud": "swarmcast",
        "iat": now,
        "exp": now + 300,
    }
    return jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "forged-kid"})


@pytest.mark.parametrize("name", list(SERVICES))
async def test_health_serving(stack: RunningStack, name: str) -> None:
    async with grpc.aio.insecure_channel(stack.grpc_addrs()[name]) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", SERVICES[name]):
            response = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert response.status == health_pb2.HealthCheckResponse.SERVING, (name, service)


@pytest.mark.parametrize("name", list(SERVICES))
async def test_reflection_lists_service(stack: RunningStack, name: str) -> None:
    async with grpc.aio.insecure_channel(stack.grpc_addrs()[name]) as channel:
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        listed: set[str] = set()
        async for response in reflection.ServerReflectionInfo(iter([request]), timeout=5):
            listed |= {s.name for s in response.list_services_response.service}
    assert SERVICES[name] in listed
    assert "grpc.health.v1.Health" in listed


def _get_json(url: str) -> tuple[int, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, json.loads(response.read())


def test_gateway_health_reports_dependencies(stack: RunningStack) -> None:
    status, body = _get_json(f"{stack.gateway_url}/api/health")
    assert status == 200
    # Public: component names and states only (addresses are for operators).
    assert set(body["components"]) == {
        "auth", "jobs", "runner", "reporter", "postgres", "nats", "object_storage"
    }  # fmt: skip
    for name, state in body["components"].items():
        assert state == "ok", (name, body)
    assert "dependencies" not in body
    assert body["status"] == "ok"


def test_gateway_serves_openapi(stack: RunningStack) -> None:
    status, body = _get_json(f"{stack.gateway_url}/api/openapi.json")
    assert status == 200
    assert "/api/health" in body["paths"]


CALLS = {
    "auth": lambda ch, md: auth_stub(ch).GetUser(auth_pb2.GetUserRequest(), metadata=md, timeout=10),
    "jobs": lambda ch, md: jobs_stub(ch).ListJobs(jobs_pb2.ListJobsRequest(), metadata=md, timeout=10),
    "gpu_runner": lambda ch, md: runner_stub(ch).GetRunnerStatus(
        runner_pb2.GetRunnerStatusRequest(), metadata=md, timeout=10
    ),
    "reporter": lambda ch, md: reporter_stub(ch).RegenerateReport(
        reporter_pb2.RegenerateReportRequest(job_id=1), metadata=md, timeout=10
    ),
}


@pytest.mark.parametrize("name", list(SERVICES))
@pytest.mark.parametrize("token", ["unknown-token", "forged"])
async def test_bad_tokens_are_unauthenticated_never_internal(
    stack: RunningStack, name: str, token: str
) -> None:
    value = forged_token() if token == "forged" else token
    async with grpc.aio.insecure_channel(stack.grpc_addrs()[name]) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await CALLS[name](channel, bearer(value))
    assert err.value.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.UNIMPLEMENTED), (
        name,
        err.value.code(),
        err.value.details(),
    )
    # Tokens travel in metadata, which is never logged.
    for log in stack.run_dir.glob("logs/*.log"):
        assert value not in log.read_text(errors="replace"), log
