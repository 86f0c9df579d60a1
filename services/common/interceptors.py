"""grpc.aio server interceptors shared by every service.

`standard_interceptors()` gives the chain every server uses, outermost first:

1. `RequestLoggingInterceptor` — one log line per RPC: method, status code, duration, user id,
   error id. Never the request or response bodies (they hold passwords, tokens and seed text).
2. `IdentityInterceptor` — `authorization: Bearer <jwt>` → `current_identity`; a token that is
   present but invalid, expired or forged ends the call UNAUTHENTICATED. A missing token is not
   rejected here: handlers decide with `require_identity` / `require_operator`.
3. `ErrorCaptureInterceptor` — an exception escaping a handler becomes INTERNAL with a generic
   message and an error id; the traceback is logged and `errors.captured` is published.
4. `MalformedRequestInterceptor` — request bytes that are not a valid message: INVALID_ARGUMENT.

`DomainErrorInterceptor` is not in that chain: the server bootstrap (`grpc_server.GrpcServer`)
puts it innermost on every server, so a `services.common.errors.DomainError` raised by any handler
ends the call with its own status, and error capture only ever sees unexpected exceptions.

Each interceptor wraps the handler's behaviour, so it works for all four RPC shapes (unary and
streaming requests/responses) and keeps the shape grpc expects (coroutine vs async generator).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import logging
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import grpc
from google.protobuf.message import Message
from swarmcast.events.v1 import events_pb2

from services.common import subjects
from services.common.errors import DomainError
from services.common.identity import (
    Identity,
    InvalidToken,
    KeysUnavailable,
    TokenAuthenticator,
    current_identity,
)
from services.common.status import abort_with_error

log = logging.getLogger("swarmcast.grpc")

HEALTH_PREFIX = "/grpc.health.v1.Health/"
REFLECTION_PREFIX = "/grpc.reflection."

# RPCs that need no access token. Health and reflection are public by prefix.
DEFAULT_PUBLIC_METHODS: frozenset[str] = frozenset(
    {
        "/swarmcast.auth.v1.AuthService/Register",
        "/swarmcast.auth.v1.AuthService/Login",
        "/swarmcast.auth.v1.AuthService/Refresh",
        "/swarmcast.auth.v1.AuthService/Logout",
        "/swarmcast.auth.v1.AuthService/VerifyEmail",
        "/swarmcast.auth.v1.AuthService/RequestPasswordReset",
        "/swarmcast.auth.v1.AuthService/ResetPassword",
        "/swarmcast.auth.v1.AuthService/Authenticate",
        "/swarmcast.auth.v1.AuthService/GetSigningKeys",
        "/swarmcast.jobs.v1.JobsService/GetSharedJob",
        "/swarmcast.jobs.v1.JobsService/GetSharedSimData",
    }
)

# Codes that mean "the server broke", as opposed to the caller asking for something wrong.
_SERVER_FAULT_CODES = frozenset(
    {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS}
)
_TRANSIENT_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


def is_infrastructure_method(method: str) -> bool:
    """Health checks and reflection: always public, logged at DEBUG (they are polled)."""
    return method.startswith(HEALTH_PREFIX) or method.startswith(REFLECTION_PREFIX)


@dataclass
class RequestInfo:
    """Per-RPC facts that inner interceptors hand to the logging interceptor."""

    method: str
    user_id: str = ""
    error_id: str = ""


_request_info: ContextVar[RequestInfo | None] = ContextVar("swarmcast_request_info", default=None)


def current_request_info() -> RequestInfo | None:
    return _request_info.get()


# --------------------------------------------------------------------------------------------
# Wrapping machinery: an interceptor supplies an async context manager run around each call.

Around = Callable[[str, Any, grpc.aio.ServicerContext], contextlib.AbstractAsyncContextManager[None]]


def _wrap_unary_response(behavior: Callable[..., Any], method: str, around: Around, streaming_request: bool):
    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
        async with around(method, None if streaming_request else request, context):
            result = behavior(request, context)
            # Generated base servicers are plain functions; real handlers are coroutines.
            if inspect.isawaitable(result):
                result = await result
            return result

    return wrapped


def _wrap_streaming_response(
    behavior: Callable[..., Any], method: str, around: Around, streaming_request: bool
):
    if inspect.iscoroutinefunction(behavior):
        # Handler writes with context.write() (e.g. health Watch): stay a coroutine.
        async def wrapped_coroutine(request: Any, context: grpc.aio.ServicerContext) -> None:
            async with around(method, None if streaming_request else request, context):
                await behavior(request, context)

        return wrapped_coroutine

    async def wrapped_generator(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        async with around(method, None if streaming_request else request, context):
            result = behavior(request, context)
            if hasattr(result, "__aiter__"):
                async for item in result:
                    yield item
            elif result is not None:
                for item in result:
                    yield item

    return wrapped_generator


def _rewrap(handler: grpc.RpcMethodHandler, method: str, around: Around) -> grpc.RpcMethodHandler:
    codec = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        fn = _wrap_unary_response(handler.unary_unary, method, around, False)
        return grpc.unary_unary_rpc_method_handler(fn, **codec)
    if handler.unary_stream is not None:
        fn = _wrap_streaming_response(handler.unary_stream, method, around, False)
        return grpc.unary_stream_rpc_method_handler(fn, **codec)
    if handler.stream_unary is not None:
        fn = _wrap_unary_response(handler.stream_unary, method, around, True)
        return grpc.stream_unary_rpc_method_handler(fn, **codec)
    if handler.stream_stream is not None:
        fn = _wrap_streaming_response(handler.stream_stream, method, around, True)
        return grpc.stream_stream_rpc_method_handler(fn, **codec)
    return handler


class AroundInterceptor(grpc.aio.ServerInterceptor):
    """Base class: subclasses implement `around(method, request, context)`.

    `request` is None for client-streaming RPCs. The context manager may abort the call before
    yielding, and sees (and may translate) whatever the handler raises.
    """

    def applies_to(self, method: str) -> bool:
        return True

    def around(
        self, method: str, request: Any, context: grpc.aio.ServicerContext
    ) -> contextlib.AbstractAsyncContextManager[None]:
        raise NotImplementedError

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not self.applies_to(method):
            return handler
        return _rewrap(handler, method, self.around)


def _final_code(context: grpc.aio.ServicerContext) -> grpc.StatusCode:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    return grpc.StatusCode.OK


def _reset_context_var(var: contextvars.ContextVar[Any], token: contextvars.Token[Any]) -> None:
    """Restores `var` after an RPC. A stream's generator closed by the event loop's finalizer (a
    server stopping with a stream open) runs in another Context, where the request's context is
    already gone and there is nothing to restore."""
    with contextlib.suppress(ValueError):
        var.reset(token)


# --------------------------------------------------------------------------------------------
# 1. Request logging


class RequestLoggingInterceptor(AroundInterceptor):
    """Logs method, status code and duration of every RPC; never bodies."""

    def __init__(self, service: str, logger: logging.Logger | None = None) -> None:
        self.service = service
        self.log = logger or log

    @contextlib.asynccontextmanager
    async def around(self, method: str, request: Any, context: grpc.aio.ServicerContext):
        info = RequestInfo(method=method)
        token = _request_info.set(info)
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        try:
            yield
            code = _final_code(context)
        except grpc.aio.AbortError:
            code = _final_code(context)
            raise
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED
            raise
        except BaseException:
            code = grpc.StatusCode.UNKNOWN
            raise
        finally:
            _reset_context_var(_request_info, token)
            duration_ms = (time.perf_counter() - started) * 1000.0
            self._log(info, code, duration_ms)

    def _log(self, info: RequestInfo, code: grpc.StatusCode, duration_ms: float) -> None:
        if is_infrastructure_method(info.method):
            level = logging.DEBUG
        elif code in _SERVER_FAULT_CODES:
            level = logging.ERROR
        elif code in _TRANSIENT_CODES:
            level = logging.WARNING
        else:
            level = logging.INFO
        if not self.log.isEnabledFor(level):
            return
        fields = {
            "service": self.service,
            "grpc_method": info.method,
            "grpc_code": code.name,
            "duration_ms": round(duration_ms, 2),
        }
        if info.user_id:
            fields["user_id"] = info.user_id
        if info.error_id:
            fields["error_id"] = info.error_id
        self.log.log(level, "rpc %s %s %.1fms", info.method, code.name, duration_ms, extra=fields)


# --------------------------------------------------------------------------------------------
# 2. Identity


def bearer_token(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    """The token of an `authorization: Bearer <token>` entry; None when there is no such entry.

    Raises InvalidToken for an `authorization` entry that is not a bearer token.
    """
    for key, value in metadata or ():
        if key.lower() != "authorization":
            continue
        text = value.decode() if isinstance(value, bytes) else value
        scheme, _, token = text.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken("authorization metadata must be 'Bearer <access token>'")
        return token.strip()
    return None


class IdentityInterceptor(AroundInterceptor):
    """Sets `current_identity` from the bearer token; rejects bad tokens, never missing ones."""

    def __init__(
        self, keys: TokenAuthenticator, public_methods: Iterable[str] = DEFAULT_PUBLIC_METHODS
    ) -> None:
        self.keys = keys
        self.public_methods = frozenset(public_methods)

    def applies_to(self, method: str) -> bool:
        # Public RPCs ignore tokens entirely: a stale token must not block Login or Refresh.
        return not (is_infrastructure_method(method) or method in self.public_methods)

    @contextlib.asynccontextmanager
    async def around(self, method: str, request: Any, context: grpc.aio.ServicerContext):
        identity = await self._authenticate(context)
        token = current_identity.set(identity)
        info = _request_info.get()
        if info is not None and identity is not None:
            info.user_id = identity.user_id
        try:
            yield
        finally:
            _reset_context_var(current_identity, token)

    async def _authenticate(self, context: grpc.aio.ServicerContext) -> Identity | None:
        try:
            token = bearer_token(context.invocation_metadata())
            if token is None:
                return None
            return await self.keys.verify(token)
        except KeysUnavailable as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"cannot verify the access token now: {exc}")
        except InvalidToken as exc:
            message = "access token has expired" if "expired" in str(exc) else "invalid access token"
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)
        raise AssertionError("unreachable")


# --------------------------------------------------------------------------------------------
# 3. Unhandled-error capture


class EventPublisher(Protocol):
    """What error capture needs from the EventBus."""

    async def publish(self, subject: str, message: Message, *, msg_id: str) -> Any: ...


class ErrorReporter:
    """Logs an unhandled exception and publishes it as `errors.captured`, best effort.

    Usable outside gRPC too: background workers call `report(exc)` with source "worker".
    Publishing runs in the background and never raises; `drain()` waits for what is in flight.
    """

    def __init__(
        self,
        service: str,
        source: str = "api",
        bus: EventPublisher | None = None,
        *,
        publish_timeout: float = 5.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self.service = service
        self.source = source
        self.bus = bus
        self.publish_timeout = publish_timeout
        self.log = logger or log
        self._pending: set[asyncio.Task[None]] = set()

    def attach(self, bus: EventPublisher | None) -> None:
        self.bus = bus

    def report(
        self,
        exc: BaseException,
        *,
        request_path: str = "",
        user_id: str = "",
        job_id: int | None = None,
        error_id: str | None = None,
    ) -> str:
        """Logs `exc` with its traceback, schedules the event, and returns the error id."""
        error_id = error_id or uuid.uuid4().hex
        try:
            tb = "".join(traceback.format_exception(exc))
            self.log.error(
                "unhandled error %s in %s: %s: %s",
                error_id,
                request_path or self.service,
                type(exc).__name__,
                exc,
                exc_info=(type(exc), exc, exc.__traceback__),
                extra={"service": self.service, "error_id": error_id, "error_source": self.source},
            )
            if self.bus is not None:
                event = events_pb2.ErrorCaptured(
                    level="error",
                    source=self.source,
                    service=self.service,
                    message=f"{type(exc).__name__}: {exc}"[:2000],
                    traceback=tb[-16000:],
                    user_id=user_id,
                    request_path=request_path,
                    error_id=error_id,
                )
                event.timestamp.FromDatetime(datetime.now(UTC))
                if job_id:
                    event.job_id = job_id
                task = asyncio.get_running_loop().create_task(self._publish(event))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)
        except Exception:  # capture must never turn one failure into two
            self.log.exception("error capture failed for %s", error_id)
        return error_id

    async def _publish(self, event: events_pb2.ErrorCaptured) -> None:
        bus = self.bus
        if bus is None:
            return
        try:
            await asyncio.wait_for(
                bus.publish(subjects.ERRORS_CAPTURED, event, msg_id=f"error-{event.error_id}"),
                timeout=self.publish_timeout,
            )
        except Exception as exc:
            self.log.warning("could not publish errors.captured %s: %s", event.error_id, exc)

    async def drain(self, max_wait: float = 5.0) -> None:
        """Waits (bounded) for in-flight publishes, e.g. before closing the bus at shutdown."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=max_wait)


