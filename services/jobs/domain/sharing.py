"""Share tokens: unguessable, URL-safe, cheap to reject when malformed, and stored hashed.

The database keeps only `share_token_digest(token)` (hex SHA-256, 64 characters, in the seed's
`share_token varchar(64)`), like auth's refresh/reset/verification tokens: a leaked backup or a
read-only SQL session yields no working link. The token itself is shown once, when the link is
made; sharing again makes a new link and the old one stops working.
"""

from __future__ import annotations

import re
import secrets

from services.common.opaque_tokens import hash_opaque_token

# 32 random bytes = 256 bits, the docs/architecture.md §6 minimum; URL-safe base64 without padding → 43 chars.
# The column stores the 64-hex digest, never these characters.
SHARE_TOKEN_BYTES = 32
SHARE_TOKEN_CHARS = 43
_TOKEN_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{{SHARE_TOKEN_CHARS}}}")


def new_share_token() -> str:
    return secrets.token_urlsafe(SHARE_TOKEN_BYTES)


def share_token_digest(token: str) -> str:
    """What the share_token column stores for `token` (alembic 0008 hashed old rows)."""
    return hash_opaque_token(token)


def is_well_formed_share_token(token: str) -> bool:
    """False for anything new_share_token could not have produced (answered as NOT_FOUND)."""
    return _TOKEN_SHAPE.fullmatch(token) is not None
