"""What health and status tell whom, and share tokens at rest (issue 17, items 8 and 9).

- `/api/health` shows everyone the overall status and per-component ok/down names only; service
  addresses, NATS/S3 endpoints and probe details are for an operator's bearer token.
- `GetRunnerStatus` needs a signed-in caller; which job the runner works on is shown to operators
  only.
- Share tokens are stored hashed: after CreateShareLink the jobs.simulation_jobs.share_token
  column holds the token's SHA-256, not the token; the link works, and once revoked it is 404.

One private stack for the module (bench/harness.py: its own database, NATS prefix, moto_server,
the four services as real processes on free ports, heuristic backend); the gateway runs
in-process (its ASGI app) against them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import grpc
import httpx
import pytest
import pytest_asyncio
from swarmcast.auth.v1 import auth_pb2
from swarmcast.jobs.v1 import jobs_pb2
from swarmcast.runner.v1 import runner_pb2

from bench.harness import (
    PASSWORD,
    Infra,
    Metadata,
    PrivateStack,
    create_request,
    evidence_seed,
    wait_terminal,
)
from services.cli.stack import settings_from_env
from services.common.clients import auth_stub, bearer, insecure_channel, jobs_stub, runner_stub
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from tests.fixtures.db import asyncpg_dsn

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(300)]

OPERATOR = f"ops-{secrets.token_hex(4)}@example.test"
LONG_TIER = "large"  # made long in the private database, so the runner is busy while we ask


@pytest.fixture(scope="module")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with Infra(tmp_path_factory.mktemp("health-infra")) as value:
        yield value


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PrivateStack]:
    work = tmp_path_factory.mktemp("health-stack")
    value = PrivateStack(infra.env(work / "run"), work / "logs")
    try:
        await value.launch("auth", SWARMCAST_OPERATOR_EMAILS=OPERATOR)
        await value.launch("jobs", "reporter", "gpu_runner")
        yield value
    finally:
        await asyncio.to_thread(value.stop_all)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def gateway(stack: PrivateStack) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_from_env(stack.env), GatewaySettings())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield client


async def register(stack: PrivateStack, email: str) -> str:
    async with insecure_channel(stack.addr("auth")) as ch:
        reply = await auth_stub(ch).Register(
            auth_pb2.RegisterRequest(email=email, password=PASSWORD), timeout=15
        )
    return reply.access_token


def internal_addresses(stack: PrivateStack) -> list[str]:
    """Every internal address a health answer could leak: service host:port, NATS, S3, database."""
    env = stack.env
    found = [env[k] for k in ("SWARMCAST_AUTH_ADDR", "SWARMCAST_JOBS_ADDR", "SWARMCAST_RUNNER_ADDR")]
    found += [env["SWARMCAST_REPORTER_ADDR"], env["SWARMCAST_NATS_URL"], env["SWARMCAST_S3_ENDPOINT"]]
    found += [env["SWARMCAST_DATABASE_URL"]]
    return found


# --- /api/health ---------------------------------------------------------------------------------


async def test_anonymous_and_ordinary_users_see_component_names_only(
    stack: PrivateStack, gateway: httpx.AsyncClient
) -> None:
    user = await register(stack, f"user-{secrets.token_hex(4)}@example.test")
    for headers in ({}, {"Authorization": f"Bearer {user}"}, {"Authorization": "Bearer not.a.token"}):
        response = await gateway.get("/api/health", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"status", "service", "components"}, body
        assert body["status"] == "ok"
        assert body["components"] == {
            name: "ok"
            for name in ("auth", "jobs", "runner", "reporter", "postgres", "nats", "object_storage")
        }
        text = response.text
        for address in internal_addresses(stack):
            assert address not in text
        assert not re.search(r"\d+\.\d+\.\d+\.\d+|:\d{2,5}\b|://", text), text


async def test_an_operator_sees_addresses_and_details(
    stack: PrivateStack, gateway: httpx.AsyncClient
) -> None:
    operator = await register_or_login(stack, OPERATOR)
    response = await gateway.get("/api/health", headers={"Authorization": f"Bearer {operator}"})
    assert response.status_code == 200, response.text
    body = response.json()
    deps = body["dependencies"]
    assert deps["auth"]["address"] == stack.addr("auth") and deps["jobs"]["address"] == stack.addr("jobs")
    assert deps["runner"]["address"] == stack.addr("gpu_runner")
    # Each service says which dependencies it uses and how it sees them.
    assert deps["auth"]["checks"] == {"postgres": "SERVING", "nats": "SERVING"}
    assert deps["jobs"]["checks"] == {"postgres": "SERVING", "nats": "SERVING", "object_storage": "SERVING"}
    assert deps["reporter"]["checks"] == {"nats": "SERVING", "object_storage": "SERVING"}
    assert deps["s3"]["address"] == stack.env["SWARMCAST_S3_ENDPOINT"]
    assert body["components"]["postgres"] == "ok"


# --- GetRunnerStatus -----------------------------------------------------------------------------


async def lengthen_tier(infra: Infra) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(infra.database_url))
    try:
        await conn.execute(
            "UPDATE jobs.model_routing SET target_agents = 300, max_rounds = 60 WHERE sim_tier = $1",
            LONG_TIER,
        )
    finally:
        await conn.close()


async def test_runner_status_needs_a_token_and_shows_jobs_to_operators_only(
    infra: Infra, stack: PrivateStack
) -> None:
    await lengthen_tier(infra)
    owner = await register(stack, f"owner-{secrets.token_hex(4)}@example.test")
    other = await register(stack, f"other-{secrets.token_hex(4)}@example.test")
    operator = await register_or_login(stack, OPERATOR)
    async with insecure_channel(stack.addr("jobs")) as ch:
        created = await jobs_stub(ch).CreateJob(
            create_request(evidence_seed("runner status seed"), tier=LONG_TIER),
            metadata=bearer(owner),
            timeout=30,
        )
    job_id = created.job.id
    request = runner_pb2.GetRunnerStatusRequest()
    async with insecure_channel(stack.addr("gpu_runner")) as ch:
        stub = runner_stub(ch)
        with pytest.raises(grpc.aio.AioRpcError) as anonymous:
            await stub.GetRunnerStatus(request, timeout=10)
        assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
        async with asyncio.timeout(120):
            while True:
                seen = await stub.GetRunnerStatus(request, metadata=bearer(operator), timeout=10)
                if seen.current_job_id == job_id:
                    break
                await asyncio.sleep(0.1)
        # The same moment for an ordinary user: what the runner is, not whose job it runs.
        theirs = await stub.GetRunnerStatus(request, metadata=bearer(other), timeout=10)
        assert theirs.instance_id == seen.instance_id and theirs.backend == "heuristic"
        assert theirs.current_job_id == 0 and theirs.current_round == 0
    async with insecure_channel(stack.addr("jobs")) as ch:
        await jobs_stub(ch).CancelJob(
            jobs_pb2.CancelJobRequest(job_id=job_id), metadata=bearer(owner), timeout=30
        )


async def register_or_login(stack: PrivateStack, email: str) -> str:
    async with insecure_channel(stack.addr("auth")) as ch:
        try:
            reply = await auth_stub(ch).Login(
                auth_pb2.LoginRequest(email=email, password=PASSWORD), timeout=15
            )
        except grpc.aio.AioRpcError:
            return await register(stack, email)
    return reply.access_token


# --- share tokens at rest ------------------------------------------------------------------------


async def completed_job(stack: PrivateStack, md: Metadata) -> int:
    async with insecure_channel(stack.addr("jobs")) as ch:
        created = await jobs_stub(ch).CreateJob(
            create_request(evidence_seed("shared link seed")), metadata=md, timeout=30
        )
    statuses = await wait_terminal(stack.addr("jobs"), md, [created.job.id], within=120)
    assert statuses[created.job.id] == "JOB_STATUS_COMPLETED", f"{statuses}\n{stack.tails()}"
    return created.job.id


async def stored_share_token(infra: Infra, job_id: int) -> str | None:
    conn = await asyncpg.connect(asyncpg_dsn(infra.database_url))
    try:
        value: str | None = await conn.fetchval(
            "SELECT share_token FROM jobs.simulation_jobs WHERE id = $1", job_id
        )
    finally:
        await conn.close()
    return value


async def test_share_tokens_are_stored_hashed_and_links_work_until_revoked(
    infra: Infra, stack: PrivateStack, gateway: httpx.AsyncClient
) -> None:
    token = await register(stack, f"sharer-{secrets.token_hex(4)}@example.test")
    job_id = await completed_job(stack, bearer(token))
    auth = {"Authorization": f"Bearer {token}"}
    created = await gateway.post(f"/api/jobs/{job_id}/share", headers=auth)
    assert created.status_code == 201, created.text
    share = created.json()["share_token"]
    assert created.json()["share_url"].endswith(f"/share/{share}")

    stored = await stored_share_token(infra, job_id)
    assert stored == hashlib.sha256(share.encode()).hexdigest()
    assert stored != share and share not in json.dumps(stored)

    view = await gateway.get(f"/api/share/{share}")
    assert view.status_code == 200 and view.json()["job"]["id"] == job_id
    # The owner's job says it is shared, and shows neither the token nor its hash.
    job = (await gateway.get(f"/api/jobs/{job_id}", headers=auth)).json()["job"]
    assert job["shared"] is True and job["share_token"] is None
    # The stored hash is not a link.
    assert (await gateway.get(f"/api/share/{stored}")).status_code in (404, 422)

    revoked = await gateway.delete(f"/api/jobs/{job_id}/share", headers=auth)
    assert revoked.status_code == 204
    assert await stored_share_token(infra, job_id) is None
    gone = await gateway.get(f"/api/share/{share}")
    assert gone.status_code == 404, gone.text
    assert (await gateway.get(f"/api/jobs/{job_id}", headers=auth)).json()["job"]["shared"] is False
