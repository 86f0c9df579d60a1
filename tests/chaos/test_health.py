"""Honest health (issue 17, item 9): each service's grpc.health.v1 status and the gateway's
/api/health follow PostgreSQL, NATS and object storage, and recover when they come back.

One private stack of its own: a private nats-server (stopped and restarted here), a private
moto_server (likewise; its bucket is made again after a restart, as an operator would), and a
fresh private database whose connections are refused (`ALLOW_CONNECTIONS false` plus terminating
its sessions) and then allowed again; the shared PostgreSQL server and its other databases are
untouched. The gateway runs in-process (its ASGI app) against the real services. Every wait has
a generous deadline that only guards against a hang; nothing here asserts a duration.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from bench.harness import Infra, PrivateNats, PrivateStack, run_async
from services.cli.stack import settings_from_env
from services.common.clients import check_health, insecure_channel
from services.common.dependencies import health_name
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from tests.fixtures.db import asyncpg_dsn

pytestmark = [pytest.mark.chaos, pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(300)]

ALL = ("auth", "jobs", "gpu_runner", "reporter")
# Probe often, so an outage shows within a second or so.
FAST_PROBES = {"SWARMCAST_HEALTH_PROBE_INTERVAL_SECONDS": "0.5"}
WITHIN = 60.0


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[PrivateNats]:
    server = PrivateNats(store_dir=tmp_path / "nats", log=tmp_path / "nats.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def infra(private_nats: PrivateNats, tmp_path: Path) -> Iterator[Infra]:
    with Infra(tmp_path / "infra", nats_url=private_nats.url) as value:
        yield value


@pytest_asyncio.fixture(loop_scope="session")
async def stack(infra: Infra, tmp_path: Path) -> AsyncIterator[PrivateStack]:
    value = PrivateStack({**infra.env(tmp_path / "run"), **FAST_PROBES}, tmp_path / "logs")
    try:
        await value.launch(*ALL)
        yield value
    finally:
        await asyncio.to_thread(value.stop_all)


@pytest_asyncio.fixture(loop_scope="session")
async def gateway(stack: PrivateStack) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_from_env(stack.env), GatewaySettings())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield client


async def statuses(stack: PrivateStack, service: str = "") -> dict[str, str]:
    """Each process's grpc.health.v1 status for `service` ("" = the server as a whole)."""
    out: dict[str, str] = {}
    for name in ALL:
        async with insecure_channel(stack.addr(name)) as ch:
            out[name] = await check_health(ch, service)
    return out


async def eventually(what: str, check: Callable[[], Awaitable[Any]], stack: PrivateStack) -> Any:
    """Polls `check` until it returns something truthy; fails (with the logs) after WITHIN seconds."""
    deadline = asyncio.get_running_loop().time() + WITHIN
    while not (last := await check()):
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"never: {what} (last: {last})\n{stack.tails()}")
        await asyncio.sleep(0.2)
    return last


async def health(gateway: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    response = await gateway.get("/api/health")
    return response.status_code, response.json()


async def all_ok(gateway: httpx.AsyncClient, stack: PrivateStack) -> None:
    async def ok() -> bool:
        code, body = await health(gateway)
        return code == 200 and body["status"] == "ok"

    await eventually("/api/health 200 ok", ok, stack)
    assert set((await statuses(stack)).values()) == {"SERVING"}


async def down_in_gateway(gateway: httpx.AsyncClient, stack: PrivateStack, component: str) -> dict[str, Any]:
    async def down() -> dict[str, Any] | None:
        code, body = await health(gateway)
        return body if code == 503 and body["components"].get(component) == "down" else None

    body: dict[str, Any] = await eventually(f"/api/health 503 with {component} down", down, stack)
    assert body["status"] == "degraded"
    return body


async def test_nats_outage_turns_every_service_not_serving_and_health_503(
    private_nats: PrivateNats, stack: PrivateStack, gateway: httpx.AsyncClient
) -> None:
    await all_ok(gateway, stack)
    await asyncio.to_thread(private_nats.stop)
    try:

        async def all_not_serving() -> bool:
            return set((await statuses(stack)).values()) == {"NOT_SERVING"}

        await eventually("every service NOT_SERVING without NATS", all_not_serving, stack)
        assert set((await statuses(stack, health_name("nats"))).values()) == {"NOT_SERVING"}
        body = await down_in_gateway(gateway, stack, "nats")
        # Only NATS is down; the services answer (NOT_SERVING), they are not unreachable.
        assert body["components"]["postgres"] == "ok" and body["components"]["object_storage"] == "ok"
    finally:
        await asyncio.to_thread(private_nats.start)  # same port, same JetStream store
    await all_ok(gateway, stack)


async def test_object_storage_outage_turns_its_users_not_serving(
    infra: Infra, stack: PrivateStack, gateway: httpx.AsyncClient
) -> None:
    await all_ok(gateway, stack)
    await asyncio.to_thread(infra.moto.stop)
    try:

        async def storage_users_down() -> dict[str, str] | None:
            now = await statuses(stack)
            return now if now["jobs"] == now["reporter"] == "NOT_SERVING" else None

        now = await eventually("jobs and reporter NOT_SERVING without S3", storage_users_down, stack)
        # auth does not use object storage; the heuristic runner reads it only through presigned URLs.
        assert now["auth"] == "SERVING" and now["gpu_runner"] == "SERVING"
        assert (await statuses(stack, health_name("object_storage")))["jobs"] == "NOT_SERVING"
        body = await down_in_gateway(gateway, stack, "object_storage")
        assert body["components"]["nats"] == "ok" and body["components"]["postgres"] == "ok"
    finally:
        # moto keeps buckets in memory: back up empty, so the bucket is made again.
        await asyncio.to_thread(infra.moto.start)
        await asyncio.to_thread(run_async, infra._ensure_bucket)
    await all_ok(gateway, stack)


async def test_database_refusing_connections_turns_its_users_not_serving(
    infra: Infra, stack: PrivateStack, gateway: httpx.AsyncClient
) -> None:
    await all_ok(gateway, stack)
    database = infra.database_url.rsplit("/", 1)[1]
    # An admin session on another database: this one is about to refuse every connection.
    admin = await asyncpg.connect(asyncpg_dsn(infra.database_url.rsplit("/", 1)[0] + "/postgres"))
    try:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        try:
            await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
                database,
            )

            async def database_users_down() -> dict[str, str] | None:
                now = await statuses(stack)
                return now if now["auth"] == now["jobs"] == "NOT_SERVING" else None

            now = await eventually(
                "auth and jobs NOT_SERVING without their database", database_users_down, stack
            )
            # The reporter and the runner own no tables.
            assert now["reporter"] == "SERVING" and now["gpu_runner"] == "SERVING"
            postgres = await statuses(stack, health_name("postgres"))
            assert postgres["auth"] == postgres["jobs"] == "NOT_SERVING"
            assert postgres["reporter"] == postgres["gpu_runner"] == "SERVICE_UNKNOWN"  # not theirs
            body = await down_in_gateway(gateway, stack, "postgres")
            assert body["components"]["nats"] == "ok"
        finally:
            await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
    finally:
        await admin.close()
    await all_ok(gateway, stack)
