"""Helpers for the auth gRPC tests: in-process auth servers, a client, the outbox, row counts."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import grpc
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from swarmcast.auth.v1 import auth_pb2, auth_pb2_grpc

from services.auth.handlers import read_outbox
from services.auth.server import build
from services.auth.service import AuthService
from services.auth.settings import AuthSettings
from services.common.clientip import FORWARD_SECRET as FORWARD_SECRET_KEY
from services.common.clients import insecure_channel
from services.common.config import Settings
from services.common.grpc_server import GrpcServer
from tests.fixtures.settings import settings_for

OPERATOR_EMAIL = "operator@example.com"
# The forward secret of every test node: a `Client` sends it, playing the gateway, so the address it
# claims in x-forwarded-for is believed (callers without it count as their own peer).
FORWARD_SECRET = "auth-tests-forward-secret"
# Rows of these tables must not change when a request is rejected as bad input.
AUTH_TABLES = (
    "auth.users",
    "auth.refresh_tokens",
    "auth.token_cutoffs",
    "auth.rate_limits",
    "auth.outbox_events",
)


@dataclass
class AuthNode:
    """One running auth server (an in-process "replica")."""

    server: GrpcServer
    settings: Settings
    auth_settings: AuthSettings
    channel: grpc.aio.Channel
    stub: auth_pb2_grpc.AuthServiceStub

    @property
    def address(self) -> str:
        return self.server.address

    @property
    def service(self) -> AuthService:
        return self.server.state["auth"]

    @property
    def outbox(self) -> Path:
        return self.auth_settings.mail_outbox_dir

    async def stop(self) -> None:
        await self.channel.close()
        await self.server.stop(grace=2)


async def start_auth_node(
    *,
    database_url: str,
    nats_url: str,
    nats_prefix: str,
    workdir: Path,
    key_dir: Path | None = None,
    outbox: Path | None = None,
    auth_settings: AuthSettings | None = None,
    **overrides: Any,
) -> AuthNode:
    settings = settings_for(
        database_url=database_url,
        nats_url=nats_url,
        nats_prefix=nats_prefix,
        # Port 0: a free port (50051 belongs to the stack fixture).
        auth_addr="127.0.0.1:0",
        bind_host="127.0.0.1",
        database_pool_size=4,
        **overrides,
    )
    own = (auth_settings or settings_for(AuthSettings)).model_copy(
        update={
            "signing_key_dir": key_dir or workdir / "keys",
            "mail_outbox_dir": outbox or workdir / "outbox",
            "operator_emails": OPERATOR_EMAIL,
            "smtp_url": None,
            "gateway_forward_secret": (auth_settings.gateway_forward_secret if auth_settings else None)
            or SecretStr(FORWARD_SECRET),
        }
    )
    spec = await build(settings, own)
    server = GrpcServer(spec)
    await server.start()
    channel = insecure_channel(server.address)
    return AuthNode(server, settings, own, channel, auth_pb2_grpc.AuthServiceStub(channel))


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{secrets.token_hex(5)}@example.com"


def unique_address() -> str:
    """A client address from TEST-NET-2, unique per call, so tests never share rate-limit buckets."""
    n = secrets.randbelow(2**16)
    return f"198.51.{n // 256}.{n % 256}"


@dataclass
class Client:
    """Calls one auth node as one client address (sent as x-forwarded-for with the forward secret,
    as the gateway does)."""

    stub: auth_pb2_grpc.AuthServiceStub
    address: str = field(default_factory=unique_address)

    def metadata(self, token: str | None = None) -> tuple[tuple[str, str], ...]:
        md: list[tuple[str, str]] = [("x-forwarded-for", self.address), (FORWARD_SECRET_KEY, FORWARD_SECRET)]
        if token is not None:
            md.append(("authorization", f"Bearer {token}"))
        return tuple(md)

    async def call(self, method: str, request: Any, token: str | None = None) -> Any:
        return await getattr(self.stub, method)(request, metadata=self.metadata(token), timeout=30)

    async def register(self, email: str, password: str) -> auth_pb2.RegisterResponse:
        return await self.call("Register", auth_pb2.RegisterRequest(email=email, password=password))

    async def login(self, email: str, password: str) -> auth_pb2.LoginResponse:
        return await self.call("Login", auth_pb2.LoginRequest(email=email, password=password))


async def rpc_error(awaitable: Any) -> grpc.aio.AioRpcError:
    """Awaits a call that must fail; returns its error."""
    try:
        await awaitable
    except grpc.aio.AioRpcError as exc:
        return exc
    raise AssertionError("the call succeeded but was expected to fail")


def trailing(error: grpc.aio.AioRpcError, key: str) -> str | None:
    for k, v in error.trailing_metadata() or ():
        if k == key:
            return v if isinstance(v, str) else v.decode()
    return None


async def wait_for_mail(
    outbox: Path, to: str, kind: str, *, after: int = 0, max_wait: float = 15.0
) -> dict[str, Any]:
    """The (after+1)-th outbox message of `kind` to `to`, waiting for the mail sender to write it."""
    deadline = time.monotonic() + max_wait
    while True:
        found = [m for m in read_outbox(outbox) if m["to"] == to and m["kind"] == kind]
        if len(found) > after:
            return found[after]
        if time.monotonic() > deadline:
            raise AssertionError(f"no {kind} email to {to} in {outbox} after {max_wait}s (saw {len(found)})")
        await asyncio.sleep(0.05)


def token_from_link(link: str) -> str:
    return parse_qs(urlparse(link).query)["token"][0]


# Every auth table, each row as a tuple whose last element is when the row may be cleaned up
# (NULL: never). Background cleanup (any auth process on this database) deletes only rows whose
# time has passed, so "nothing written" compares the rows still live at one instant.
SNAPSHOT_QUERIES = {
    "auth.users": "SELECT id, email, password_hash, email_verified, verification_token, reset_token,"
    " reset_token_expires, NULL::timestamptz FROM auth.users",
    "auth.refresh_tokens": "SELECT id, user_id, token_hash, family_id, revoked_at, replaced_by_id, expires_at"
    " FROM auth.refresh_tokens",
    "auth.token_cutoffs": "SELECT user_id, not_before, NULL::timestamptz FROM auth.token_cutoffs",
    "auth.rate_limits": "SELECT bucket, window_start, hits, expires_at FROM auth.rate_limits",
    "auth.outbox_events": "SELECT id, msg_id, attempts, NULL::timestamptz FROM auth.outbox_events",
}


async def snapshot(sessions: async_sessionmaker[AsyncSession]) -> dict[str, set[tuple[Any, ...]]]:
    async with sessions() as session:
        return {
            table: {tuple(row) for row in (await session.execute(text(query))).all()}
            for table, query in SNAPSHOT_QUERIES.items()
        }


def live_rows(snap: dict[str, set[tuple[Any, ...]]], at: datetime) -> dict[str, set[tuple[Any, ...]]]:
    return {table: {r for r in rows if r[-1] is None or r[-1] > at} for table, rows in snap.items()}


async def assert_nothing_written(
    sessions: async_sessionmaker[AsyncSession], before: dict[str, set[tuple[Any, ...]]]
) -> None:
    at = datetime.now(UTC)
    after = await snapshot(sessions)
    for table in SNAPSHOT_QUERIES:
        assert live_rows(after, at)[table] == live_rows(before, at)[table], f"{table} changed"


async def count_rows(
    sessions: async_sessionmaker[AsyncSession], tables: Sequence[str] = AUTH_TABLES
) -> dict[str, int]:
    async with sessions() as session:
        return {
            t: int((await session.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one()) for t in tables
        }
