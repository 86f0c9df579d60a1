"""Use-case errors → gRPC status codes (no server needed: a fake context records the abort)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from sqlalchemy.exc import OperationalError
from swarmcast.auth.v1 import auth_pb2

from services.auth import errors
from services.auth.ratelimit import RateLimited
from services.auth.servicer import UNDECODABLE, _rpc, _tolerant


class Aborted(Exception):
    pass


class FakeContext:
    def __init__(self) -> None:
        self.code: grpc.StatusCode | None = None
        self.message = ""
        self.trailers: tuple[tuple[str, Any], ...] = ()

    async def abort(self, code: grpc.StatusCode, message: str, trailing_metadata: Any = ()) -> None:
        self.code, self.message, self.trailers = code, message, tuple(trailing_metadata)
        raise Aborted


CASES = [
    (
        errors.InvalidArgument("email is required", {"email": "email is required"}),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (errors.Unauthenticated("invalid email or password"), grpc.StatusCode.UNAUTHENTICATED),
    (errors.PermissionDenied("no"), grpc.StatusCode.PERMISSION_DENIED),
    (errors.AlreadyExists("taken"), grpc.StatusCode.ALREADY_EXISTS),
    (errors.NotFound("gone"), grpc.StatusCode.NOT_FOUND),
    (errors.FailedPrecondition("already verified"), grpc.StatusCode.FAILED_PRECONDITION),
    (RateLimited("too many sign-in attempts; try again later", 17), grpc.StatusCode.RESOURCE_EXHAUSTED),
    (OperationalError("SELECT 1", {}, ConnectionRefusedError()), grpc.StatusCode.UNAVAILABLE),
    (ConnectionResetError(), grpc.StatusCode.UNAVAILABLE),
]


@pytest.mark.parametrize(("exc", "code"), CASES, ids=[type(e).__name__ for e, _ in CASES])
async def test_error_mapping(exc: Exception, code: grpc.StatusCode) -> None:
    async def handler(self: object, request: object, context: object) -> Any:
        raise exc

    context = FakeContext()
    with pytest.raises(Aborted):
        await _rpc(handler)(object(), object(), context)  # type: ignore[arg-type]
    assert context.code is code
    if isinstance(exc, errors.AuthError):
        assert context.message == exc.message
    if isinstance(exc, RateLimited):
        assert ("retry-after", "17") in context.trailers


async def test_undecodable_request_is_invalid_argument() -> None:
    async def handler(self: object, request: object, context: object) -> Any:
        raise AssertionError("must not run")

    context = FakeContext()
    with pytest.raises(Aborted):
        await _rpc(handler)(object(), UNDECODABLE, context)  # type: ignore[arg-type]
    assert context.code is grpc.StatusCode.INVALID_ARGUMENT


def test_tolerant_deserializer() -> None:
    parse = _tolerant(auth_pb2.LoginRequest.FromString)
    assert parse(auth_pb2.LoginRequest(email="a@b.co").SerializeToString()).email == "a@b.co"
    assert parse(b"\x0a\x02\xff\xfe") is UNDECODABLE
    assert parse(b"\xff\xff\xff") is UNDECODABLE
