"""Email-verification tokens that expire, without a column for the expiry.

The seed's `auth.users` keeps only `verification_token` (the SHA-256 of the raw token) and may not
change, so the issue time travels inside the raw token: `v1` + the issue time as 10 decimal digits
(Unix seconds) + 256 random bits (URL-safe). The database stores the hash of all of it, so a
changed time no longer matches any row: the time cannot be forged, only read. A token without
that prefix (issued before tokens expired) counts as expired; the user asks for a new link.
"""

from __future__ import annotations

import time

from services.auth.tokens import new_opaque_token

PREFIX = "v1"
_DIGITS = 10
# Tolerated clock skew between replicas: a token "issued" slightly in the future is still fine.
SKEW_SECONDS = 300


def new_verification_token(now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    return f"{PREFIX}{issued:0{_DIGITS}d}{new_opaque_token()}"


def issued_at(token: str) -> int | None:
    """The issue time inside `token`, or None when it has none (an old-style or made-up token)."""
    stamp = token[len(PREFIX) : len(PREFIX) + _DIGITS]
    if not token.startswith(PREFIX) or len(stamp) != _DIGITS or not stamp.isdigit():
        return None
    return int(stamp)


def is_expired(token: str, ttl_seconds: float, now: float | None = None) -> bool:
    issued = issued_at(token)
    if issued is None:
        return True
    current = time.time() if now is None else now
    return not (issued - SKEW_SECONDS <= current <= issued + ttl_seconds)
