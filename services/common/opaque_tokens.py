"""Opaque secrets (refresh, reset, verification and share tokens) are stored only as a digest.

A leaked table then holds nothing that works as a link or a session; the check hashes what the
caller presents and looks the digest up.
"""

from __future__ import annotations

import hashlib


def hash_opaque_token(token: str) -> str:
    """What a database stores for an opaque token: hex SHA-256 (64 characters)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
