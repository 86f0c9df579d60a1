"""Who is calling: access-token verification and the per-request identity.

Access tokens are JWTs signed by the auth service with Ed25519 (`alg: EdDSA`) and carry a `kid`
header naming the signing key. Every service checks them locally against the public keys auth
publishes through `AuthService/GetSigningKeys`; no request needs a round trip to auth.

Token contract (auth mints them in services/auth/tokens.py; everyone verifies with TokenVerifier):
  header  alg=EdDSA, kid=<key id>
  claims  sub=<user id as a string>, email, email_verified, roles=[...], iss, aud, iat, iat_ms, exp, jti
Refresh tokens are opaque (not JWTs), so they can never pass for an access token here.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import grpc
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from swarmcast.auth.v1 import auth_pb2, auth_pb2_grpc

from services.common.errors import PermissionDenied, Unauthenticated

log = logging.getLogger("swarmcast.identity")

ALGORITHM = "EdDSA"
OPERATOR_ROLE = "operator"
# Small allowance for clock skew between auth and the verifying service.
DEFAULT_LEEWAY_SECONDS = 5
# A real access token is a few hundred bytes; don't spend time parsing anything huge.
MAX_TOKEN_LENGTH = 8192


@dataclass(frozen=True, slots=True)
class Identity:
    """The authenticated caller of the current request."""

    user_id: str
    email: str = ""
    email_verified: bool = False
    roles: tuple[str, ...] = ()
    token_id: str = ""
    expires_at: int = 0
    # `iat`: compared with the user's token cutoff (services/common/revocation.py).
    issued_at: int = 0
    # The issue time in milliseconds (`iat_ms`): a token minted earlier in the same second as a
    # sign-out must still be refused, and one minted by that very request must not.
    issued_at_ms: int = 0

    @property
    def is_operator(self) -> bool:
        return OPERATOR_ROLE in self.roles

    @property
    def user_id_int(self) -> int:
        """The numeric user id (auth's `users.id`); raises ValueError for a non-numeric subject."""
        return int(self.user_id)


# Set by the identity interceptor for the duration of one RPC (including a streaming one).
current_identity: contextvars.ContextVar[Identity | None] = contextvars.ContextVar(
    "current_identity", default=None
)


class InvalidToken(Exception):
    """The token is malformed, forged, expired or otherwise unacceptable."""


class UnknownKeyId(InvalidToken):
    """The token names a `kid` this verifier has no public key for (yet)."""

    def __init__(self, kid: str) -> None:
        super().__init__(f"unknown signing key id {kid!r}")
        self.kid = kid


class KeysUnavailable(Exception):
    """No signing keys could be obtained from the auth service (it is unreachable)."""


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    """Parses a SubjectPublicKeyInfo PEM and insists that it is an Ed25519 key."""
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"signing key is {type(key).__name__}, expected Ed25519")
    return key


