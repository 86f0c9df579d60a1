"""The auth use cases: accounts, sessions, verification, password reset/change, deletion.

No gRPC here: inputs are plain values, failures are `services.common.errors` domain errors (the
shared interceptor answers each with its status code), outputs are small dataclasses. Every entry
point validates its input before touching the database, so bad input writes nothing (not even a
rate-limit counter).

Security notes, in one place:
- Login answers "invalid email or password" for an unknown email and for a wrong password alike,
  after the same work (one SELECT, one bcrypt: against a dummy hash when there is no account).
- RequestPasswordReset is always OK; the same single UPDATE runs whether or not the email exists,
  and the mail is queued in the background so the reply time does not depend on it.
- Password change and reset revoke every refresh token of the user and set an access-token cutoff
  (Authenticate refuses tokens issued before it); logout sets one too (user-wide), deletion a final
  one. Each is published through the outbox as `auth.token_cutoff.<user_id>` and applied by every
  service's local check (services/common/revocation.py).
- A refresh token presented after it was rotated revokes its whole family (stolen-token signal).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from swarmcast.events.v1 import events_pb2

from services.auth.emails import EmailError, normalize_email
from services.auth.keys import ALGORITHM, KeyRing
from services.auth.mail import Mailer
from services.auth.models import User
from services.auth.passwords import (
    HasherBusy,
    PasswordHasher,
    PasswordPolicyError,
    check_new_password,
    check_presented_password,
)
from services.auth.ratelimit import Limits, RateLimiter
from services.auth.repository import AuthRepository, RefreshOutcome
from services.auth.revocation import publish_cutoff, user_of_refresh_token
from services.auth.token_models import OutboxEvent
from services.auth.tokens import (
    AccessClaims,
    AccessTokenCodec,
    TokenError,
    hash_opaque_token,
    looks_like_opaque_token,
    new_opaque_token,
)
from services.auth.verification import is_expired, new_verification_token
from services.common import outbox, subjects
from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from services.common.outbox import OutboxRelay
from services.common.revocation import datetime_ms

log = logging.getLogger("swarmcast.auth")

OPERATOR_ROLE = "operator"
RESET_TOKEN_TTL = timedelta(hours=1)
TOKEN_TYPE = "Bearer"
VERIFY_INVALID = "the verification link is invalid, has expired or was already used"
RESET_INVALID = "the reset link is invalid, has expired or was already used"
# The one answer for "no such email" and "wrong password" (Login): identical code and text.
INVALID_CREDENTIALS = "invalid email or password"


@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    email_verified: bool
    created_at: datetime
    roles: tuple[str, ...]


@dataclass(frozen=True)
class IssuedSession:
    user: UserView
    access_token: str
    access_token_expires_in: int
    refresh_token: str
    refresh_token_expires_in: int


@dataclass(frozen=True)
class AuthenticatedUser:
    user: UserView
    claims: AccessClaims


@dataclass(frozen=True)
class PublicKey:
    kid: str
    algorithm: str
    public_key_pem: str
    created_at: datetime
    active: bool


def _invalid(errors: Mapping[str, str]) -> InvalidArgument:
    # Each entry is a whole sentence naming its field ("email must ..."), so they join cleanly.
    return InvalidArgument("; ".join(errors.values()), errors)


class AuthService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        hasher: PasswordHasher,
        codec: AccessTokenCodec,
        limiter: RateLimiter,
        limits: Limits,
        mailer: Mailer,
        outbox_relay: OutboxRelay,
        refresh_ttl_seconds: int,
        operator_emails: frozenset[str] | set[str] = frozenset(),
        verification_ttl_seconds: float = 48 * 3600.0,
    ) -> None:
        self.sessions = sessions
        self.hasher = hasher
        self.codec = codec
        self.limiter = limiter
        self.limits = limits
        self.mailer = mailer
        self.outbox_relay = outbox_relay
        self.refresh_ttl_seconds = int(refresh_ttl_seconds)
        self.operator_emails = frozenset(e.lower() for e in operator_emails)
        self.verification_ttl_seconds = float(verification_ttl_seconds)
        self._background: set[asyncio.Task[Any]] = set()

    @property
    def keys(self) -> KeyRing:
        return self.codec.ring

    # ------------------------------------------------------------------ helpers

    def roles_for(self, email: str) -> tuple[str, ...]:
        return (OPERATOR_ROLE,) if email in self.operator_emails else ()

    def view(self, user: User) -> UserView:
        return UserView(
            id=user.id,
            email=user.email,
            email_verified=bool(user.email_verified),
            created_at=user.created_at,
            roles=self.roles_for(user.email),
        )

    @staticmethod
    def _email(raw: str, errors: dict[str, str], field: str = "email") -> str:
        try:
            return normalize_email(raw)
        except EmailError as exc:
            errors[field] = str(exc)
            return ""

    @staticmethod
    def _new_password(raw: str, errors: dict[str, str], field: str) -> str:
        try:
            return check_new_password(raw)
        except PasswordPolicyError as exc:
            errors[field] = str(exc).replace("password", field, 1) if field != "password" else str(exc)
            return ""

    @staticmethod
    def _presented_password(raw: str, errors: dict[str, str], field: str) -> str:
        try:
            return check_presented_password(raw, field)
        except PasswordPolicyError as exc:
            errors[field] = str(exc)
            return ""

    async def _issue_refresh(
        self, repo: AuthRepository, user_id: int, family_id: uuid.UUID
    ) -> tuple[str, int]:
        raw = new_opaque_token()
        expires = datetime.now(UTC) + timedelta(seconds=self.refresh_ttl_seconds)
        token_id = await repo.insert_refresh_token(
            user_id=user_id, token_hash=hash_opaque_token(raw), family_id=family_id, expires_at=expires
        )
        return raw, token_id

    def _session(self, user: UserView, refresh_token: str) -> IssuedSession:
        access = self.codec.issue(
            user_id=user.id, email=user.email, email_verified=user.email_verified, roles=user.roles
        )
        return IssuedSession(
            user=user,
            access_token=access.token,
            access_token_expires_in=access.expires_in,
            refresh_token=refresh_token,
            refresh_token_expires_in=self.refresh_ttl_seconds,
        )

    def _cutoff_now(self) -> datetime:
        # Whole milliseconds, like `iat_ms`: tokens minted from now on (including the ones this very
        # request issues) stay valid; any minted before, even earlier in this second, is refused.
        return datetime.fromtimestamp(time.time_ns() // 1_000_000 / 1000, UTC)

    async def _revoke_access_tokens(self, repo: AuthRepository, user_id: int) -> None:
        """Sets the user's cutoff (Authenticate) and queues it for every other service (the
        outbox, same transaction; `_send_cutoffs` after commit)."""
        cutoff = self._cutoff_now()
        await repo.set_cutoff(user_id, cutoff)
        await publish_cutoff(repo.session, user_id, cutoff)

    async def _send_cutoffs(self) -> None:
        """Publishes queued cutoffs now; on failure they stay queued for the maintenance sweep."""
        try:
            await self.outbox_relay.flush()
        except Exception as exc:
            log.warning("token cutoff not published yet (%s); the outbox sweep retries", type(exc).__name__)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Runs `coro` in the background (kept referenced; awaited by `drain`)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self, max_wait: float = 10.0) -> None:
        """Waits (bounded) for background work, e.g. queued reset mails, before shutdown."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=max_wait)

    # ------------------------------------------------------------------ register / login

    async def register(self, email: str, password: str, client: str) -> IssuedSession:
        errors: dict[str, str] = {}
        email = self._email(email, errors)
        password = self._new_password(password, errors, "password")
        if errors:
            raise _invalid(errors)
        await self.limiter.hit(
            [(self.limits.register_per_address, client)],
            "too many sign-ups from this address; try again later",
        )
        password_hash = await self.hasher.hash(password)
        verification = new_verification_token()
        async with self.sessions() as session, session.begin():
            repo = AuthRepository(session)
            user = await repo.insert_user(
                email=email, password_hash=password_hash, verification_hash=hash_opaque_token(verification)
            )
            if user is None:
                raise AlreadyExists("an account with this email already exists")
            view = self.view(user)
            refresh, _ = await self._issue_refresh(repo, user.id, uuid.uuid4())
        log.info("user registered", extra={"user_id": view.id})
        # The address an account was made from is one its owner signs in from.
        await self.limiter.sign_in_succeeded(self.limits, email, client, known=None)
        await self.mailer.send(self.mailer.verification(email, verification))
        return self._session(view, refresh)

    async def login(self, email: str, password: str, client: str) -> IssuedSession:
        errors: dict[str, str] = {}
        email = self._email(email, errors)
        password = self._presented_password(password, errors, "password")
        if errors:
            raise _invalid(errors)
        await self.limiter.hit(
            [(self.limits.login_per_address, client)], "too many sign-in attempts; try again later"
        )
        # Failures are throttled per (account, address) and budgeted per account; unknown emails
        # alike, so the answers do not tell which accounts exist (ratelimit.py).
        known = await self.limiter.is_known_address(email, client)
        await self.limiter.charge_attempt(self.limits, email, client, known=known)
        async with self.sessions() as session:
            user = await AuthRepository(session).get_user_by_email(email)
        try:
            ok = await self.hasher.verify(password, user.password_hash if user is not None else None)
        except HasherBusy:
            # No password was checked: the attempt costs nothing.
            await self.limiter.refund_attempt(self.limits, email, client, known=known)
            raise
        if user is None or not ok:
            raise Unauthenticated(INVALID_CREDENTIALS)
        await self.limiter.sign_in_succeeded(self.limits, email, client, known=known)
        async with self.sessions() as session, session.begin():
            repo = AuthRepository(session)
            if self.hasher.needs_rehash(user.password_hash):
                # The cost was raised since this hash was made: upgrade it while we know the password.
                await repo.upgrade_password_hash(
                    user.id, user.password_hash, await self.hasher.hash(password)
                )
            refresh, _ = await self._issue_refresh(repo, user.id, uuid.uuid4())
        return self._session(self.view(user), refresh)

    # ------------------------------------------------------------------ refresh / logout

    @staticmethod
    def _check_refresh_shape(refresh_token: str) -> None:
        # Not even shaped like one of our tokens: bad input, not a failed authentication.
        if not refresh_token:
            raise InvalidArgument("refresh_token is required", {"refresh_token": "refresh_token is required"})
        if not looks_like_opaque_token(refresh_token):
            raise InvalidArgument(
                "refresh_token is malformed", {"refresh_token": "refresh_token is malformed"}
            )

    async def refresh(self, refresh_token: str) -> IssuedSession:
        self._check_refresh_shape(refresh_token)
        async with self.sessions() as session, session.begin():
            repo = AuthRepository(session)
            consumed = await repo.consume_refresh_token(hash_opaque_token(refresh_token))
            if consumed.outcome is RefreshOutcome.ROTATED:
                assert consumed.user_id is not None and consumed.family_id is not None
                assert consumed.token_id is not None
                user = await repo.get_user(consumed.user_id)
                if user is None:  # cannot happen (FK cascade), but never mint for a ghost
                    raise Unauthenticated("refresh token is invalid or has expired")
                raw, new_id = await self._issue_refresh(repo, user.id, consumed.family_id)
                await repo.link_successor(consumed.token_id, new_id)
                view = self.view(user)
        # Outside the transaction: a REUSED outcome must commit the family revocation first.
        if consumed.outcome is RefreshOutcome.REUSED:
            log.warning("refresh token reused; its session was revoked", extra={"user_id": consumed.user_id})
            raise Unauthenticated("refresh token is invalid or has expired")
        if consumed.outcome is RefreshOutcome.INVALID:
            raise Unauthenticated("refresh token is invalid or has expired")
        return self._session(view, raw)

    async def logout(self, refresh_token: str) -> None:
        """Ends the session (token family) of `refresh_token`; OK for unknown tokens too."""
        self._check_refresh_shape(refresh_token)
        async with self.sessions() as session, session.begin():
            repo = AuthRepository(session)
            family = await repo.family_of(hash_opaque_token(refresh_token))
            if family is not None:
                await repo.revoke_family(family)
                # The session's access tokens too, user-wide: other devices just refresh.
                user_id = await user_of_refresh_token(session, hash_opaque_token(refresh_token))
                if user_id is not None:
                    await self._revoke_access_tokens(repo, user_id)
        await self._send_cutoffs()

    # ------------------------------------------------------------------ email verification

    async def verify_email(self, token: str) -> UserView:
        if not token:
            raise InvalidArgument("token is required", {"token": "token is required"})
        # An expired link is refused like a used one (and left in place: a resend replaces it).
        if not looks_like_opaque_token(token) or is_expired(token, self.verification_ttl_seconds):
            raise InvalidArgument(VERIFY_INVALID, {"token": VERIFY_INVALID})
        async with self.sessions() as session, session.begin():
            user = await AuthRepository(session).consume_verification_token(hash_opaque_token(token))
            if user is None:
                raise InvalidArgument(VERIFY_INVALID, {"token": VERIFY_INVALID})
            return self.view(user)

    async def resend_verification(self, user_id: int) -> None:
        async with self.sessions() as session:
            user = await AuthRepository(session).get_user(user_id)
        if user is None:
            raise Unauthenticated("access token is no longer valid")
        if user.email_verified:
            raise FailedPrecondition("the email address is already verified")
        await self.limiter.hit(
            [(self.limits.reset_per_email, f"verify|{user.email}")],
            "too many verification emails requested; try again later",
        )
        token = new_verification_token()
        async with self.sessions() as session, session.begin():
            # The new link replaces the old one.
            await AuthRepository(session).set_verification_token(user.id, hash_opaque_token(token))
        await self.mailer.send(self.mailer.verification(user.email, token))

    # ------------------------------------------------------------------ password reset / change

    async def request_password_reset(self, email: str, client: str = "unknown") -> None:
        errors: dict[str, str] = {}
        email = self._email(email, errors)
        if errors:
            raise _invalid(errors)
        await self.limiter.hit(
            [(self.limits.reset_per_address, client), (self.limits.reset_per_email, email)],
            "too many password reset requests; try again later",
        )
        token = new_opaque_token()
        async with self.sessions() as session, session.begin():
            user_id = await AuthRepository(session).set_reset_token_by_email(
                email, hash_opaque_token(token), datetime.now(UTC) + RESET_TOKEN_TTL
            )
        if user_id is not None:
            # In the background: the caller must not be able to time the publish.
            self.spawn(self.mailer.send(self.mailer.password_reset(email, token)))

    async def reset_password(self, token: str, new_password: str) -> None:
        errors: dict[str, str] = {}
        if not token:
            errors["token"] = "token is required"
        new_password = self._new_password(new_password, errors, "new_password")
        if errors:
            raise _invalid(errors)
        invalid = InvalidArgument(RESET_INVALID, {"token": RESET_INVALID})
        if not looks_like_opaque_token(token):
            raise invalid
        token_hash = hash_opaque_token(token)
        # Cheap lookup first, so a made-up token costs no bcrypt work.
        async with self.sessions() as session:
            user = await AuthRepository(session).find_by_reset_token(token_hash)
        if user is None:
            raise invalid
        password_hash = await self.hasher.hash(new_password)
        async with self.sessions() as session, session.begin():
            repo = AuthRepository(session)
            # Conditional on the token still being there: a concurrent second use finds nothing.
            updated = await repo.reset_password(user.id, token_hash, password_hash)
            if updated is None:
                raise invalid
            await repo.revoke_user_tokens(user.id)
            await self._revoke_access_tokens(repo, user.id)
        await self._send_cutoffs()
        log.info("password reset", extra={"user_id": user.id})
        await self.mailer.send(self.mailer.password_changed(user.email))

    async def change_password(self, user_id: int, current_password: str, new_password: str) -> IssuedSession:
        errors: dict[str, str] = {}
        current_password = self._presented_password(current_password, errors, "current_password")
        new_password = self._new_password(new_password, errors, "new_password")
        if not errors and current_password == new_password:
            errors["new_password"] = "the new password must differ from the current one"
        if errors:
            raise _invalid(errors)
        user = await self._password_confirmed(user_id, current_password, "current password is incorrect")
        password_hash = await self.hasher.hash(new_password)
        async with self.sessions() as session, session.begin():
            repo = AuthRepository(session)
            if not await repo.change_password(user.id, user.password_hash, password_hash):
                raise FailedPrecondition("the password was changed by another request; try again")
            await repo.revoke_user_tokens(user.id)
            await self._revoke_access_tokens(repo, user.id)
            refresh, _ = await self._issue_refresh(repo, user.id, uuid.uuid4())
        await self._send_cutoffs()
        log.info("password changed", extra={"user_id": user.id})
        await self.mailer.send(self.mailer.password_changed(user.email))
        return self._session(self.view(user), refresh)

    async def _password_confirmed(self, user_id: int, password: str, wrong: str) -> User:
        """The user, after checking `password` (rate-limited like logins: a stolen access token
        must not become an unlimited password oracle)."""
        async with self.sessions() as session:
            user = await AuthRepository(session).get_user(user_id)
        if user is None:
            raise Unauthenticated("access token is no longer valid")
        await self.limiter.hit(
            [(self.limits.login_per_email, user.email)], "too many password attempts; try again later"
        )
        if not await self.hasher.verify(password, user.password_hash):
            raise PermissionDenied(wrong)
        return user

    # ------------------------------------------------------------------ deletion

    async def delete_account(self, user_id: int, password: str) -> None:
        errors: dict[str, str] = {}
        password = self._presented_password(password, errors, "password")
        if errors:
            raise _invalid(errors)
        user = await self._password_confirmed(user_id, password, "password is incorrect")
        event = events_pb2.UserDeleted(user_id=str(user.id))
        event.deleted_at.FromDatetime(datetime.now(UTC))
        msg_id = f"user-deleted-{user.id}"
        async with self.sessions() as session, session.begin():
            repo = AuthRepository(session)
            if not await repo.delete_user(user.id):
                raise Unauthenticated("access token is no longer valid")
            # Same transaction as the delete: the event cannot be lost if we crash right after.
            await outbox.add(session, OutboxEvent, subjects.USER_DELETED, event, msg_id=msg_id)
            # Every service then refuses all of the user's tokens (and jobs takes no new work).
            await publish_cutoff(session, user.id, self._cutoff_now(), deleted=True)
        log.info("account deleted", extra={"user_id": user.id})
        # Published now; if the bus fails, the event stays for the next maintenance round.
        await self.outbox_relay.flush()
        await self.mailer.send(self.mailer.account_deleted(user.email))

    # ------------------------------------------------------------------ reading

    async def authenticate(self, access_token: str) -> AuthenticatedUser:
        """Verifies the token and that it is still good: the user exists and no password change or
        reset happened after it was issued."""
        if not access_token:
            raise InvalidArgument("access_token is required", {"access_token": "access_token is required"})
        try:
            claims = self.codec.verify(access_token)
        except TokenError as exc:
            raise Unauthenticated(str(exc)) from None
        async with self.sessions() as session:
            repo = AuthRepository(session)
            user = await repo.get_user(claims.user_id)
            cutoff = await repo.get_cutoff(claims.user_id) if user is not None else None
        if user is None or user.email != claims.email:
            raise Unauthenticated("access token is no longer valid")
        if cutoff is not None and claims.issued_at_ms < datetime_ms(cutoff):
            raise Unauthenticated("access token is no longer valid")
        return AuthenticatedUser(self.view(user), claims)

    async def get_user(self, caller: AuthenticatedUser, user_id: int) -> UserView:
        if user_id < 0:
            raise InvalidArgument("user_id must not be negative", {"user_id": "user_id must not be negative"})
        if user_id in (0, caller.user.id):
            return caller.user
        if OPERATOR_ROLE not in caller.user.roles:
            raise PermissionDenied("only operators can look up other users")
        async with self.sessions() as session:
            user = await AuthRepository(session).get_user(user_id)
        if user is None:
            raise NotFound(f"user {user_id} does not exist")
        return self.view(user)

    def signing_keys(self) -> list[PublicKey]:
        # Verifiers ask when they meet an unknown kid: make sure a fresh rotation is included.
        self.keys.reload_if_changed()
        active = self.keys.active().kid
        return [
            PublicKey(k.kid, ALGORITHM, k.public_pem(), k.created_at, k.kid == active)
            for k in self.keys.all()
        ]

    # ------------------------------------------------------------------ upkeep

    async def maintenance(self) -> None:
        """Periodic upkeep: expired counters and refresh tokens, leftover outbox events."""
        removed = await self.limiter.cleanup()
        async with self.sessions() as session, session.begin():
            expired = await AuthRepository(session).delete_expired_refresh_tokens()
        relayed = await self.outbox_relay.flush()
        if removed or expired or relayed:
            log.info(
                "auth maintenance",
                extra={
                    "rate_limit_rows": removed,
                    "expired_refresh_tokens": expired,
                    "outbox_relayed": relayed,
                },
            )
