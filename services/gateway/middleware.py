"""Plain ASGI middlewares (streamed responses such as SSE pass through untouched).

- `BodyLimitMiddleware`: request bodies above the limit are answered 413, whether announced by
  Content-Length or discovered while streaming a chunked body.
- `JsonFieldLimitMiddleware`: a JSON body with more fields (object members and array items, in
  all) than the limit is answered 422 before FastAPI validates it, so a 1 MB body of 90,000 keys
  costs one parse, not 90,000 validation errors.
- `ErrorCaptureMiddleware`: an exception escaping a route becomes a 500 with an error id, and is
  logged and published as `errors.captured` (source `api`) through the shared `ErrorReporter`, so
  it lands in `jobs.error_events` like the gRPC services' crashes.
- `SecurityHeadersMiddleware`: a strict Content-Security-Policy (the UI loads only its own
  modules; nothing from a CDN) and friends on every response.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.interceptors import ErrorReporter
from services.gateway.errors import ApiError

log = logging.getLogger("swarmcast.gateway")


class _BodyTooLarge(StarletteHTTPException):
    """An HTTPException, because FastAPI turns any other error while reading a body into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than {limit} bytes")


async def _send_error(send: Send, error: ApiError) -> None:
    response = error.response()
    await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "PAYLOAD_TOO_LARGE", f"request body is larger than {limit} bytes")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    await _send_error(send, ApiError(400, "INVALID_ARGUMENT", "invalid Content-Length"))
                    return
                if announced > self.max_bytes:
                    await _send_error(send, _too_large(self.max_bytes))
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _send_error(send, _too_large(self.max_bytes))


class _TooManyFields(Exception):
    """Raised from inside the JSON parser, so counting stops at the limit."""


def _count_fields(body: bytes, limit: int) -> bool:
    """True when `body` parses as JSON with at most `limit` fields; an invalid body is left to
    FastAPI (it answers 400), so this says True for it too."""
    seen = 0

    def count(items: Any) -> Any:
        nonlocal seen
        seen += len(items)
        if seen > limit:
            raise _TooManyFields
        return items

    def on_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        return dict(count(pairs))

    try:
        parsed = json.loads(body, object_pairs_hook=on_object)
        _count_items(parsed, count)
    except _TooManyFields:
        return False
    except (ValueError, RecursionError):
        return True
    return True


def _count_items(value: Any, count: Callable[[Any], Any]) -> None:
    # Arrays have no parser hook: their items are counted after the parse (objects already were).
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            count(item)
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())


class JsonFieldLimitMiddleware:
    """Buffers a JSON request body (already capped in bytes by `BodyLimitMiddleware`), counts its
    fields, and answers 422 above `max_fields`; otherwise replays the body to the app unchanged."""

    def __init__(self, app: ASGIApp, max_fields: int) -> None:
        self.app = app
        self.max_fields = max_fields

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if not _count_fields(body, self.max_fields):
            limit = self.max_fields
            await _send_error(
                send, ApiError(422, "INVALID_ARGUMENT", f"the request body has more than {limit} fields")
            )
            return
        await self.app(
            scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send
        )


def _is_json(scope: Scope) -> bool:
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            return b"json" in value.lower()
    return False


def _replay(messages: list[Message], then: Receive = _no_receive) -> Receive:
    """A receive that hands out `messages` first, then defers to `then` (e.g. for a disconnect)."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return await then()

    return receive


def _job_id(scope: Scope) -> int | None:
    """The job a failed request was about (path parameters are still strings here)."""
    raw = str((scope.get("path_params") or {}).get("job_id", ""))
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**63 else None


class ErrorCaptureMiddleware:
    def __init__(self, app: ASGIApp, reporter: Callable[[], ErrorReporter]) -> None:
        self.app = app
        self.reporter = reporter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            route = getattr(scope.get("route"), "path", None) or scope.get("path", "")
            error_id = self.reporter().report(
                exc, request_path=f"{scope.get('method', '')} {route}", job_id=_job_id(scope)
            )
            if started:
                return  # a stream already under way: nothing more can be said to the client
            await _send_error(
                send,
                ApiError(
                    500,
                    "INTERNAL",
                    f"internal error (error id {error_id}); it has been reported",
                    error_id=error_id,
                ),
            )


CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # Share links carry their token in the path: never send it on to another site.
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", ())}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