def _job_id_of(request: Any) -> int | None:
    value = getattr(request, "job_id", None)
    return value if isinstance(value, int) and value > 0 else None


class ErrorCaptureInterceptor(AroundInterceptor):
    """Turns exceptions escaping handlers into INTERNAL + error id, and reports them."""

    def __init__(self, reporter: ErrorReporter) -> None:
        self.reporter = reporter

    @contextlib.asynccontextmanager
    async def around(self, method: str, request: Any, context: grpc.aio.ServicerContext):
        try:
            yield
        except (grpc.aio.AbortError, asyncio.CancelledError):
            raise  # a deliberate status, or the client went away
        except Exception as exc:
            explicit = context.code()
            if isinstance(explicit, grpc.StatusCode) and explicit is not grpc.StatusCode.OK:
                # The handler chose a status before raising (the generated base classes do this
                # for UNIMPLEMENTED): honour it rather than reporting a crash.
                await context.abort(explicit, context.details() or explicit.name.lower())
            if isinstance(exc, grpc.aio.AioRpcError) and exc.code() in _TRANSIENT_CODES:
                # A dependency is down or slow: retryable for the caller, not a bug here.
                log.warning("%s: upstream call failed: %s %s", method, exc.code().name, exc.details())
                await context.abort(
                    grpc.StatusCode.UNAVAILABLE, "a service this request needs is unavailable"
                )
            identity = current_identity.get()
            error_id = self.reporter.report(
                exc,
                request_path=method,
                user_id=identity.user_id if identity else "",
                job_id=_job_id_of(request),
            )
            info = _request_info.get()
            if info is not None:
                info.error_id = error_id
            await context.abort(
                grpc.StatusCode.INTERNAL,
                f"internal error (error id {error_id}); it has been reported",
            )


