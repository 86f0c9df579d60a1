"""Fixtures for the auth gRPC tests: a real auth server (in-process) on real Postgres and NATS.

- `auth_prefix` (module): a NATS prefix of its own; its streams are deleted afterwards.
- `auth_node` (module): one auth server on a free port with a temp key folder and outbox,
  default rate limits (tests use unique emails and client addresses, so they never collide).
- `auth_client` (function): a `Client` on `auth_node` with a fresh client address.
- `auth_node_factory` (function): `await make(**kw)` starts more servers (stopped afterwards).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from services.auth.tests.support import AuthNode, Client, start_auth_node
from services.common.bus import EventBus
from tests.fixtures.settings import settings_for

NodeFactory = Callable[..., Awaitable[AuthNode]]


async def _delete_streams(nats_url: str, prefix: str) -> None:
    bus = await EventBus.connect(
        settings_for(nats_url=nats_url, nats_prefix=prefix), name="auth-test-cleanup"
    )
    try:
        await bus.delete_streams()
    finally:
        await bus.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def auth_prefix(nats_url: str) -> AsyncIterator[str]:
    prefix = f"ta{secrets.token_hex(4)}"
    yield prefix
    await _delete_streams(nats_url, prefix)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def auth_node(
    database_url: str, nats_url: str, auth_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AuthNode]:
    node = await start_auth_node(
        database_url=database_url,
        nats_url=nats_url,
        nats_prefix=auth_prefix,
        workdir=tmp_path_factory.mktemp("auth-node"),
    )
    yield node
    await node.stop()


@pytest.fixture
def auth_client(auth_node: AuthNode) -> Client:
    return Client(auth_node.stub)


@pytest_asyncio.fixture(loop_scope="session")
async def auth_node_factory(database_url: str, nats_url: str, tmp_path: Path) -> AsyncIterator[NodeFactory]:
    nodes: list[AuthNode] = []
    prefixes: set[str] = set()

    async def make(**kw: Any) -> AuthNode:
        kw.setdefault("nats_prefix", f"ta{secrets.token_hex(4)}")
        kw.setdefault("workdir", tmp_path / f"node{len(nodes)}")
        node = await start_auth_node(database_url=database_url, nats_url=nats_url, **kw)
        nodes.append(node)
        prefixes.add(kw["nats_prefix"])
        return node

    yield make
    for node in nodes:
        await node.stop()
    for prefix in prefixes:
        await _delete_streams(nats_url, prefix)
