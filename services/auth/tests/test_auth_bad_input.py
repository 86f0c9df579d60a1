"""Bad input on every RPC: INVALID_ARGUMENT with a clear message, never INTERNAL, nothing written.

"Nothing written" compares every row of every auth table before and after (rate-limit counters
included: input is validated before anything is counted).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from swarmcast.auth.v1 import auth_pb2

from services.auth.tests.support import (
    AuthNode,
    Client,
    assert_nothing_written,
    rpc_error,
    snapshot,
    unique_email,
)

INVALID = grpc.StatusCode.INVALID_ARGUMENT

BAD_EMAILS = {
    "empty": "",
    "blank": "   ",
    "no at": "not-an-email",
    "overlong": "a" * 250 + "@example.com",
    "10 kB": "a" * 10_000 + "@example.com",
    "NUL": "ali\x00ce@example.com",
    "control": "alice\x07@example.com",
    "header injection": "alice@example.com\r\nBcc: victim@example.com",
    "sql drop": "'; DROP TABLE auth.users; --",
    "sql or": "x@example.com' OR '1'='1",
    "sql comment": "admin@example.com'--",
    "bidi override": "alice\u202e@example.com",
}
BAD_NEW_PASSWORDS = {
    "empty": "",
    "too short": "short",
    "overlong": "x" * 129,
    "10 kB": "x" * 10_000,
    "NUL": "password\x00password",
    "control": "pass\x1bword123",
    "newline": "password\n123",
}
BAD_PRESENTED_PASSWORDS = {k: BAD_NEW_PASSWORDS[k] for k in ("empty", "overlong", "10 kB", "NUL", "control")}
BAD_OPAQUE_TOKENS = {
    "empty": "",
    "sql": "' OR 1=1 --",
    "10 kB": "a" * 10_000,
    "NUL": "a" * 20 + "\x00" + "a" * 22,
    "path": "../../../../etc/passwd" + "a" * 30,
}
# (field number 1, length-delimited) + invalid UTF-8: what a non-Python client can send.
NON_UTF8 = {
    "0xff": b"\x0a\x04ab\xffc",
    "lone surrogate (CESU)": b"\x0a\x05a\xed\xa0\x80b",
    "truncated sequence": b"\x0a\x02a\xc3",
    "overlong encoding": b"\x0a\x03\xc0\xafx",
}
# Every request message with a string field has one as field 1 (checked below).
STRING_RPCS = [
    m.name
    for m in auth_pb2.DESCRIPTOR.services_by_name["AuthService"].methods
    if any(f.type == f.TYPE_STRING for f in m.input_type.fields)
]


async def _expect_invalid(call: Awaitable[Any], label: str) -> grpc.aio.AioRpcError:
    err = await rpc_error(call)
    assert err.code() is INVALID, f"{label}: {err.code()} {err.details()}"
    details = err.details() or ""
    assert details and "internal" not in details.lower(), label
    return err


async def test_bad_input_everywhere_is_invalid_argument_and_writes_nothing(
    auth_node: AuthNode, db_sessions: Any
) -> None:
    c = Client(auth_node.stub)
    existing_email = unique_email("victim")
    session = await c.register(existing_email, "victim password")
    token = session.access_token
    before = await snapshot(db_sessions)

    for name, email in BAD_EMAILS.items():
        for rpc, request in (
            ("Register", auth_pb2.RegisterRequest(email=email, password="good password 1")),
            ("Login", auth_pb2.LoginRequest(email=email, password="good password 1")),
            ("RequestPasswordReset", auth_pb2.RequestPasswordResetRequest(email=email)),
        ):
            err = await _expect_invalid(c.call(rpc, request), f"{rpc} email {name}")
            if name not in ("empty", "blank"):
                assert "email" in (err.details() or ""), (rpc, name, err.details())

    for name, password in BAD_NEW_PASSWORDS.items():
        await _expect_invalid(
            c.call("Register", auth_pb2.RegisterRequest(email=unique_email("new"), password=password)),
            f"Register password {name}",
        )
        await _expect_invalid(
            c.call(
                "ChangePassword",
                auth_pb2.ChangePasswordRequest(current_password="victim password", new_password=password),
                token=token,
            ),
            f"ChangePassword new {name}",
        )
        await _expect_invalid(
            c.call("ResetPassword", auth_pb2.ResetPasswordRequest(token="a" * 43, new_password=password)),
            f"ResetPassword new {name}",
        )

    for name, password in BAD_PRESENTED_PASSWORDS.items():
        await _expect_invalid(
            c.call("Login", auth_pb2.LoginRequest(email=existing_email, password=password)),
            f"Login pw {name}",
        )
        await _expect_invalid(
            c.call("DeleteAccount", auth_pb2.DeleteAccountRequest(password=password), token=token),
            f"DeleteAccount {name}",
        )
        await _expect_invalid(
            c.call(
                "ChangePassword",
                auth_pb2.ChangePasswordRequest(current_password=password, new_password="new password 1"),
                token=token,
            ),
            f"ChangePassword current {name}",
        )

    for name, opaque in BAD_OPAQUE_TOKENS.items():
        token_requests: tuple[tuple[str, Message], ...] = (
            ("VerifyEmail", auth_pb2.VerifyEmailRequest(token=opaque)),
            ("ResetPassword", auth_pb2.ResetPasswordRequest(token=opaque, new_password="good password 1")),
            ("Refresh", auth_pb2.RefreshRequest(refresh_token=opaque)),
            ("Logout", auth_pb2.LogoutRequest(refresh_token=opaque)),
        )
        for rpc, token_request in token_requests:
            await _expect_invalid(c.call(rpc, token_request), f"{rpc} token {name}")

    await _expect_invalid(
        c.call("Authenticate", auth_pb2.AuthenticateRequest(access_token="")), "Authenticate"
    )
    await _expect_invalid(
        c.call("GetUser", auth_pb2.GetUserRequest(user_id=-1), token=token), "GetUser negative id"
    )
    # The same new password as the current one is refused before any write.
    await _expect_invalid(
        c.call(
            "ChangePassword",
            auth_pb2.ChangePasswordRequest(
                current_password="victim password", new_password="victim password"
            ),
            token=token,
        ),
        "ChangePassword same",
    )

    await assert_nothing_written(db_sessions, before)
    # The account is intact and the session still works.
    assert (await c.call("GetUser", auth_pb2.GetUserRequest(), token=token)).user.email == existing_email


async def test_junk_access_tokens_are_unauthenticated_never_internal(auth_node: AuthNode) -> None:
    c = Client(auth_node.stub)
    for junk in ("x", "a.b.c", "x" * 10_000, "\x00\x01", "' OR 1=1 --", "eyJ.eyJ.", "....", "Bearer x"):
        err = await rpc_error(c.call("Authenticate", auth_pb2.AuthenticateRequest(access_token=junk)))
        assert err.code() is grpc.StatusCode.UNAUTHENTICATED, junk[:10]


@pytest.mark.parametrize("rpc", STRING_RPCS)
async def test_non_utf8_bytes_are_invalid_argument(auth_node: AuthNode, db_sessions: Any, rpc: str) -> None:
    """Raw protobuf with invalid UTF-8 in string fields (Python clients cannot even build these)."""
    c = Client(auth_node.stub)
    session = await c.register(unique_email("raw"), "raw password 1")
    before = await snapshot(db_sessions)
    method = auth_node.channel.unary_unary(
        f"/swarmcast.auth.v1.AuthService/{rpc}",
        request_serializer=lambda b: b,
        response_deserializer=lambda b: b,
    )
    first = getattr(auth_pb2, f"{rpc}Request").DESCRIPTOR.fields_by_number[1]
    assert first.type == first.TYPE_STRING
    for name, raw in NON_UTF8.items():
        err = await rpc_error(method(raw, metadata=c.metadata(session.access_token), timeout=10))
        assert err.code() is INVALID, f"{rpc} {name}: {err.code()} {err.details()}"
    await assert_nothing_written(db_sessions, before)


async def test_python_client_cannot_send_lone_surrogates() -> None:
    """Documenting why the raw-bytes test exists: the Python runtime refuses before sending."""
    with pytest.raises(UnicodeEncodeError):
        auth_pb2.RegisterRequest(email="a\ud800@example.com")