def token_kid(token: str) -> str:
    """The `kid` of a token's header, after checking the header's algorithm."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("malformed token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"malformed token: {exc}") from exc
    # Reject anything but EdDSA before looking at keys: blocks `alg: none` and HS256 key confusion.
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(f"token algorithm {header.get('alg')!r} is not accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("token has no key id")
    return kid


VERIFIED_CACHE_SIZE = 4096


class TokenVerifier:
    """Verifies access tokens against a fixed set of Ed25519 public keys (kid → key)."""

    def __init__(
        self,
        keys: Mapping[str, Ed25519PublicKey],
        *,
        issuer: str,
        audience: str,
        leeway_seconds: float = DEFAULT_LEEWAY_SECONDS,
    ) -> None:
        self._keys = dict(keys)
        self.issuer = issuer
        self.audience = audience
        self.leeway_seconds = leeway_seconds
        # Tokens this verifier has already accepted → (identity, accept-until epoch seconds).
        # A client sends the same access token on every call until it expires, and the Ed25519
        # check dominates a cheap RPC's cost. Per verifier: a key-set reload starts empty, so a
        # withdrawn key's tokens are checked again. Bounded LRU; expiry is re-checked on each hit.
        self._verified: OrderedDict[str, tuple[Identity, float]] = OrderedDict()

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def cached(self, token: str) -> Identity | None:
        """The identity of a token this verifier accepted and that has not expired since."""
        hit = self._verified.get(token)
        if hit is None:
            return None
        if time.time() <= hit[1]:
            self._verified.move_to_end(token)
            return hit[0]
        del self._verified[token]
        return None

    def verify(self, token: str) -> Identity:
        hit = self.cached(token)
        if hit is not None:
            return hit
        kid = token_kid(token)
        key = self._keys.get(kid)
        if key is None:
            raise UnknownKeyId(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token has expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"token rejected: {exc}") from exc
        identity = _identity_from_claims(claims)
        exp = claims.get("exp")
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            # PyJWT accepts while now <= exp + leeway; the cache answers for exactly that long.
            self._verified[token] = (identity, float(exp) + self.leeway_seconds)
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return identity


def _identity_from_claims(claims: Mapping[str, Any]) -> Identity:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise InvalidToken("token subject is empty")
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidToken("token roles are malformed")
    email = claims.get("email", "")
    return Identity(
        user_id=sub,
        email=email if isinstance(email, str) else "",
        email_verified=claims.get("email_verified") is True,
        roles=tuple(roles),
        token_id=str(claims.get("jti", "")),
        expires_at=int(claims["exp"]),
        issued_at=int(claims["iat"]),
        issued_at_ms=issued_at_ms(claims),
    )


def issued_at_ms(claims: Mapping[str, Any]) -> int:
    """The token's issue time in ms: `iat_ms` when it agrees with `iat`, else the start of `iat`'s
    second (tokens minted before `iat_ms` existed, or a malformed one: never later than `iat`)."""
    iat = int(claims["iat"])
    value = claims.get("iat_ms")
    if isinstance(value, int) and not isinstance(value, bool) and value // 1000 == iat:
        return value
    return iat * 1000


class TokenAuthenticator(Protocol):
    """What the identity interceptor needs: token → Identity.

    Raises InvalidToken (→ UNAUTHENTICATED) or KeysUnavailable (→ UNAVAILABLE). `SigningKeyCache`
    is the implementation every service uses; auth may plug in its own local check.
    """

    async def verify(self, token: str) -> Identity: ...


KeyFetcher = Callable[[], Awaitable[auth_pb2.GetSigningKeysResponse]]


def grpc_key_fetcher(channel: grpc.aio.Channel, *, timeout: float = 3.0) -> KeyFetcher:
    """Fetches the signing keys from the auth service over `channel`."""
    stub = auth_pb2_grpc.AuthServiceStub(channel)

    async def fetch() -> auth_pb2.GetSigningKeysResponse:
        return await stub.GetSigningKeys(auth_pb2.GetSigningKeysRequest(), timeout=timeout)

    return fetch


@dataclass
class SigningKeyCache:
    """Auth's public keys, refreshed periodically and when a token names an unknown `kid`.

    Refreshes are serialised and rate-limited (`min_refresh_interval`) so a flood of tokens with
    random key ids cannot turn into a flood of GetSigningKeys calls. A failed refresh keeps the
    keys already known, so a short auth outage does not lock everyone out.
    """

    fetch: KeyFetcher
    issuer: str
    audience: str
    refresh_interval: float = 300.0
    min_refresh_interval: float = 5.0
    _verifier: TokenVerifier | None = field(default=None, init=False)
    _loaded_at: float = field(default=float("-inf"), init=False)
    _attempted_at: float = field(default=float("-inf"), init=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    @classmethod
    def from_channel(
        cls, channel: grpc.aio.Channel, *, issuer: str, audience: str, **kwargs: float
    ) -> SigningKeyCache:
        return cls(fetch=grpc_key_fetcher(channel), issuer=issuer, audience=audience, **kwargs)

    async def verify(self, token: str) -> Identity:
        """Verifies `token`; raises InvalidToken, or KeysUnavailable when auth can't be reached."""
        if self._verifier is not None and self._fresh():
            hit = self._verifier.cached(token)  # already verified: skip even the header parse
            if hit is not None:
                return hit
        kid = token_kid(token)  # cheap rejection of malformed/alg-confused tokens, no fetch
        verifier = await self._current(force=False)
        if kid not in verifier.kids:
            verifier = await self._current(force=True)
        return verifier.verify(token)

    async def refresh(self) -> None:
        """Loads the keys now (e.g. at startup); raises KeysUnavailable if auth is unreachable."""
        await self._current(force=True, rate_limited=False)

    async def _current(self, *, force: bool, rate_limited: bool = True) -> TokenVerifier:
        if self._verifier is not None and not force and self._fresh():
            return self._verifier
        async with self._lock:
            if self._verifier is not None and not force and self._fresh():
                return self._verifier  # another waiter refreshed while we queued
            if rate_limited and time.monotonic() - self._attempted_at < self.min_refresh_interval:
                if self._verifier is None:
                    raise KeysUnavailable("signing keys are unavailable: the auth service cannot be reached")
                return self._verifier
            self._attempted_at = time.monotonic()
            await self._load()
            if self._verifier is None:
                raise KeysUnavailable("signing keys are unavailable: the auth service cannot be reached")
            return self._verifier

    def _fresh(self) -> bool:
        return time.monotonic() - self._loaded_at < self.refresh_interval

    async def _load(self) -> None:
        try:
            response = await self.fetch()
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                log.warning("signing key refresh failed: auth unreachable (%s)", exc.code().name)
                return
            # Auth answered but offers no keys (e.g. an error on its side): an empty key set, so
            # every token is rejected as unverifiable rather than the service being "unavailable".
            log.warning("signing key refresh failed: %s %s", exc.code().name, exc.details())
            if self._verifier is None:
                self._verifier = TokenVerifier({}, issuer=self.issuer, audience=self.audience)
                self._loaded_at = time.monotonic()
            return
        keys: dict[str, Ed25519PublicKey] = {}
        for k in response.keys:
            if k.algorithm and k.algorithm != ALGORITHM:
                continue
            try:
                keys[k.kid] = load_public_key(k.public_key_pem)
            except ValueError as exc:
                log.warning("ignoring signing key %s: %s", k.kid, exc)
        self._verifier = TokenVerifier(
            keys,
            issuer=response.issuer or self.issuer,
            audience=response.audience or self.audience,
        )
        self._loaded_at = time.monotonic()


def get_identity() -> Identity | None:
    """The caller of the current RPC, or None for an anonymous call."""
    return current_identity.get()


def require_identity() -> Identity:
    """The caller of the current RPC; UNAUTHENTICATED when there is none (a domain error)."""
    identity = current_identity.get()
    if identity is None:
        raise Unauthenticated("sign in required: missing access token")
    return identity


def require_operator() -> Identity:
    """The caller, who must hold the operator role; PERMISSION_DENIED otherwise (a domain error)."""
    identity = require_identity()
    if not identity.is_operator:
        raise PermissionDenied("this action needs the operator role")
    return identity
