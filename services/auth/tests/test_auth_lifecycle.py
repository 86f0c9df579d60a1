"""The whole account life over real gRPC, Postgres and NATS, following links from the mail outbox.

register → verification link from the outbox → verified → login → refresh → change password →
old refresh token rejected → reset via outbox link → reset token reused is rejected →
delete account (auth.user.deleted published) → its tokens no longer authenticate.
"""

from __future__ import annotations

import asyncio
import logging
import time

import grpc
import pytest
from sqlalchemy import text
from swarmcast.auth.v1 import auth_pb2
from swarmcast.events.v1 import events_pb2

from services.auth.handlers import read_outbox
from services.auth.tests.support import (
    OPERATOR_EMAIL,
    AuthNode,
    Client,
    count_rows,
    rpc_error,
    token_from_link,
    unique_email,
    wait_for_mail,
)
from services.common import subjects
from services.common.bus import EventBus
from tests.fixtures.settings import settings_for

UNAUTH = grpc.StatusCode.UNAUTHENTICATED


async def _authenticates(client: Client, token: str) -> bool:
    try:
        await client.call("Authenticate", auth_pb2.AuthenticateRequest(access_token=token))
    except grpc.aio.AioRpcError as exc:
        assert exc.code() is UNAUTH, exc
        return False
    return True


