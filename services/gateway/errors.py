"""gRPC status → HTTP status, the JSON error body, and the handlers that produce it.

Every error leaves the gateway as

    {"error": {"status": 404, "code": "NOT_FOUND", "message": "job 7 not found",
               "fields": {...}, "error_id": "..."}}

`fields` (field → problem) is present for validation errors, `error_id` for server faults, and
`suggestions` (yes/no questions the seed can answer) when a job's goal was refused as open-ended.

Mapping (canonical code → HTTP):
- INVALID_ARGUMENT, OUT_OF_RANGE → 422 (the request was well-formed but its values are not
  acceptable; the same status as FastAPI's own body validation). Unparseable JSON is 400.
- UNAUTHENTICATED → 401 (with `WWW-Authenticate: Bearer`), PERMISSION_DENIED → 403,
  NOT_FOUND → 404, ALREADY_EXISTS and ABORTED → 409.
- FAILED_PRECONDITION → 409 Conflict: the request conflicts with the resource's current state
  (cancelling a finished job, sharing one that is not COMPLETED). 412 is reserved for HTTP
  conditional headers (If-Match), which these requests don't use.
- RESOURCE_EXHAUSTED → 429 with `Retry-After` from the `retry-after` trailing metadata.
- UNAVAILABLE → 503, DEADLINE_EXCEEDED → 504, UNIMPLEMENTED → 501, CANCELLED → 503.
- INTERNAL, UNKNOWN, DATA_LOSS → 500 carrying the service's message (which holds the error id the
  service already reported). Nothing the caller sends may produce these; the fuzz test checks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import grpc
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from swarmcast.jobs.v1 import jobs_pb2

from services.common.status import RETRY_AFTER_METADATA, field_violations, status_detail

log = logging.getLogger("swarmcast.gateway")

GRPC_TO_HTTP: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 422,
    grpc.StatusCode.OUT_OF_RANGE: 422,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.CANCELLED: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.DATA_LOSS: 500,
}
# What the caller sees instead of a transport-level detail such as "failed to connect to all addresses".
_UNAVAILABLE_MESSAGE = "a service this request needs is unavailable; try again shortly"
_ERROR_ID = re.compile(r"error id ([0-9a-f]{8,64})")

# HTTP statuses FastAPI/Starlette raise themselves (unknown route, wrong method) → our code names.
_HTTP_CODES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "FAILED_PRECONDITION",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class ErrorDetail(BaseModel):
    status: int
    code: str = Field(description="the canonical status name, e.g. NOT_FOUND")
    message: str
    fields: dict[str, str] | None = Field(None, description="field → what is wrong with it")
    error_id: str | None = Field(None, description="for server faults: quote it when reporting")
    suggestions: list[str] | None = Field(
        None, description="a refused open-ended goal: yes/no questions the seed can answer instead"
    )


class ErrorResponse(BaseModel):
    error: ErrorDetail


_ERROR_DOCS = {
    400: "malformed request (e.g. invalid JSON)",
    401: "sign-in required, or the token is invalid or expired",
    403: "not allowed (e.g. operator only)",
    404: "no such resource (or not yours)",
    409: "conflicts with the current state, or already exists",
    413: "request body too large",
    422: "invalid values; `fields` says which (and `suggestions` offers questions for a refused goal)",
    429: "rate limited; see Retry-After",
    500: "server fault; `error_id` identifies it",
    503: "a service is unavailable; retry",
}
# The error answers every route may give, documented once for all (OpenAPI `responses`).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text} for status, text in _ERROR_DOCS.items()
}


class ApiError(Exception):
    """An error answer: raise it from any route."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: Mapping[str, str] | None = None,
        error_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        suggestions: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        self.error_id = error_id
        self.headers = dict(headers or {})
        self.suggestions = suggestions

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        if self.error_id:
            error["error_id"] = self.error_id
        if self.suggestions is not None:
            error["suggestions"] = self.suggestions
        return {"error": error}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def _trailing(error: grpc.aio.AioRpcError, key: str) -> str | None:
    for k, v in error.trailing_metadata() or ():
        if k == key:
            return v.decode("latin-1") if isinstance(v, bytes) else str(v)
    return None


def retry_after_seconds(error: grpc.aio.AioRpcError) -> int | None:
    raw = _trailing(error, RETRY_AFTER_METADATA)
    try:
        return max(1, int(float(raw))) if raw is not None else None
    except ValueError:
        return None


def goal_suggestions(error: grpc.aio.AioRpcError) -> list[str] | None:
    """The yes/no questions a refused goal came with (jobs.v1.GoalSuggestions detail), or None."""
    found = status_detail(error, jobs_pb2.GoalSuggestions)
    return None if found is None else list(found.suggestions)


def from_rpc_error(error: grpc.aio.AioRpcError) -> ApiError:
    code = error.code()
    status = GRPC_TO_HTTP.get(code, 500)
    message = error.details() or code.name.lower().replace("_", " ")
    headers: dict[str, str] = {}
    fields: dict[str, str] = {}
    error_id = None
    suggestions = None
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        fields = field_violations(error)
        suggestions = goal_suggestions(error)
    elif code is grpc.StatusCode.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = "Bearer"
    elif code is grpc.StatusCode.RESOURCE_EXHAUSTED:
        seconds = retry_after_seconds(error)
        if seconds is not None:
            headers["Retry-After"] = str(seconds)
    elif code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
        message = _UNAVAILABLE_MESSAGE
        headers["Retry-After"] = "1"
    elif status == 500:
        match = _ERROR_ID.search(message)
        error_id = match.group(1) if match else None
        log.error("upstream %s: %s", code.name, message)
    return ApiError(
        status, code.name, message, fields=fields, error_id=error_id, headers=headers, suggestions=suggestions
    )


# At most this many fields are listed in one validation error.
MAX_FIELD_ERRORS = 20


def _loc_name(loc: tuple[Any, ...]) -> str:
    # ("body", "seed_text") → "seed_text"; ("query", "page") → "page"; ("body",) → "body".
    parts = [str(p) for p in loc[1:]] or [str(p) for p in loc]
    return ".".join(parts)


async def validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return ApiError(400, "INVALID_ARGUMENT", "the request body is not valid JSON").response()
    fields: dict[str, str] = {}
    for e in errors:
        fields.setdefault(_loc_name(tuple(e.get("loc", ()))), str(e.get("msg", "invalid")))
    summary = "; ".join(f"{k}: {v}" for k, v in list(fields.items())[:5])
    if len(fields) > MAX_FIELD_ERRORS:
        # The error names the first few fields, not every one of thousands.
        summary += f"; and {len(fields) - 5} more fields"
        fields = dict(list(fields.items())[:MAX_FIELD_ERRORS])
    return ApiError(422, "INVALID_ARGUMENT", f"invalid request: {summary}", fields=fields).response()


async def http_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    message = exc.detail if isinstance(exc.detail, str) else code.lower()
    return ApiError(exc.status_code, code, message, headers=exc.headers).response()


async def api_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return exc.response()
