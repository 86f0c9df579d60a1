"""Share tokens: unguessable, URL-safe, and cheap to reject when malformed."""

from __future__ import annotations

import re
import secrets

# 32 random bytes = 256 bits, the docs/architecture.md §6 minimum; URL-safe base64 without padding → 43 chars,
# well inside share_token's varchar(64).
SHARE_TOKEN_BYTES = 32
SHARE_TOKEN_CHARS = 43
_TOKEN_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{{SHARE_TOKEN_CHARS}}}")


def new_share_token() -> str:
    return secrets.token_urlsafe(SHARE_TOKEN_BYTES)


def is_well_formed_share_token(token: str) -> bool:
    """False for anything new_share_token could not have produced (answered as NOT_FOUND)."""
    return _TOKEN_SHAPE.fullmatch(token) is not None