async def test_whole_account_life(
    auth_node: AuthNode, auth_client: Client, nats_url: str, db_sessions, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    c = auth_client
    email, password = unique_email("life"), "first password 1"
    deleted_events: asyncio.Queue[events_pb2.UserDeleted] = asyncio.Queue()

    async def on_deleted(event: events_pb2.UserDeleted, meta: object) -> None:
        await deleted_events.put(event)

    bus = await EventBus.connect(
        settings_for(nats_url=nats_url, nats_prefix=auth_node.settings.nats_prefix), name="life-test"
    )
    secrets_seen: list[str] = [password]
    try:
        await bus.subscribe(
            subjects.USER_DELETED, events_pb2.UserDeleted, on_deleted, durable="life-test-jobs"
        )

        # --- register: normalised email, unverified, a session, and a verification mail
        registered = await c.register(f"  {email.upper()} ", password)
        assert registered.user.email == email and not registered.user.email_verified
        assert registered.user.id > 0 and registered.user.roles == []
        assert registered.access_token and registered.refresh_token
        assert 0 < registered.access_token_expires_in <= 3600
        dup = await rpc_error(c.register(email, "another password"))
        assert dup.code() is grpc.StatusCode.ALREADY_EXISTS

        mail = await wait_for_mail(auth_node.outbox, email, "verification")
        assert mail["link"].startswith(auth_node.settings.public_url)
        verify_token = token_from_link(mail["link"])
        assert verify_token in mail["body_text"]
        secrets_seen += [verify_token, registered.access_token, registered.refresh_token]
        # Only a hash is stored.
        async with db_sessions() as session:
            stored = (
                await session.execute(
                    text("SELECT verification_token FROM auth.users WHERE email = :e"), {"e": email}
                )
            ).scalar_one()
        assert stored and stored != verify_token and verify_token not in stored

        # --- verify
        verified = await c.call("VerifyEmail", auth_pb2.VerifyEmailRequest(token=verify_token))
        assert verified.user.email_verified and verified.user.id == registered.user.id
        again = await rpc_error(c.call("VerifyEmail", auth_pb2.VerifyEmailRequest(token=verify_token)))
        assert again.code() is grpc.StatusCode.INVALID_ARGUMENT

        # --- login: the token now says email_verified
        login = await c.login(email, password)
        assert login.user.email_verified
        me = await c.call("GetUser", auth_pb2.GetUserRequest(), token=login.access_token)
        assert me.user.email == email and me.user.email_verified
        authed = await c.call("Authenticate", auth_pb2.AuthenticateRequest(access_token=login.access_token))
        assert authed.user.id == registered.user.id
        assert authed.expires_at.seconds > time.time()
        secrets_seen += [login.access_token, login.refresh_token]

        # --- refresh rotates
        refreshed = await c.call("Refresh", auth_pb2.RefreshRequest(refresh_token=login.refresh_token))
        assert refreshed.refresh_token != login.refresh_token
        assert refreshed.user.id == registered.user.id
        secrets_seen += [refreshed.access_token, refreshed.refresh_token]

        # --- change password (no pause: the cutoff refuses tokens minted earlier in its own second)
        wrong = await rpc_error(
            c.call(
                "ChangePassword",
                auth_pb2.ChangePasswordRequest(current_password="not my password", new_password="x" * 12),
                token=refreshed.access_token,
            )
        )
        assert wrong.code() is grpc.StatusCode.PERMISSION_DENIED
        password2 = "second password 2"
        changed = await c.call(
            "ChangePassword",
            auth_pb2.ChangePasswordRequest(current_password=password, new_password=password2),
            token=refreshed.access_token,
        )
        secrets_seen += [password2, changed.access_token, changed.refresh_token]
        await wait_for_mail(auth_node.outbox, email, "password_changed")
        # Old refresh tokens are revoked; the pair returned by ChangePassword works.
        old = await rpc_error(
            c.call("Refresh", auth_pb2.RefreshRequest(refresh_token=refreshed.refresh_token))
        )
        assert old.code() is UNAUTH
        assert not await _authenticates(c, refreshed.access_token)  # issued before the change
        assert await _authenticates(c, changed.access_token)
        assert (await rpc_error(c.login(email, password))).code() is UNAUTH
        after_change = await c.call("Refresh", auth_pb2.RefreshRequest(refresh_token=changed.refresh_token))

        # --- reset via the outbox link
        await c.call("RequestPasswordReset", auth_pb2.RequestPasswordResetRequest(email=email))
        reset_mail = await wait_for_mail(auth_node.outbox, email, "password_reset")
        reset_token = token_from_link(reset_mail["link"])
        password3 = "third password 3"
        secrets_seen += [reset_token, password3, after_change.access_token, after_change.refresh_token]
        await c.call(
            "ResetPassword", auth_pb2.ResetPasswordRequest(token=reset_token, new_password=password3)
        )
        reused = await rpc_error(
            c.call(
                "ResetPassword",
                auth_pb2.ResetPasswordRequest(token=reset_token, new_password="fourth pass 4"),
            )
        )
        assert reused.code() is grpc.StatusCode.INVALID_ARGUMENT
        # The reset revoked every session and access token from before it.
        gone = await rpc_error(
            c.call("Refresh", auth_pb2.RefreshRequest(refresh_token=after_change.refresh_token))
        )
        assert gone.code() is UNAUTH
        assert not await _authenticates(c, after_change.access_token)
        assert (await rpc_error(c.login(email, password2))).code() is UNAUTH
        final = await c.login(email, password3)
        secrets_seen += [final.access_token, final.refresh_token]

        # --- delete the account
        bad = await rpc_error(
            c.call(
                "DeleteAccount",
                auth_pb2.DeleteAccountRequest(password="wrong-password"),
                token=final.access_token,
            )
        )
        assert bad.code() is grpc.StatusCode.PERMISSION_DENIED
        await c.call(
            "DeleteAccount", auth_pb2.DeleteAccountRequest(password=password3), token=final.access_token
        )
        event = await asyncio.wait_for(deleted_events.get(), timeout=15)
        assert event.user_id == str(registered.user.id) and event.HasField("deleted_at")
        await wait_for_mail(auth_node.outbox, email, "account_deleted")

        # --- its tokens no longer authenticate, anywhere
        assert not await _authenticates(c, final.access_token)
        for call in (
            c.call("GetUser", auth_pb2.GetUserRequest(), token=final.access_token),
            c.call("Refresh", auth_pb2.RefreshRequest(refresh_token=final.refresh_token)),
            c.login(email, password3),
        ):
            assert (await rpc_error(call)).code() is UNAUTH
        rows = await count_rows(db_sessions, ("auth.outbox_events",))
        assert rows["auth.outbox_events"] == 0  # the deletion event was published and cleared
        async with db_sessions() as session:
            left = (
                await session.execute(
                    text("SELECT count(*) FROM auth.refresh_tokens WHERE user_id = :u"),
                    {"u": registered.user.id},
                )
            ).scalar_one()
        assert left == 0  # cascaded with the user
    finally:
        await bus.close()

    # Nothing secret reached the logs (records are checked before any redaction).
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for secret in secrets_seen:
        assert secret not in logged


async def test_refresh_token_reuse_revokes_the_family(auth_client: Client) -> None:
    c = auth_client
    email = unique_email("reuse")
    first = await c.register(email, "reuse password 1")
    second = await c.call("Refresh", auth_pb2.RefreshRequest(refresh_token=first.refresh_token))
    # Someone replays the already-used token (it was stolen): the whole session dies.
    replay = await rpc_error(c.call("Refresh", auth_pb2.RefreshRequest(refresh_token=first.refresh_token)))
    assert replay.code() is UNAUTH
    legit = await rpc_error(c.call("Refresh", auth_pb2.RefreshRequest(refresh_token=second.refresh_token)))
    assert legit.code() is UNAUTH
    # Other sessions of the same user are untouched.
    other = await c.login(email, "reuse password 1")
    await c.call("Refresh", auth_pb2.RefreshRequest(refresh_token=other.refresh_token))


async def test_logout_ends_that_session_only(auth_client: Client) -> None:
    c = auth_client
    email = unique_email("logout")
    a = await c.register(email, "logout password")
    b = await c.login(email, "logout password")
    await c.call("Logout", auth_pb2.LogoutRequest(refresh_token=a.refresh_token))
    await c.call("Logout", auth_pb2.LogoutRequest(refresh_token=a.refresh_token))  # idempotent
    assert (
        await rpc_error(c.call("Refresh", auth_pb2.RefreshRequest(refresh_token=a.refresh_token)))
    ).code() is UNAUTH
    await c.call("Refresh", auth_pb2.RefreshRequest(refresh_token=b.refresh_token))


async def test_reset_request_never_reveals_whether_the_email_exists(
    auth_node: AuthNode, auth_client: Client
) -> None:
    c = auth_client
    known = unique_email("known")
    await c.register(known, "known password")
    unknown = unique_email("unknown")
    r1 = await c.call("RequestPasswordReset", auth_pb2.RequestPasswordResetRequest(email=known))
    r2 = await c.call("RequestPasswordReset", auth_pb2.RequestPasswordResetRequest(email=unknown))
    assert r1 == r2 == auth_pb2.RequestPasswordResetResponse()
    await wait_for_mail(auth_node.outbox, known, "password_reset")
    await asyncio.sleep(0.3)
    assert not [m for m in _all_mail(auth_node) if m["to"] == unknown]


def _all_mail(node: AuthNode) -> list[dict[str, object]]:
    return read_outbox(node.outbox)


async def test_resend_verification(auth_node: AuthNode, auth_client: Client) -> None:
    c = auth_client
    email = unique_email("resend")
    reg = await c.register(email, "resend password")
    first = token_from_link((await wait_for_mail(auth_node.outbox, email, "verification"))["link"])
    await c.call("ResendVerification", auth_pb2.ResendVerificationRequest(), token=reg.access_token)
    second = token_from_link((await wait_for_mail(auth_node.outbox, email, "verification", after=1))["link"])
    assert first != second
    # The new link replaces the old one.
    old = await rpc_error(c.call("VerifyEmail", auth_pb2.VerifyEmailRequest(token=first)))
    assert old.code() is grpc.StatusCode.INVALID_ARGUMENT
    await c.call("VerifyEmail", auth_pb2.VerifyEmailRequest(token=second))
    done = await rpc_error(
        c.call("ResendVerification", auth_pb2.ResendVerificationRequest(), token=reg.access_token)
    )
    assert done.code() is grpc.StatusCode.FAILED_PRECONDITION


async def test_operator_role_and_get_user_permissions(auth_client: Client) -> None:
    c = auth_client
    # The operator account may already exist from another test module on this database.
    op: auth_pb2.RegisterResponse | auth_pb2.LoginResponse
    try:
        op = await c.register(OPERATOR_EMAIL, "operator password")
    except grpc.aio.AioRpcError:
        op = await c.login(OPERATOR_EMAIL, "operator password")
    assert list(op.user.roles) == ["operator"]
    user = await c.register(unique_email("plain"), "plain password")
    assert list(user.user.roles) == []
    # A user sees only themself; an operator may look anyone up.
    denied = await rpc_error(
        c.call("GetUser", auth_pb2.GetUserRequest(user_id=op.user.id), token=user.access_token)
    )
    assert denied.code() is grpc.StatusCode.PERMISSION_DENIED
    looked_up = await c.call("GetUser", auth_pb2.GetUserRequest(user_id=user.user.id), token=op.access_token)
    assert looked_up.user.email == user.user.email
    missing = await rpc_error(
        c.call("GetUser", auth_pb2.GetUserRequest(user_id=10**9), token=op.access_token)
    )
    assert missing.code() is grpc.StatusCode.NOT_FOUND
    anonymous = await rpc_error(c.call("GetUser", auth_pb2.GetUserRequest()))
    assert anonymous.code() is UNAUTH
