"""gRPC mapping of `swarmcast.auth.v1.AuthService`: requests → `AuthService` use cases → responses.

- The use cases raise domain errors (`services.common.errors`), which the shared interceptor
  answers with their status codes; `dependency_unavailable` makes a database or NATS outage
  UNAVAILABLE rather than INTERNAL. A request that is not valid protobuf (e.g. a string field
  holding invalid UTF-8) is INVALID_ARGUMENT, from the shared malformed-request interceptor.
- Rate limits count the client address: the peer, or — when the caller proved to be the gateway
  (`GatewayCheck`: its mutual-TLS client certificate, or the shared forward secret) — the address
  it put in `x-forwarded-for` metadata. Being on loopback or a private network proves nothing.
- Authenticated RPCs (ChangePassword, DeleteAccount, GetUser, ResendVerification) take the caller
  from the shared identity interceptor, which here verifies tokens with `AuthService.authenticate`
  (signature, expiry, *and* that the user still exists and the token predates no password change)
  instead of a GetSigningKeys round trip to itself.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import grpc
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from swarmcast.auth.v1 import auth_pb2, auth_pb2_grpc

from services.auth.service import AuthenticatedUser, AuthService, UserView
from services.common.clientip import FORWARD_SECRET, FORWARDED_FOR, forwarded_client, secret_matches
from services.common.errors import InvalidArgument, Unauthenticated, Unavailable
from services.common.identity import Identity, InvalidToken, KeysUnavailable, require_identity

log = logging.getLogger("swarmcast.auth")

SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name

# The full result of the last token check in this RPC's context (set by TokenChecker.verify),
# so handlers get DB-fresh roles without checking the token a second time.
_authenticated: contextvars.ContextVar[AuthenticatedUser | None] = contextvars.ContextVar(
    "swarmcast_auth_authenticated", default=None
)


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
        except (Unauthenticated, InvalidArgument) as exc:
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


# The database (or NATS) down or restarting: retryable, not a bug in the request.
_DEPENDENCY_FAILURES = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


def dependency_unavailable(exc: Exception) -> Unavailable | None:
    """Auth's `ServiceSpec.translate_error`: an outage of what the use cases need is UNAVAILABLE."""
    if isinstance(exc, _DEPENDENCY_FAILURES):
        return Unavailable("the account service is temporarily unavailable; retry shortly")
    return None


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


