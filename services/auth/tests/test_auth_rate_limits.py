"""Rate limits over gRPC: they trip at the stated counts, recover, and are shared by replicas.

The counts are the real ones (register 5, login 10 per address, reset 5 per email);
only the windows are shortened (configurable) so recovery can be watched in seconds. Requests are
fired concurrently where bcrypt would make a sequence slow: the counters are atomic, so exactly
`limit` of them get through whatever the interleaving.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
import pytest
from sqlalchemy import text
from swarmcast.auth.v1 import auth_pb2

from services.auth.settings import AuthSettings
from services.auth.tests.support import AuthNode, Client, count_rows, rpc_error, trailing, unique_email

WINDOW = 5.0
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED

NodeFactory = Callable[..., Awaitable[AuthNode]]


def short_windows() -> AuthSettings:
    return AuthSettings(
        register_window_seconds=WINDOW,
        login_window_seconds=WINDOW,
        reset_window_seconds=WINDOW,
        maintenance_interval_seconds=3600,
    )


async def _at_window_start() -> None:
    """Waits until just after a window boundary, so a burst falls in one window."""
    now = time.time()
    await asyncio.sleep(math.floor(now / WINDOW) * WINDOW + WINDOW - now + 0.05)


async def _outcomes(calls: Sequence[Awaitable[Any]]) -> tuple[int, list[grpc.aio.AioRpcError]]:
    results = await asyncio.gather(*calls, return_exceptions=True)
    limited = [r for r in results if isinstance(r, grpc.aio.AioRpcError) and r.code() is EXHAUSTED]
    others = [r for r in results if isinstance(r, BaseException) and r not in limited]
    for r in others:
        assert isinstance(r, grpc.aio.AioRpcError) and r.code() is not grpc.StatusCode.INTERNAL, r
    return len(results) - len(limited), limited


def _check_retry_after(errors: list[grpc.aio.AioRpcError]) -> None:
    for err in errors:
        value = trailing(err, "retry-after")
        assert value is not None and value.isdigit(), err.trailing_metadata()
        assert 1 <= int(value) <= math.ceil(WINDOW)
        assert "try again later" in (err.details() or "")


@pytest.fixture
async def limited_node(auth_node_factory: NodeFactory) -> AuthNode:
    return await auth_node_factory(auth_settings=short_windows())


async def test_register_limit_per_address(limited_node: AuthNode) -> None:
    client = Client(limited_node.stub)
    other = Client(limited_node.stub)
    await _at_window_start()
    passed, limited = await _outcomes(
        [client.register(unique_email("reg"), "register password") for _ in range(7)]
    )
    assert (passed, len(limited)) == (5, 2)
    _check_retry_after(limited)
    # Another address is not affected.
    await other.register(unique_email("reg-other"), "register password")
    # Recovery: the next window admits the address again.
    await _at_window_start()
    await client.register(unique_email("reg-again"), "register password")


async def test_login_limit_per_address_but_no_owner_lockout(limited_node: AuthNode) -> None:
    email = unique_email("login")
    setup = Client(limited_node.stub)
    await setup.register(email, "login password")

    # Per address: 12 attempts for 12 different emails from one address → 10 get an answer.
    attacker = Client(limited_node.stub)
    await _at_window_start()
    passed, limited = await _outcomes(
        [attacker.login(unique_email("spray"), "login password") for _ in range(12)]
    )
    assert (passed, len(limited)) == (10, 2)
    _check_retry_after(limited)

    # Per email there is no window that locks the owner out: 12 wrong passwords from 12 addresses
    # are each answered (they cost the account's hourly failure budget, tests/security/
    # test_auth_abuse.py), and the owner signs in at once.
    await _at_window_start()
    passed, limited = await _outcomes(
        [Client(limited_node.stub).login(email, "wrong password!") for _ in range(12)]
    )
    assert (passed, len(limited)) == (12, 0)
    assert (await Client(limited_node.stub).login(email, "login password")).user.email == email


async def test_reset_request_limit_per_email(limited_node: AuthNode) -> None:
    email = unique_email("reset")
    client = Client(limited_node.stub)
    await _at_window_start()
    for _ in range(5):
        await client.call("RequestPasswordReset", auth_pb2.RequestPasswordResetRequest(email=email))
    err = await rpc_error(
        Client(limited_node.stub).call(
            "RequestPasswordReset", auth_pb2.RequestPasswordResetRequest(email=email)
        )
    )
    assert err.code() is EXHAUSTED
    _check_retry_after([err])
    await _at_window_start()
    await client.call("RequestPasswordReset", auth_pb2.RequestPasswordResetRequest(email=email))


async def test_two_replicas_share_the_counters(auth_node_factory: NodeFactory) -> None:
    # Same database, same NATS prefix (one deployment); each has its own process state.
    a = await auth_node_factory(auth_settings=short_windows())
    b = await auth_node_factory(
        auth_settings=short_windows(),
        nats_prefix=a.settings.nats_prefix,
        key_dir=a.auth_settings.signing_key_dir,
        outbox=a.outbox,
    )
    email = unique_email("replicas")
    address = "203.0.113.77"
    await Client(a.stub, address).register(email, "replica password")

    await _at_window_start()
    calls = [
        Client(node.stub, address).login(unique_email("spray"), "wrong password!") for node in (a, b) * 6
    ]
    passed, limited = await _outcomes(calls)
    assert (passed, len(limited)) == (10, 2)  # one budget, wherever the attempts land
    # Tokens from one replica are accepted by the other (shared key folder).
    await _at_window_start()
    session = await Client(a.stub).login(email, "replica password")
    me = await Client(b.stub).call("GetUser", auth_pb2.GetUserRequest(), token=session.access_token)
    assert me.user.email == email


async def test_expired_windows_are_cleaned_up(limited_node: AuthNode, db_sessions: Any) -> None:
    client = Client(limited_node.stub)
    await client.call("RequestPasswordReset", auth_pb2.RequestPasswordResetRequest(email=unique_email("gc")))
    assert (await count_rows(db_sessions, ("auth.rate_limits",)))["auth.rate_limits"] > 0
    await _at_window_start()
    await limited_node.service.maintenance()
    # Only windows that ended are gone; all of ours ended (other tests' too, same short window
    # or a database shared with default windows still running — so compare with what is live).
    async with db_sessions() as session:
        stale = (
            await session.execute(text("SELECT count(*) FROM auth.rate_limits WHERE expires_at < now()"))
        ).scalar_one()
    assert stale == 0
