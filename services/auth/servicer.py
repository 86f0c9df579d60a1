"""gRPC mapping of `swarmcast.auth.v1.AuthService`: requests → `AuthService` use cases → responses.

- Use-case errors become canonical status codes (`_rpc`); nothing the caller sent can produce
  INTERNAL: even a request that is not valid protobuf (e.g. a string field holding invalid UTF-8,
  which grpc would otherwise answer INTERNAL "Exception deserializing request!") is answered
  INVALID_ARGUMENT, through the tolerant deserializers of `add_to_server`.
- Rate limits count the client address: the peer, or — when the peer is a trusted proxy (the
  gateway) — the address it put in `x-forwarded-for` metadata.
- Authenticated RPCs (ChangePassword, DeleteAccount, GetUser, ResendVerification) take the caller
  from the shared identity interceptor, which here verifies tokens with `AuthService.authenticate`
  (signature, expiry, *and* that the user still exists and the token predates no password change)
  instead of a GetSigningKeys round trip to itself.
"""

from __future__ import annotations

import contextvars
import functools
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc
from google.protobuf.message import DecodeError, Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from swarmcast.auth.v1 import auth_pb2, auth_pb2_grpc

from services.auth import errors
from services.auth.ratelimit import RateLimited, client_address
from services.auth.service import AuthenticatedUser, AuthService, UserView
from services.common import status
from services.common.identity import Identity, InvalidToken, KeysUnavailable, require_identity

log = logging.getLogger("swarmcast.auth")

SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name
FORWARDED_FOR = "x-forwarded-for"

Networks = Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
R = TypeVar("R", bound=Message)

# The full result of the last token check in this RPC's context (set by TokenChecker.verify),
# so handlers get DB-fresh roles without checking the token a second time.
_authenticated: contextvars.ContextVar[AuthenticatedUser | None] = contextvars.ContextVar(
    "swarmcast_auth_authenticated", default=None
)


class _Undecodable:
    """Stands in for a request whose bytes are not a valid message."""


UNDECODABLE = _Undecodable()


def _tolerant(parse: Callable[[bytes], Message]) -> Callable[[bytes], Any]:
    def deserialize(data: bytes) -> Any:
        try:
            return parse(data)
        except (DecodeError, ValueError, UnicodeDecodeError):
            return UNDECODABLE

    return deserialize


class TokenChecker:
    """The identity interceptor's verifier inside auth: a full Authenticate, no network hop."""

    def __init__(self, service: Callable[[], AuthService]) -> None:
        self._service = service

    async def verify(self, token: str) -> Identity:
        try:
            service = self._service()
        except KeyError:
            raise KeysUnavailable("the auth service is starting") from None
        try:
            result = await service.authenticate(token)
        except (errors.Unauthenticated, errors.InvalidArgument) as exc:
            raise InvalidToken(exc.message) from None
        except (SQLAlchemyError, OSError) as exc:
            # The interceptor answers UNAVAILABLE for this, instead of an unexplained UNKNOWN.
            raise KeysUnavailable(f"the user database is unavailable ({type(exc).__name__})") from None
        _authenticated.set(result)
        user, claims = result.user, result.claims
        return Identity(
            user_id=str(user.id),
            email=user.email,
            email_verified=user.email_verified,
            roles=user.roles,
            token_id=claims.jti,
            expires_at=claims.expires_at,
        )


def _timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value.astimezone(UTC))
    return ts


def user_message(user: UserView) -> auth_pb2.User:
    return auth_pb2.User(
        id=user.id,
        email=user.email,
        email_verified=user.email_verified,
        created_at=_timestamp(user.created_at),
        roles=list(user.roles),
    )


Handler = Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[Message]]