class GatewayCheck:
    """Whether a caller is the gateway, whose `x-forwarded-for` metadata is then believed.

    Two proofs, either suffices: a verified mutual-TLS client certificate whose common name or a
    DNS subject alternative name is in `identities` (the server only accepts certificates of the
    deployment's CA), or `secret` in `x-swarmcast-forward-secret` metadata (plaintext stacks).
    """

    def __init__(self, *, secret: str = "", identities: frozenset[str] = frozenset()) -> None:
        self.secret = secret
        self.identities = identities

    def _certificate_names(self, context: grpc.aio.ServicerContext) -> set[str]:
        try:
            auth = context.auth_context() or {}
        except (AttributeError, RuntimeError):
            return set()
        if b"ssl" not in auth.get("transport_security_type", []):
            return set()
        names = [*auth.get("x509_common_name", []), *auth.get("x509_subject_alternative_name", [])]
        return {_text(n).strip().lower() for n in names}

    def vouches(self, context: grpc.aio.ServicerContext, metadata: list[tuple[str, str]]) -> bool:
        presented = [v for k, v in metadata if k == FORWARD_SECRET]
        if secret_matches(presented, self.secret):
            return True
        return bool(self.identities) and not self.identities.isdisjoint(self._certificate_names(context))


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, service: Callable[[], AuthService], gateway: GatewayCheck) -> None:
        # A getter: the use cases are built in the server's on_start, after the servicer exists.
        self._service = service
        self.gateway = gateway

    @property
    def svc(self) -> AuthService:
        return self._service()

    def _client(self, context: grpc.aio.ServicerContext) -> str:
        metadata = [(k.lower(), _text(v)) for k, v in (context.invocation_metadata() or ())]
        forwarded = [v for k, v in metadata if k == FORWARDED_FOR]
        vouched = bool(forwarded) and self.gateway.vouches(context, metadata)
        return forwarded_client(context.peer() or "unknown", forwarded, vouched=vouched)

    async def _caller(self, context: grpc.aio.ServicerContext) -> AuthenticatedUser:
        identity = require_identity()
        checked = _authenticated.get()
        # The interceptor's check of *this* token (same user and jti), not a stale one.
        if (
            checked is not None
            and str(checked.user.id) == identity.user_id
            and checked.claims.jti == identity.token_id
        ):
            return checked
        raise Unauthenticated("access token is no longer valid")

    # ---- sessions

    async def Register(self, request: auth_pb2.RegisterRequest, context: grpc.aio.ServicerContext) -> Message:
        s = await self.svc.register(request.email, request.password, self._client(context))
        return auth_pb2.RegisterResponse(
            user=user_message(s.user),
            access_token=s.access_token,
            refresh_token=s.refresh_token,
            access_token_expires_in=s.access_token_expires_in,
        )

    async def Login(self, request: auth_pb2.LoginRequest, context: grpc.aio.ServicerContext) -> Message:
        s = await self.svc.login(request.email, request.password, self._client(context))
        return auth_pb2.LoginResponse(
            user=user_message(s.user),
            access_token=s.access_token,
            refresh_token=s.refresh_token,
            access_token_expires_in=s.access_token_expires_in,
        )

    async def Refresh(self, request: auth_pb2.RefreshRequest, context: grpc.aio.ServicerContext) -> Message:
        s = await self.svc.refresh(request.refresh_token)
        return auth_pb2.RefreshResponse(
            user=user_message(s.user),
            access_token=s.access_token,
            refresh_token=s.refresh_token,
            access_token_expires_in=s.access_token_expires_in,
        )

    async def Logout(self, request: auth_pb2.LogoutRequest, context: grpc.aio.ServicerContext) -> Message:
        await self.svc.logout(request.refresh_token)
        return auth_pb2.LogoutResponse()

    # ---- verification and passwords

    async def VerifyEmail(
        self, request: auth_pb2.VerifyEmailRequest, context: grpc.aio.ServicerContext
    ) -> Message:
        return auth_pb2.VerifyEmailResponse(user=user_message(await self.svc.verify_email(request.token)))

    async def ResendVerification(
        self, request: auth_pb2.ResendVerificationRequest, context: grpc.aio.ServicerContext
    ) -> Message:
        caller = await self._caller(context)
        await self.svc.resend_verification(caller.user.id)
        return auth_pb2.ResendVerificationResponse()

    async def RequestPasswordReset(
        self, request: auth_pb2.RequestPasswordResetRequest, context: grpc.aio.ServicerContext
    ) -> Message:
        await self.svc.request_password_reset(request.email, self._client(context))
        return auth_pb2.RequestPasswordResetResponse()

    async def ResetPassword(
        self, request: auth_pb2.ResetPasswordRequest, context: grpc.aio.ServicerContext
    ) -> Message:
        await self.svc.reset_password(request.token, request.new_password)
        return auth_pb2.ResetPasswordResponse()

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

    async def DeleteAccount(
        self, request: auth_pb2.DeleteAccountRequest, context: grpc.aio.ServicerContext
    ) -> Message:
        caller = await self._caller(context)
        await self.svc.delete_account(caller.user.id, request.password)
        return auth_pb2.DeleteAccountResponse()

    # ---- reading

    async def GetUser(self, request: auth_pb2.GetUserRequest, context: grpc.aio.ServicerContext) -> Message:
        caller = await self._caller(context)
        return auth_pb2.GetUserResponse(user=user_message(await self.svc.get_user(caller, request.user_id)))

    async def Authenticate(
        self, request: auth_pb2.AuthenticateRequest, context: grpc.aio.ServicerContext
    ) -> Message:
        result = await self.svc.authenticate(request.access_token)
        return auth_pb2.AuthenticateResponse(
            user=user_message(result.user), expires_at=_timestamp(result.claims.expires_at_datetime)
        )

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
