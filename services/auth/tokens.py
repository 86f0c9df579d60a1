"""Access tokens (EdDSA JWTs) and refresh tokens (opaque, stored hashed).

Access token: header `{"alg": "EdDSA", "kid": <key id>, "typ": "JWT"}`, claims
`sub` (user id as a string), `email`, `email_verified`, `roles`, `iat`, `iat_ms`, `exp`, `iss`, `aud`, `jti`
— the contract `services.common.identity.TokenVerifier` checks in every other service.
Verification accepts exactly EdDSA (so `alg: none` and HS256-with-the-public-key are refused) and
only keys of the ring, looked up by `kid`.

Refresh token: 256 random bits, URL-safe; the database keeps only its SHA-256 (a fast hash is
right here: the token has full entropy, so there is nothing to brute-force, unlike a password).
Email verification and password reset tokens are made the same way.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from services.auth.keys import ALGORITHM, KeyRing, SigningKey
from services.common.identity import issued_at_ms
from services.common.opaque_tokens import hash_opaque_token as hash_opaque_token

# Longest access-token lifetime we will issue, whatever the configuration says.
MAX_ACCESS_TTL_SECONDS = 3600
# Tolerated clock skew between replicas/services when checking exp/iat.
LEEWAY_SECONDS = 5
# Longest token string we will even try to parse (a real one is ~400 bytes).
MAX_TOKEN_LENGTH = 4096
OPAQUE_TOKEN_BYTES = 32  # 256 bits
REQUIRED_CLAIMS = ("sub", "iat", "exp", "iss", "aud", "jti")


class TokenError(Exception):
    """A token did not verify; the message is generic and safe to return to the caller."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    email: str
    email_verified: bool
    roles: tuple[str, ...]
    issued_at: int
    expires_at: int
    jti: str
    kid: str
    # `iat_ms`: what token cutoffs are compared with (services/common/identity.py).
    issued_at_ms: int = 0

    @property
    def expires_at_datetime(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.expires_at, dt.UTC)


@dataclass(frozen=True)
class IssuedAccessToken:
    token: str
    expires_in: int
    claims: AccessClaims


class AccessTokenCodec:
    """Signs access tokens with the ring's active key and verifies them against any ring key."""

    def __init__(
        self,
        ring: KeyRing,
        *,
        issuer: str,
        audience: str,
        ttl_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("access token TTL must be positive")
        self.ring = ring
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = min(int(ttl_seconds), MAX_ACCESS_TTL_SECONDS)
        self._clock = clock

    def issue(
        self, *, user_id: int, email: str, email_verified: bool, roles: Sequence[str] = ()
    ) -> IssuedAccessToken:
        key = self.ring.active()
        now_ms = int(self._clock() * 1000)
        now = now_ms // 1000
        claims = AccessClaims(
            user_id=user_id,
            email=email,
            email_verified=email_verified,
            roles=tuple(sorted(set(roles))),
            issued_at=now,
            expires_at=now + self.ttl_seconds,
            jti=uuid.uuid4().hex,
            kid=key.kid,
            issued_at_ms=now_ms,
        )
        payload: dict[str, Any] = {
            "sub": str(user_id),
            "email": email,
            # For SWARMCAST_REQUIRE_VERIFIED_EMAIL: the jobs service decides from the token alone.
            "email_verified": email_verified,
            "roles": list(claims.roles),
            "iat": claims.issued_at,
            "iat_ms": claims.issued_at_ms,
            "exp": claims.expires_at,
            "iss": self.issuer,
            "aud": self.audience,
            "jti": claims.jti,
        }
        token = jwt.encode(
            payload, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": "JWT"}
        )
        return IssuedAccessToken(token=token, expires_in=self.ttl_seconds, claims=claims)

    def verify(self, token: str) -> AccessClaims:
        """Returns the claims of a valid token, or raises TokenError (never anything else)."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise TokenError("access token is invalid")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenError("access token is invalid") from None
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise TokenError("access token is invalid")
        key = self._key_for(kid)
        if key is None:
            raise TokenError("access token is invalid")
        try:
            payload = jwt.decode(
                token,
                key.public_key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("access token has expired") from None
        except jwt.PyJWTError:
            raise TokenError("access token is invalid") from None
        try:
            return AccessClaims(
                user_id=int(payload["sub"]),
                email=str(payload.get("email", "")),
                email_verified=bool(payload.get("email_verified", False)),
                roles=tuple(str(r) for r in payload.get("roles", ())),
                issued_at=int(payload["iat"]),
                expires_at=int(payload["exp"]),
                jti=str(payload["jti"]),
                kid=kid,
                issued_at_ms=issued_at_ms(payload),
            )
        except (TypeError, ValueError):
            raise TokenError("access token is invalid") from None

    def _key_for(self, kid: str) -> SigningKey | None:
        key = self.ring.get(kid)
        if key is None and self.ring.reload_if_changed():
            # Another replica (or the operator) rotated the shared key folder.
            key = self.ring.get(kid)
        return key


def new_opaque_token() -> str:
    """A fresh 256-bit secret, URL-safe (43 characters)."""
    return secrets.token_urlsafe(OPAQUE_TOKEN_BYTES)


def looks_like_opaque_token(token: str) -> bool:
    """Cheap shape check before any database work: URL-safe base64 of the expected length."""
    return (
        isinstance(token, str)
        and 32 <= len(token) <= 128
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in token)
    )
