"""Sign-in abuse (issue 17, items 5, 7 and 8): admission control, forwarded addresses, lockout,
reset limits, common passwords, expiring verification links.

One private auth process for the module (bench/harness.py: own database, NATS prefix and ports),
with the limits set through its environment. The tests play the gateway by sending the stack's
forward secret with `x-forwarded-for`, so each can claim client addresses of its own; only
`test_forwarded_address_needs_the_gateway_identity` calls without it (and then counts against
127.0.0.1, which no other test here uses for sign-ins).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from swarmcast.auth.v1 import auth_pb2

from bench.harness import Infra, Metadata, PrivateStack
from services.auth.tests.support import token_from_link, wait_for_mail
from services.common.clientip import FORWARD_SECRET, FORWARDED_FOR
from services.common.clients import auth_stub, insecure_channel

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(300)]

PASSWORD = "owner passphrase 5521 quartz"
WRONG = "not the owner passphrase 17"
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
LOGIN_LIMIT = 10  # per address and minute
ACCOUNT_FAILURES = 30  # per account and hour, from addresses it never signed in from
KNOWN_FAILURES = 30  # per account and hour, from addresses it did
RESET_ADDRESS_LIMIT = 3
VERIFICATION_TTL = 2.0
LIMITS = {
    "SWARMCAST_AUTH_LOGIN_LIMIT": str(LOGIN_LIMIT),
    "SWARMCAST_AUTH_LOGIN_WINDOW_SECONDS": "60",
    "SWARMCAST_AUTH_LOGIN_PAIR_FREE_FAILURES": "3",
    # 2 s, doubling: the retry delays (whole seconds, minus the time a check took) still grow.
    "SWARMCAST_AUTH_LOGIN_PAIR_BACKOFF_SECONDS": "2",
    "SWARMCAST_AUTH_LOGIN_ACCOUNT_FAILURE_LIMIT": str(ACCOUNT_FAILURES),
    "SWARMCAST_AUTH_LOGIN_KNOWN_FAILURE_LIMIT": str(KNOWN_FAILURES),
    "SWARMCAST_AUTH_RESET_ADDRESS_LIMIT": str(RESET_ADDRESS_LIMIT),
    # One bcrypt at a time and two waiting: a few concurrent sign-ins fill the queue.
    "SWARMCAST_AUTH_HASH_CONCURRENCY": "1",
    "SWARMCAST_AUTH_HASH_QUEUE_LIMIT": "2",
    "SWARMCAST_AUTH_HASH_QUEUE_TIMEOUT_SECONDS": "5",
    "SWARMCAST_AUTH_VERIFICATION_TOKEN_TTL_SECONDS": str(VERIFICATION_TTL),
}

_addresses = iter(range(1, 60_000))


def new_address() -> str:
    """A fresh client address (TEST-NET-3 and beyond), unique within the module."""
    n = next(_addresses)
    return f"203.0.{n // 250}.{n % 250 + 1}"


def new_email(tag: str) -> str:
    return f"{tag}-{secrets.token_hex(5)}@example.com"


@pytest.fixture(scope="module")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with Infra(tmp_path_factory.mktemp("auth-abuse-infra")) as value:
        yield value


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PrivateStack]:
    work = tmp_path_factory.mktemp("auth-abuse-stack")
    env = infra.env(work / "run")
    env.update(LIMITS)
    value = PrivateStack(env, work / "logs")
    try:
        await value.launch("auth")
        yield value
    finally:
        await asyncio.to_thread(value.stop_all)


def as_gateway(stack: PrivateStack, address: str) -> Metadata:
    """Metadata of a call the gateway forwards for a client at `address`."""
    return ((FORWARDED_FOR, address), (FORWARD_SECRET, stack.env["SWARMCAST_GATEWAY_FORWARD_SECRET"]))


async def call(stack: PrivateStack, method: str, request: Any, md: Metadata = ()) -> Any:
    async with insecure_channel(stack.addr("auth")) as ch:
        return await getattr(auth_stub(ch), method)(request, metadata=md, timeout=30)


async def login(stack: PrivateStack, email: str, password: str, md: Metadata = ()) -> Any:
    return await call(stack, "Login", auth_pb2.LoginRequest(email=email, password=password), md)


async def register(stack: PrivateStack, email: str, address: str) -> auth_pb2.RegisterResponse:
    request = auth_pb2.RegisterRequest(email=email, password=PASSWORD)
    return await call(stack, "Register", request, as_gateway(stack, address))


async def outcome(awaitable: Awaitable[Any]) -> grpc.aio.AioRpcError | None:
    """None when the call succeeded, else its error."""
    try:
        await awaitable
    except grpc.aio.AioRpcError as exc:
        return exc
    return None


def retry_after(error: grpc.aio.AioRpcError) -> int:
    for key, value in error.trailing_metadata() or ():
        if key == "retry-after":
            return int(value if isinstance(value, str) else value.decode())
    raise AssertionError(f"no retry-after on {error.code()}: {error.details()}")


def code(error: grpc.aio.AioRpcError | None) -> grpc.StatusCode | None:
    return None if error is None else error.code()


# --- item 5: admission control --------------------------------------------------------------------


async def test_a_login_flood_beyond_the_queue_is_refused_fast_and_the_owner_gets_in(
    stack: PrivateStack,
) -> None:
    email = new_email("flood-owner")
    owner = new_address()
    await register(stack, email, owner)

    # 40 concurrent failed logins (unknown emails, rotating addresses): bcrypt takes one at a time
    # with two waiting, so most are answered RESOURCE_EXHAUSTED at once instead of queueing.
    flood = [
        outcome(login(stack, new_email("flood"), WRONG, as_gateway(stack, new_address()))) for _ in range(40)
    ]
    errors = await asyncio.gather(*flood)
    codes = [code(e) for e in errors]
    assert set(codes) <= {UNAUTHENTICATED, EXHAUSTED}, codes
    busy = [e for e in errors if e is not None and e.code() is EXHAUSTED]
    assert len(busy) >= 20, codes
    for error in busy:
        assert "busy" in (error.details() or "")
        assert retry_after(error) >= 1

    # The flood is over: the owner's correct password is checked and accepted.
    session = await login(stack, email, PASSWORD, as_gateway(stack, owner))
    assert session.user.email == email


# --- item 5: whose x-forwarded-for is believed -----------------------------------------------------


async def test_forwarded_address_needs_the_gateway_identity(stack: PrivateStack) -> None:
    # Without the gateway's secret, a claimed address is ignored: every attempt counts against the
    # caller's own peer (127.0.0.1), whose per-address limit trips. 2 x limit + 1 sequential
    # attempts: even split over two windows, one of them holds more than the limit.
    attempts = 2 * LOGIN_LIMIT + 1
    spoofed = []
    for _ in range(attempts):
        spoofed.append(
            await outcome(login(stack, new_email("spoof"), WRONG, ((FORWARDED_FOR, new_address()),)))
        )
    limited = [e for e in spoofed if code(e) is EXHAUSTED]
    assert limited, [code(e) for e in spoofed]
    assert all("sign-in attempts" in (e.details() or "") for e in limited if e is not None)

    # The same calls as the gateway: each claimed address is its own client, none is limited.
    honoured = []
    for _ in range(attempts):
        honoured.append(
            await outcome(login(stack, new_email("fwd"), WRONG, as_gateway(stack, new_address())))
        )
    assert [code(e) for e in honoured] == [UNAUTHENTICATED] * attempts


# --- item 7: throttle the attacker, not the owner ----------------------------------------------------


async def test_wrong_passwords_from_an_attacker_do_not_lock_the_owner_out(stack: PrivateStack) -> None:
    email = new_email("victim")
    await register(stack, email, new_address())
    attacker = as_gateway(stack, new_address())
    codes = [code(await outcome(login(stack, email, WRONG, attacker))) for _ in range(12)]
    assert codes[:3] == [UNAUTHENTICATED] * 3
    assert EXHAUSTED in codes[3:]

    # The owner, from another address (not even one the account used before), gets in at once.
    session = await login(stack, email, PASSWORD, as_gateway(stack, new_address()))
    assert session.user.email == email


async def test_the_attacker_pair_backs_off_exponentially(stack: PrivateStack) -> None:
    email = new_email("backoff")
    await register(stack, email, new_address())
    attacker = as_gateway(stack, new_address())
    for _ in range(3):
        assert code(await outcome(login(stack, email, WRONG, attacker))) is UNAUTHENTICATED

    delays = []
    for _ in range(3):
        refused = await outcome(login(stack, email, WRONG, attacker))
        assert refused is not None and refused.code() is EXHAUSTED, code(refused)
        delays.append(retry_after(refused))
        await asyncio.sleep(delays[-1] + 0.3)
        # After the wait, one more guess is checked (and fails).
        assert code(await outcome(login(stack, email, WRONG, attacker))) is UNAUTHENTICATED
    assert delays[0] < delays[1] < delays[2], delays

    # Throttled is throttled: even the right password is not checked from that pair now.
    assert code(await outcome(login(stack, email, PASSWORD, attacker))) is EXHAUSTED


async def test_rotating_addresses_cannot_make_a_hundred_guesses_an_hour(stack: PrivateStack) -> None:
    email = new_email("spray-target")
    home = new_address()
    await register(stack, email, home)

    codes = []
    for _ in range(120):
        codes.append(code(await outcome(login(stack, email, WRONG, as_gateway(stack, new_address())))))
    guesses = codes.count(UNAUTHENTICATED)
    assert codes.count(EXHAUSTED) == len(codes) - guesses
    # One hourly budget (two if the run straddles a window edge), far below 100.
    assert ACCOUNT_FAILURES <= guesses <= 2 * ACCOUNT_FAILURES < 100, codes

    # The owner, from the address the account signed up from, still gets in; a stranger's address
    # with the right password is refused while the budget for unknown addresses is spent.
    session = await login(stack, email, PASSWORD, as_gateway(stack, home))
    assert session.user.email == email
    stranger = await outcome(login(stack, email, PASSWORD, as_gateway(stack, new_address())))
    assert code(stranger) is EXHAUSTED


async def test_password_reset_requests_are_limited_per_address(stack: PrivateStack) -> None:
    address = new_address()
    for _ in range(RESET_ADDRESS_LIMIT):
        request = auth_pb2.RequestPasswordResetRequest(email=new_email("reset"))
        await call(stack, "RequestPasswordReset", request, as_gateway(stack, address))
    request = auth_pb2.RequestPasswordResetRequest(email=new_email("reset"))
    refused = await outcome(call(stack, "RequestPasswordReset", request, as_gateway(stack, address)))
    assert code(refused) is EXHAUSTED
    assert refused is not None and retry_after(refused) >= 1
    # Another address is not affected.
    await call(stack, "RequestPasswordReset", request, as_gateway(stack, new_address()))


# --- item 8: common passwords, expiring verification links -----------------------------------------


async def test_common_passwords_are_refused(stack: PrivateStack) -> None:
    address = new_address()
    for common in ("password123", "Password123", "iloveyou1"):
        request = auth_pb2.RegisterRequest(email=new_email("common"), password=common)
        refused = await outcome(call(stack, "Register", request, as_gateway(stack, address)))
        assert code(refused) is grpc.StatusCode.INVALID_ARGUMENT, common
        assert refused is not None and "password" in (refused.details() or "")
        assert "common" in (refused.details() or "")

    session = await register(stack, new_email("changer"), address)
    change = auth_pb2.ChangePasswordRequest(current_password=PASSWORD, new_password="password123")
    md = (*as_gateway(stack, address), ("authorization", f"Bearer {session.access_token}"))
    refused = await outcome(call(stack, "ChangePassword", change, md))
    assert code(refused) is grpc.StatusCode.INVALID_ARGUMENT
    assert refused is not None and "new_password" in (refused.details() or "")

    reset = auth_pb2.ResetPasswordRequest(token="x" * 43, new_password="password123")
    refused = await outcome(call(stack, "ResetPassword", reset, as_gateway(stack, address)))
    assert code(refused) is grpc.StatusCode.INVALID_ARGUMENT
    assert refused is not None and "new_password" in (refused.details() or "")


async def test_an_expired_verification_link_is_refused_and_a_resent_one_works(stack: PrivateStack) -> None:
    email = new_email("verify")
    session = await register(stack, email, new_address())
    outbox = Path(stack.env["SWARMCAST_MAIL_OUTBOX_DIR"])
    token = token_from_link((await wait_for_mail(outbox, email, "verification"))["link"])

    await asyncio.sleep(VERIFICATION_TTL + 1.5)
    expired = await outcome(call(stack, "VerifyEmail", auth_pb2.VerifyEmailRequest(token=token)))
    assert code(expired) is grpc.StatusCode.INVALID_ARGUMENT
    assert expired is not None and "expired" in (expired.details() or "")

    bearer = (("authorization", f"Bearer {session.access_token}"),)
    await call(stack, "ResendVerification", auth_pb2.ResendVerificationRequest(), bearer)
    fresh = token_from_link((await wait_for_mail(outbox, email, "verification", after=1))["link"])
    verified = await call(stack, "VerifyEmail", auth_pb2.VerifyEmailRequest(token=fresh))
    assert verified.user.email_verified
