"""Revocation reaches every service (issue 17, item 2).

After a password change, a password reset, a logout or an account deletion, the old access token
is refused by the jobs service (which verifies tokens locally) - CreateJob, ShareJob and ListJobs
answer UNAUTHENTICATED and create nothing - while a fresh token works (except after deletion).
Auth publishes a per-user token cutoff (`auth.token_cutoff.<user_id>`) that every service applies
(services/common/revocation.py).

One private stack for the module (bench/harness.py). The refusal is polled for with a bounded
wait: the cutoff travels through the outbox and the bus, so it is not instantaneous.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
import pytest_asyncio
from swarmcast.auth.v1 import auth_pb2
from swarmcast.jobs.v1 import jobs_pb2

from bench.harness import Infra, Metadata, PrivateStack, create_request, evidence_seed
from services.auth.tokens import hash_opaque_token, new_opaque_token
from services.common.clients import auth_stub, bearer, insecure_channel, jobs_stub
from tests.fixtures.db import asyncpg_dsn

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(300)]

PASSWORD = "correct horse battery staple 4410"
NEW_PASSWORD = "another long passphrase 9921"
# Generous: only guards against a hang (outbox flush + bus delivery normally take milliseconds).
REFUSAL_WITHIN = 30.0


@pytest.fixture(scope="module")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with Infra(tmp_path_factory.mktemp("revocation-infra")) as value:
        yield value


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PrivateStack]:
    work: Path = tmp_path_factory.mktemp("revocation-stack")
    value = PrivateStack(infra.env(work / "run"), work / "logs")
    try:
        await value.launch("auth", "jobs")
        yield value
    finally:
        await asyncio.to_thread(value.stop_all)


async def register(stack: PrivateStack) -> tuple[str, auth_pb2.RegisterResponse]:
    email = f"revoke-{secrets.token_hex(4)}@example.test"
    async with insecure_channel(stack.addr("auth")) as ch:
        registered = await auth_stub(ch).Register(
            auth_pb2.RegisterRequest(email=email, password=PASSWORD), timeout=15
        )
    # No pause before the revocation: it usually falls in the same second as this token's `iat`,
    # and must refuse it all the same (cutoffs and `iat_ms` have millisecond precision).
    return email, registered


async def login(stack: PrivateStack, email: str, password: str) -> Metadata:
    async with insecure_channel(stack.addr("auth")) as ch:
        session = await auth_stub(ch).Login(auth_pb2.LoginRequest(email=email, password=password), timeout=15)
    return bearer(session.access_token)


def job_request(label: str) -> jobs_pb2.CreateJobRequest:
    return create_request(evidence_seed(f"Revocation check {label} {secrets.token_hex(3)}."))


async def code_of(call: Awaitable[Any]) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


async def wait_refused(stack: PrivateStack, md: Metadata) -> None:
    """Polls ListJobs with `md` until UNAUTHENTICATED (bounded), then checks the other RPCs."""
    deadline = time.monotonic() + REFUSAL_WITHIN
    async with insecure_channel(stack.addr("jobs")) as ch:
        jobs = jobs_stub(ch)
        while True:
            code = await code_of(jobs.ListJobs(jobs_pb2.ListJobsRequest(), metadata=md, timeout=10))
            if code is grpc.StatusCode.UNAUTHENTICATED:
                break
            assert time.monotonic() < deadline, f"old token still accepted ({code.name})\n{stack.tails()}"
            await asyncio.sleep(0.2)
        assert await code_of(jobs.CreateJob(job_request("old"), metadata=md, timeout=15)) is (
            grpc.StatusCode.UNAUTHENTICATED
        )
        assert (
            await code_of(
                jobs.CreateShareLink(jobs_pb2.CreateShareLinkRequest(job_id=1), metadata=md, timeout=10)
            )
            is grpc.StatusCode.UNAUTHENTICATED
        )


async def job_count(infra: Infra, user_id: int) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(infra.database_url))
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM jobs.simulation_jobs WHERE user_id = $1", str(user_id))
        )
    finally:
        await conn.close()


async def works(stack: PrivateStack, md: Metadata) -> None:
    async with insecure_channel(stack.addr("jobs")) as ch:
        jobs = jobs_stub(ch)
        await jobs.ListJobs(jobs_pb2.ListJobsRequest(), metadata=md, timeout=10)
        created = await jobs.CreateJob(job_request("fresh"), metadata=md, timeout=15)
        assert created.job.id > 0


async def old_token_works_before(stack: PrivateStack, md: Metadata) -> None:
    async with insecure_channel(stack.addr("jobs")) as ch:
        await jobs_stub(ch).ListJobs(jobs_pb2.ListJobsRequest(), metadata=md, timeout=10)


Revoke = Callable[[PrivateStack, Infra, str, auth_pb2.RegisterResponse], Awaitable[Metadata | None]]


async def change_password(
    stack: PrivateStack, infra: Infra, email: str, reg: auth_pb2.RegisterResponse
) -> Metadata | None:
    async with insecure_channel(stack.addr("auth")) as ch:
        changed = await auth_stub(ch).ChangePassword(
            auth_pb2.ChangePasswordRequest(current_password=PASSWORD, new_password=NEW_PASSWORD),
            metadata=bearer(reg.access_token),
            timeout=15,
        )
    return bearer(changed.access_token)


async def reset_password(
    stack: PrivateStack, infra: Infra, email: str, reg: auth_pb2.RegisterResponse
) -> Metadata | None:
    # The mailed link's token, planted directly (the mail itself is tested in services/auth).
    token = new_opaque_token()
    conn = await asyncpg.connect(asyncpg_dsn(infra.database_url))
    try:
        await conn.execute(
            "UPDATE auth.users SET reset_token = $1, reset_token_expires = $2 WHERE id = $3",
            hash_opaque_token(token),
            datetime.now(UTC) + timedelta(hours=1),
            reg.user.id,
        )
    finally:
        await conn.close()
    async with insecure_channel(stack.addr("auth")) as ch:
        await auth_stub(ch).ResetPassword(
            auth_pb2.ResetPasswordRequest(token=token, new_password=NEW_PASSWORD), timeout=15
        )
    return await login(stack, email, NEW_PASSWORD)


async def logout(
    stack: PrivateStack, infra: Infra, email: str, reg: auth_pb2.RegisterResponse
) -> Metadata | None:
    async with insecure_channel(stack.addr("auth")) as ch:
        await auth_stub(ch).Logout(auth_pb2.LogoutRequest(refresh_token=reg.refresh_token), timeout=15)
    return await login(stack, email, PASSWORD)


async def delete_account(
    stack: PrivateStack, infra: Infra, email: str, reg: auth_pb2.RegisterResponse
) -> Metadata | None:
    async with insecure_channel(stack.addr("auth")) as ch:
        await auth_stub(ch).DeleteAccount(
            auth_pb2.DeleteAccountRequest(password=PASSWORD), metadata=bearer(reg.access_token), timeout=15
        )
    return None


@pytest.mark.parametrize(
    "revoke",
    [change_password, reset_password, logout, delete_account],
    ids=["password-change", "password-reset", "logout", "deletion"],
)
async def test_old_access_token_is_refused_by_jobs(stack: PrivateStack, infra: Infra, revoke: Revoke) -> None:
    email, reg = await register(stack)
    old = bearer(reg.access_token)
    await old_token_works_before(stack, old)
    before = await job_count(infra, reg.user.id)
    fresh = await revoke(stack, infra, email, reg)
    await wait_refused(stack, old)
    if fresh is not None:
        assert await job_count(infra, reg.user.id) == before  # the refused calls created nothing
        await works(stack, fresh)
    else:
        assert await job_count(infra, reg.user.id) == 0


async def test_jobs_restarted_after_a_revocation_still_refuses(stack: PrivateStack, infra: Infra) -> None:
    """The cutoff is replayed from the stream when a service starts (not only pushed live)."""
    email, reg = await register(stack)
    old = bearer(reg.access_token)
    await logout(stack, infra, email, reg)
    await wait_refused(stack, old)
    stack.kill("jobs")
    await stack.launch("jobs")
    async with insecure_channel(stack.addr("jobs")) as ch:
        jobs = jobs_stub(ch)
        deadline = time.monotonic() + REFUSAL_WITHIN
        while True:
            code = await code_of(jobs.ListJobs(jobs_pb2.ListJobsRequest(), metadata=old, timeout=10))
            # UNAVAILABLE only while the list loads (fail-safe); never OK.
            assert code is not grpc.StatusCode.OK, "a restarted jobs service accepted a revoked token"
            if code is grpc.StatusCode.UNAUTHENTICATED:
                break
            assert time.monotonic() < deadline, code
            await asyncio.sleep(0.2)
