"""The domain errors every service raises, each carrying the gRPC status it is answered with.

Use cases raise these and know nothing of gRPC; the shared `DomainErrorInterceptor`
(`services/common/interceptors.py`) ends the RPC with the error's `code`, its `message` as the
status details text, and its `status_details()` packed as google.rpc.Status details. Messages are
shown to callers as-is, so they never contain a password, token, hash or internal detail.

Anything else a handler raises is a bug or an outage: error capture answers INTERNAL with an
error id, never the exception's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from google.protobuf import duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc import StatusCode


class DomainError(Exception):
    """A failure the caller can act on; each subclass fixes the status `code`."""

    code: ClassVar[StatusCode] = StatusCode.UNKNOWN

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def status_details(self) -> list[Message]:
        """Structured details for clients (google.rpc error details or service messages)."""
        return []


class InvalidArgument(DomainError):
    """Bad input; `fields` maps request field → what is wrong with it (BadRequest details)."""

    code = StatusCode.INVALID_ARGUMENT

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})

    def status_details(self) -> list[Message]:
        if not self.fields:
            return []
        violations = [
            error_details_pb2.BadRequest.FieldViolation(field=field, description=description)
            for field, description in self.fields.items()
        ]
        return [error_details_pb2.BadRequest(field_violations=violations)]


class Unauthenticated(DomainError):
    """Missing, invalid or no-longer-valid credentials."""

    code = StatusCode.UNAUTHENTICATED


class PermissionDenied(DomainError):
    """Authenticated, but not allowed."""

    code = StatusCode.PERMISSION_DENIED


class NotFound(DomainError):
    """No such thing, as far as this caller may know."""

    code = StatusCode.NOT_FOUND


class AlreadyExists(DomainError):
    """The thing the caller wants to create exists already."""

    code = StatusCode.ALREADY_EXISTS


class FailedPrecondition(DomainError):
    """The request is fine but the state does not allow it."""

    code = StatusCode.FAILED_PRECONDITION


class ResourceExhausted(DomainError):
    """Over a limit; with `retry_after_seconds`, a RetryInfo detail (and `retry-after` metadata)."""

    code = StatusCode.RESOURCE_EXHAUSTED

    def __init__(self, message: str, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds

    def status_details(self) -> list[Message]:
        if self.retry_after_seconds is None:
            return []
        seconds = max(0.0, self.retry_after_seconds)
        whole = int(seconds)
        delay = duration_pb2.Duration(seconds=whole, nanos=int((seconds - whole) * 1e9))
        return [error_details_pb2.RetryInfo(retry_delay=delay)]


class Unavailable(DomainError):
    """Something this request needs is down or restarting: the caller may retry shortly."""

    code = StatusCode.UNAVAILABLE