def _rpc(fn: Handler) -> Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[Message]]:
    """Maps use-case errors to status codes; rejects undecodable requests."""

    @functools.wraps(fn)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Message:
        if request is UNDECODABLE:
            await status.abort_invalid(
                context, "the request is not a valid protobuf message (text fields must be UTF-8)"
            )
        try:
            return await fn(self, request, context)
        except errors.InvalidArgument as exc:
            await status.abort_invalid(context, exc.message, fields=exc.fields)
        except RateLimited as exc:
            await status.abort_resource_exhausted(
                context, exc.message, retry_after_seconds=exc.retry_after_seconds
            )
        except errors.Unauthenticated as exc:
            await status.abort_unauthenticated(context, exc.message)
        except errors.PermissionDenied as exc:
            await status.abort_permission_denied(context, exc.message)
        except errors.AlreadyExists as exc:
            await status.abort_already_exists(context, exc.message)
        except errors.NotFound as exc:
            await status.abort_not_found(context, exc.message)
        except errors.FailedPrecondition as exc:
            await status.abort_failed_precondition(context, exc.message)
        except (OperationalError, InterfaceError, ConnectionError, TimeoutError) as exc:
            # The database (or NATS) is down or restarting: retryable, not a bug in this request.
            log.warning("%s: dependency unavailable: %s", fn.__name__, type(exc).__name__)
            await status.abort_unavailable(
                context, "the account service is temporarily unavailable; retry shortly"
            )
        raise AssertionError("unreachable")

    return wrapper


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, service: Callable[[], AuthService], trusted_proxies: Networks) -> None:
        # A getter: the use cases are built in the server's on_start, after the servicer exists.
        self._service = service
        self.trusted_proxies = trusted_proxies

    @property
    def svc(self) -> AuthService:
        return self._service()

    def _client(self, context: grpc.aio.ServicerContext) -> str:
        forwarded = [
            v.decode("latin-1") if isinstance(v, bytes) else v
            for k, v in (context.invocation_metadata() or ())
            if k.lower() == FORWARDED_FOR
        ]
        return client_address(context.peer() or "unknown", forwarded, self.trusted_proxies)

    async def _caller(self, context: grpc.aio.ServicerContext) -> AuthenticatedUser:
        identity = await require_identity(context)
        checked = _authenticated.get()
        # The interceptor's check of *this* token (same user and jti), not a stale one.
        if (
            checked is not None
            and str(checked.user.id) == identity.user_id
            and checked.claims.jti == identity.token_id
        ):
            return checked
        raise errors.Unauthenticated("access token is no longer valid")

    # ---- sessions

    @_rpc
    async def Register(self, request: auth_pb2.RegisterRequest, context: grpc.aio.ServicerContext) -> Message:
        s = await self.svc.register(request.email, request.password, self._client(context))
        return auth_pb2.RegisterResponse(
            user=user_message(s.user),
            access_token=s.access_token,
            refresh_token=s.refresh_token,
            access_token_expires_in=s.access_token_expires_in,
        )

    @_rpc
    async def Login(self, request: auth_pb2.LoginRequest, context: grpc.aio.ServicerContext) -> Message:
        s = await self.svc.login(request.email, request.password, self._client(context))
        return auth_pb2.LoginResponse(
            user=user_message(s.user),
            access_token=s.access_token,
            refresh_token=s.refresh_token,
            access_token_expires_in=s.access_token_expires_in,
        )

    @_rpc
    async def Refresh(self, request: auth_pb2.RefreshRequest, context: grpc.aio.ServicerContext) -> Message:
        s = await self.svc.refresh(request.refresh_token)
        return auth_pb2.RefreshResponse(
            user=user_message(s.user),
            access_token=s.access_token,
            refresh_token=s.refresh_token,
            access_token_expires_in=s.access_token_expires_in,
        )

    @_rpc
    async def Logout(self, request: auth_pb2.LogoutRequest, context: grpc.aio.ServicerContext) -> Message:
        await self.svc.logout(request.refresh_token)
        return auth_pb2.LogoutResponse()

    # ---- verification and passwords

    @_rpc
    async def VerifyEmail(
        self, request: auth_pb2.VerifyEmailRequest, context: grpc.aio.ServicerContext
    ) -> Message:
        return auth_pb2.VerifyEmailResponse(user=user_message(await self.svc.verify_email(request.token)))

    @_rpc
    async def ResendVerification(
        self, request: auth_pb2.ResendVerificationRequest, context: grpc.aio.ServicerContext
    ) -> Message:
        caller = await self._caller(context)
        await self.svc.resend_verification(caller.user.id)
        return auth_pb2.ResendVerificationResponse()

    @_rpc
    async def RequestPasswordReset(
        self, request: auth_pb2.RequestPasswordResetRequest, context: grpc.aio.ServicerContext
    ) -> Message:
        await self.svc.request_password_reset(request.email)
        return auth_pb2.RequestPasswordResetResponse()

    @_rpc
    async def ResetPassword(
        self, request: auth_pb2.ResetPasswordRequest, context: grpc.aio.ServicerContext
    ) -> Message:
        await self.svc.reset_password(request.token, request.new_password)
        return auth_pb2.ResetPasswordResponse()

    @_rpc
    async def ChangePassword(
        self, request: auth_pb2.ChangePasswordRequest, context: grpc.aio.ServicerContext
    ) -> Message:
        caller = await self._caller(context)
        s = await self.svc.change_password(caller.user.id, request.current_password, request.new_password)
        return auth_pb2.ChangePasswordResponse(
            access_token=s.access_token,
            refresh_token=s.refresh_token,
            access_token_expires_in=s.access_token_expires_in,
        )

    @_rpc
    async def DeleteAccount(
        self, request: auth_pb2.DeleteAccountRequest, context: grpc.aio.ServicerContext
    ) -> Message:
        caller = await self._caller(context)
        await self.svc.delete_account(caller.user.id, request.password)
        return auth_pb2.DeleteAccountResponse()

    # ---- reading

    @_rpc
    async def GetUser(self, request: auth_pb2.GetUserRequest, context: grpc.aio.ServicerContext) -> Message:
        caller = await self._caller(context)
        return auth_pb2.GetUserResponse(user=user_message(await self.svc.get_user(caller, request.user_id)))

    @_rpc
    async def Authenticate(
        self, request: auth_pb2.AuthenticateRequest, context: grpc.aio.ServicerContext
    ) -> Message:
        result = await self.svc.authenticate(request.access_token)
        return auth_pb2.AuthenticateResponse(
            user=user_message(result.user), expires_at=_timestamp(result.claims.expires_at_datetime)
        )

    @_rpc
    async def GetSigningKeys(
        self, request: auth_pb2.GetSigningKeysRequest, context: grpc.aio.ServicerContext
    ) -> Message:
        keys = self.svc.signing_keys()
        return auth_pb2.GetSigningKeysResponse(
            keys=[
                auth_pb2.SigningKey(
                    kid=k.kid,
                    algorithm=k.algorithm,
                    public_key_pem=k.public_key_pem,
                    created_at=_timestamp(k.created_at),
                    active=k.active,
                )
                for k in keys
            ],
            issuer=self.svc.codec.issuer,
            audience=self.svc.codec.audience,
        )


def add_to_server(servicer: AuthServicer, server: grpc.aio.Server) -> None:
    """Like the generated `add_AuthServiceServicer_to_server`, with tolerant deserializers."""
    handlers = {}
    for method in auth_pb2.DESCRIPTOR.services_by_name["AuthService"].methods:
        request_type = getattr(auth_pb2, method.input_type.name)
        response_type = getattr(auth_pb2, method.output_type.name)
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            getattr(servicer, method.name),
            request_deserializer=_tolerant(request_type.FromString),
            response_serializer=response_type.SerializeToString,
        )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME, handlers),))
    server.add_registered_method_handlers(SERVICE_NAME, handlers)
