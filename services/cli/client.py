"""The CLI's gRPC session: stored tokens, refresh on expiry, and errors a person can act on.

Every failure reaching the user is a `CliError` with a one-line message; in particular an
unreachable service says that the stack is not running and how to start it.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Self, TypeVar

import grpc
from swarmcast.auth.v1 import auth_pb2
from swarmcast.jobs.v1 import jobs_pb2

from services.cli import credentials
from services.common.clients import ServiceClients, bearer
from services.common.config import Settings
from services.common.status import field_violations, status_detail

R = TypeVar("R")
RPC_TIMEOUT_SECONDS = 30.0


class CliError(Exception):
    """A failure to report as `swarmcast: <message>` with exit status `code`."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


NOT_RUNNING_EXIT = 3


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high] (protobuf fields can't hold more)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}..{high}")
        return value

    return parse


def not_running(service: str, addr: str) -> CliError:
    return CliError(
        f"cannot reach the {service} service at {addr}: the swarmcast stack is not running "
        "(start it with `swarmcast up` or `make up`)",
        NOT_RUNNING_EXIT,
    )


def goal_suggestions(exc: grpc.aio.AioRpcError) -> list[str] | None:
    """The yes/no questions a refused goal came with (jobs.v1.GoalSuggestions detail), or None."""
    found = status_detail(exc, jobs_pb2.GoalSuggestions)
    return None if found is None else list(found.suggestions)


def numbered(questions: list[str]) -> str:
    return "\n".join(f"  {i}. {q}" for i, q in enumerate(questions, 1))


def refused_goal(exc: grpc.aio.AioRpcError, suggestions: list[str]) -> CliError:
    """A refused open-ended goal: what is wrong, then the questions to ask instead, one a line."""
    problem = field_violations(exc).get("goal") or exc.details() or "the goal was refused"
    if not suggestions:
        return CliError(f"{problem}\nAsk one yes/no question about an event in the seed.")
    return CliError(
        f'{problem}\nAsk one of these yes/no questions instead (--goal "..."):\n{numbered(suggestions)}'
    )


def rpc_failure(exc: grpc.aio.AioRpcError, service: str, addr: str) -> CliError:
    code = exc.code()
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        suggestions = goal_suggestions(exc)
        if suggestions is not None:
            return refused_goal(exc, suggestions)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return not_running(service, addr)
    if code is grpc.StatusCode.UNAUTHENTICATED:
        return CliError(f"{exc.details()}: log in with `swarmcast login`", 2)
    if code is grpc.StatusCode.RESOURCE_EXHAUSTED:
        return CliError(f"{exc.details()} (rate limited; try again later)")
    return CliError(exc.details() or code.name.lower())


# gRPC's own wording when it never reached the service (as opposed to a service answering
# UNAVAILABLE with a reason of its own, such as "no runner of tier small answered").
_TRANSPORT_FAILURES = ("failed to connect", "connection refused", "dns resolution", "socket closed")


def stream_failure(exc: grpc.aio.AioRpcError, addr: str) -> CliError:
    """Like `rpc_failure`, but a service's own UNAVAILABLE reason is shown as it is."""
    details = exc.details() or ""
    if (
        exc.code() is grpc.StatusCode.UNAVAILABLE
        and details
        and not any(marker in details.lower() for marker in _TRANSPORT_FAILURES)
    ):
        return CliError(f"{details} (try again shortly)")
    return rpc_failure(exc, "jobs", addr)


class Session:
    """One CLI command's connection to the stack. Use as `async with Session(settings) as s:`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clients: ServiceClients | None = None
        self.creds = credentials.load()
        if self.creds is not None and self.creds.auth_addr != settings.auth_addr:
            self.creds = None  # issued by another stack

    async def __aenter__(self) -> Self:
        self.clients = ServiceClients(self.settings)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.clients is not None:
            await self.clients.close()

    # --- authentication
    def require_login(self) -> credentials.Credentials:
        if self.creds is None:
            raise CliError("not logged in: run `swarmcast login` first", 2)
        return self.creds

    def _remember(self, email: str, reply: Any) -> credentials.Credentials:
        self.creds = credentials.Credentials(
            email=email,
            access_token=reply.access_token,
            refresh_token=reply.refresh_token,
            auth_addr=self.settings.auth_addr,
            user_id=int(reply.user.id) if reply.HasField("user") else 0,
        )
        return self.creds

    async def login(self, email: str, password: str, *, register: bool = False) -> credentials.Credentials:
        """Logs in (or signs up) and keeps the tokens in this session (not yet on disk)."""
        assert self.clients is not None
        auth = self.clients.auth
        if register:
            request = auth_pb2.RegisterRequest(email=email, password=password)
            reply: Any = await self.auth_call(auth.Register, request, anonymous=True)
        else:
            reply = await self.auth_call(
                auth.Login, auth_pb2.LoginRequest(email=email, password=password), anonymous=True
            )
        return self._remember(reply.user.email or email, reply)

    async def login_or_register(self, email: str, password: str, *, password_variable: str) -> bool:
        """Logs a dedicated local account (demo, eval) in, registering it the first time; True when
        it was registered. ``password_variable`` names the setting of its password."""
        try:
            await self.login(email, password)
            return False
        except CliError as exc:
            if exc.code != 2:  # anything but "invalid email or password"
                raise
        try:
            await self.login(email, password, register=True)
        except CliError as failure:
            if "exist" not in failure.message:
                raise
            raise CliError(f"{email} exists with another password; set {password_variable} to it") from None
        return True

    async def _refresh(self) -> bool:
        assert self.clients is not None
        if self.creds is None or not self.creds.refresh_token:
            return False
        try:
            reply = await self.clients.auth.Refresh(
                auth_pb2.RefreshRequest(refresh_token=self.creds.refresh_token), timeout=RPC_TIMEOUT_SECONDS
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() is grpc.StatusCode.UNAUTHENTICATED:
                return False
            raise rpc_failure(exc, "auth", self.settings.auth_addr) from None
        credentials.save(self._remember(self.creds.email, reply))
        return True

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        return bearer(self.creds.access_token) if self.creds else ()

    # --- calls
    async def auth_call(
        self, method: Callable[..., Awaitable[R]], request: Any, *, anonymous: bool = False
    ) -> R:
        return await self._call(method, request, "auth", self.settings.auth_addr, anonymous=anonymous)

    async def jobs_call(self, method_name: str, request: Any) -> Any:
        assert self.clients is not None
        method = getattr(self.clients.jobs, method_name)
        return await self._call(method, request, "jobs", self.settings.jobs_addr)

    async def _call(
        self,
        method: Callable[..., Awaitable[R]],
        request: Any,
        service: str,
        addr: str,
        *,
        anonymous: bool = False,
    ) -> R:
        if not anonymous:
            self.require_login()
        for attempt in range(2):
            try:
                metadata = () if anonymous else self._metadata()
                return await method(request, metadata=metadata, timeout=RPC_TIMEOUT_SECONDS)
            except grpc.aio.AioRpcError as exc:
                unauthenticated = exc.code() is grpc.StatusCode.UNAUTHENTICATED
                if unauthenticated and anonymous:  # wrong email or password, a bad reset token…
                    raise CliError(exc.details() or "unauthenticated", 2) from None
                if unauthenticated and attempt == 0 and await self._refresh():
                    continue
                raise rpc_failure(exc, service, addr) from None
        raise AssertionError("unreachable")

    async def jobs_stream(self, method_name: str, request: Any) -> AsyncIterator[Any]:
        """A server-streaming JobsService call: each message as it arrives. An expired token is
        refreshed once, before the first message."""
        assert self.clients is not None
        self.require_login()
        for attempt in range(2):
            call = getattr(self.clients.jobs, method_name)(request, metadata=self._metadata())
            started = False
            try:
                async for reply in call:
                    started = True
                    yield reply
                return
            except grpc.aio.AioRpcError as exc:
                expired = exc.code() is grpc.StatusCode.UNAUTHENTICATED
                if expired and not started and attempt == 0 and await self._refresh():
                    continue
                raise stream_failure(exc, self.settings.jobs_addr) from None
            finally:
                call.cancel()

    async def watch(self, job_id: int) -> AsyncIterator[jobs_pb2.Job]:
        """WatchJob: the job now and at every change, until it is terminal."""
        assert self.clients is not None
        self.require_login()
        for attempt in range(2):
            call = self.clients.jobs.WatchJob(
                jobs_pb2.WatchJobRequest(job_id=job_id), metadata=self._metadata()
            )
            try:
                async for reply in call:
                    yield reply.job
                return
            except grpc.aio.AioRpcError as exc:
                expired = exc.code() is grpc.StatusCode.UNAUTHENTICATED
                if expired and attempt == 0 and await self._refresh():
                    continue
                raise rpc_failure(exc, "jobs", self.settings.jobs_addr) from None
            finally:
                call.cancel()