# --------------------------------------------------------------------------------------------
# 4. Malformed request bytes


class _MalformedRequest:
    """Stands in for a request whose bytes did not parse (the deserializer must not raise)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _safe_deserializer(deserialize: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def parse(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception as exc:  # DecodeError, invalid UTF-8 in a string field, ...
            return _MalformedRequest(type(exc).__name__)

    return parse


class MalformedRequestInterceptor(AroundInterceptor):
    """INVALID_ARGUMENT for request bytes that are not a valid message.

    Without it grpc answers UNKNOWN ("Unexpected DecodeError") before any handler runs. Innermost
    in the chain, so the caller is authenticated and the call is logged like any other; only
    unary-request methods are covered (a streaming request's messages are parsed later, by the
    handler's reads).
    """

    @contextlib.asynccontextmanager
    async def around(self, method: str, request: Any, context: grpc.aio.ServicerContext):
        if isinstance(request, _MalformedRequest):
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"malformed request message ({request.reason})"
            )
        yield

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_streaming or handler.request_deserializer is None:
            return handler
        wrapped = _rewrap(handler, handler_call_details.method, self.around)
        return wrapped._replace(request_deserializer=_safe_deserializer(handler.request_deserializer))


# --------------------------------------------------------------------------------------------
# 5. Domain errors (added innermost by the server bootstrap)

ErrorTranslator = Callable[[Exception], DomainError | None]


class DomainErrorInterceptor(AroundInterceptor):
    """Ends the RPC with the status of the `DomainError` a handler raised (unary or streaming).

    `translate` lets a service name its own infrastructure failures as domain errors (auth: its
    database down → Unavailable); an exception it returns None for goes on to error capture.
    """

    def __init__(self, translate: ErrorTranslator | None = None) -> None:
        self.translate = translate

    @contextlib.asynccontextmanager
    async def around(self, method: str, request: Any, context: grpc.aio.ServicerContext):
        try:
            yield
        except DomainError as exc:
            await abort_with_error(context, exc)
        except grpc.aio.AbortError:
            raise  # the handler chose its status itself
        except Exception as exc:
            error = self.translate(exc) if self.translate is not None else None
            if error is None:
                raise
            log.warning("%s: %s answered %s", method, type(exc).__name__, error.code.name)
            await abort_with_error(context, error)


def standard_interceptors(
    service: str,
    *,
    keys: TokenAuthenticator,
    errors: ErrorReporter,
    public_methods: Iterable[str] = DEFAULT_PUBLIC_METHODS,
) -> Sequence[grpc.aio.ServerInterceptor]:
    """The interceptor chain every swarmcast server uses.

    logging → identity → error capture → malformed-request rejection; the server bootstrap adds
    its startup gate and `DomainErrorInterceptor` inside these.
    """
    return (
        RequestLoggingInterceptor(service),
        IdentityInterceptor(keys, public_methods),
        ErrorCaptureInterceptor(errors),
        MalformedRequestInterceptor(),
    )
