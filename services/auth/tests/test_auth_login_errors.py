"""Login must not reveal whether an email has an account: same code, same text, same work."""

from __future__ import annotations

import statistics
import time

import grpc
from swarmcast.auth.v1 import auth_pb2

from services.auth.tests.support import Client, rpc_error, unique_email


async def _timed_failure(client: Client, email: str, password: str) -> tuple[grpc.aio.AioRpcError, float]:
    started = time.perf_counter()
    err = await rpc_error(client.login(email, password))
    return err, time.perf_counter() - started


async def test_unknown_email_and_wrong_password_are_indistinguishable(auth_client: Client) -> None:
    email = unique_email("known")
    await auth_client.register(email, "the right password")
    unknown = unique_email("ghost")

    wrong_pw, t_wrong = [], []
    no_user, t_none = [], []
    for _ in range(3):
        err, took = await _timed_failure(auth_client, email, "the wrong password")
        wrong_pw.append(err)
        t_wrong.append(took)
        err, took = await _timed_failure(auth_client, unknown, "the wrong password")
        no_user.append(err)
        t_none.append(took)

    assert {(e.code(), e.details()) for e in wrong_pw + no_user} == {
        (grpc.StatusCode.UNAUTHENTICATED, "invalid email or password")
    }
    # Identical trailers too (no hint hidden in metadata), apart from transport noise.
    assert [dict(e.trailing_metadata() or ()) for e in wrong_pw[:1]] == [
        dict(e.trailing_metadata() or ()) for e in no_user[:1]
    ]
    # Both paths run one bcrypt (the unknown email against a dummy hash): similar latency.
    # Loose bounds: this runs on shared CI machines; the point is "a bcrypt happened" on both.
    m_wrong, m_none = statistics.median(t_wrong), statistics.median(t_none)
    assert m_none > 0.4 * m_wrong and m_wrong > 0.4 * m_none, (t_wrong, t_none)


async def test_login_email_is_normalised(auth_client: Client) -> None:
    email = unique_email("norm")
    await auth_client.register(email, "normalised password")
    response = await auth_client.login(f"  {email.upper()}\t", "normalised password")
    assert response.user.email == email


async def test_password_is_case_sensitive_and_exact(auth_client: Client) -> None:
    email = unique_email("exact")
    await auth_client.register(email, "Exact Password")
    for attempt in ("exact password", "Exact Password ", " Exact Password", "Exact Passwor"):
        # Each from its own address: a fourth failure from one address would meet the backoff.
        err = await rpc_error(Client(auth_client.stub).login(email, attempt))
        assert err.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_long_passwords_differing_after_72_bytes_over_grpc(auth_client: Client) -> None:
    email = unique_email("long")
    base = "\u00e9" * 40  # 80 UTF-8 bytes: past bcrypt's 72-byte window
    await auth_client.register(email, base + "tail-one")
    await auth_client.login(email, base + "tail-one")
    err = await rpc_error(auth_client.login(email, base + "tail-two"))
    assert err.code() is grpc.StatusCode.UNAUTHENTICATED
    assert isinstance(auth_pb2.LoginRequest(email=email, password=base).password, str)
