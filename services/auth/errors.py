"""Use-case errors of the auth service, free of gRPC; `server.py` maps each to a status code.

Messages are shown to callers as-is, so they never contain a password, token or hash.
"""

from __future__ import annotations

from collections.abc import Mapping


class AuthError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(AuthError):
    """Bad input (INVALID_ARGUMENT); `fields` maps request field → what is wrong with it."""

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})


class Unauthenticated(AuthError):
    """Missing, invalid or no-longer-valid credentials (UNAUTHENTICATED)."""


class PermissionDenied(AuthError):
    """Authenticated, but not allowed (PERMISSION_DENIED)."""


class AlreadyExists(AuthError):
    """ALREADY_EXISTS."""


class NotFound(AuthError):
    """NOT_FOUND."""


class FailedPrecondition(AuthError):
    """The request is fine but the state does not allow it (FAILED_PRECONDITION)."""


# The one answer for "no such email" and "wrong password" (Login): identical code and text.
INVALID_CREDENTIALS = "invalid email or password"
