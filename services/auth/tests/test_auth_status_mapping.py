"""Auth's errors → gRPC status codes through the shared interceptors (no server needed: a fake
context records the abort)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from sqlalchemy.exc import OperationalError
from swarmcast.auth.v1 import auth_pb2

from services.auth.ratelimit import RateLimited
from services.auth.servicer import dependency_unavailable
from services.common import errors
from services.common.interceptors import DomainErrorInterceptor, MalformedRequestInterceptor

LOGIN = "/swarmcast.auth.v1.AuthService/Login"


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
    context = FakeContext()
    with pytest.raises(Aborted):
        async with DomainErrorInterceptor(dependency_unavailable).around(LOGIN, None, context):
            raise exc
    assert context.code is code
    if isinstance(exc, errors.DomainError):
        assert context.message == exc.message
    if isinstance(exc, RateLimited):
        assert ("retry-after", "17") in context.trailers


async def _login_handler_behind_malformed_interceptor() -> grpc.RpcMethodHandler:
    async def handler(request: object, context: object) -> Any:
        raise AssertionError("must not run")

    async def continuation(details: object) -> grpc.RpcMethodHandler:
        return grpc.unary_unary_rpc_method_handler(
            handler,
            request_deserializer=auth_pb2.LoginRequest.FromString,
            response_serializer=auth_pb2.LoginResponse.SerializeToString,
        )

    return await MalformedRequestInterceptor().intercept_service(
        continuation,
        SimpleNamespace(method=LOGIN),
    )


async def test_undecodable_request_is_invalid_argument() -> None:
    handler = await _login_handler_behind_malformed_interceptor()
    context = FakeContext()
    with pytest.raises(Aborted):
        await handler.unary_unary(handler.request_deserializer(b"\x0a\x02\xff\xfe"), context)
    assert context.code is grpc.StatusCode.INVALID_ARGUMENT


async def test_tolerant_deserializer() -> None:
    parse = (await _login_handler_behind_malformed_interceptor()).request_deserializer
    assert parse(auth_pb2.LoginRequest(email="a@b.co").SerializeToString()).email == "a@b.co"
    assert not isinstance(parse(b"\x0a\x02\xff\xfe"), auth_pb2.LoginRequest)
    assert not isinstance(parse(b"\xff\xff\xff"), auth_pb2.LoginRequest)
