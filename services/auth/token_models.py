"""Auth's own tables beyond the seed's `auth.users` (migration `0002_auth_tokens`).

- `refresh_tokens`: one row per refresh token ever issued, stored only as a SHA-256 hash. Tokens of
  one login form a `family`; using a token rotates it (`revoked_at` + `replaced_by_id`), and
  presenting an already-rotated token again revokes its whole family (token theft detection).
- `token_cutoffs`: per user, access tokens issued before `not_before` are refused by Authenticate
  (set on password change/reset), so a stolen access token dies with the password.
- `rate_limits`: fixed-window counters shared by every auth replica.
- `outbox_events`: events that must reach the bus (`auth.user.deleted`), written in the same
  transaction as the change they announce and deleted once published (the shared outbox,
  `services.common.outbox`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base
from services.common.outbox import OutboxColumns, outbox_table_args


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"
    __table_args__ = {"schema": "auth"}

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("auth.users.id", ondelete="CASCADE"), index=True)
    # Hex SHA-256 of the token; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when the token was rotated (used); a rotated token presented again means reuse.
    replaced_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("auth.refresh_tokens.id", ondelete="SET NULL")
    )

    def __repr__(self) -> str:  # no hash in reprs: they end up in logs
        return (
            f"RefreshToken(id={self.id!r}, user_id={self.user_id!r}, revoked={self.revoked_at is not None})"
        )


class TokenCutoff(Base):
    __tablename__ = "token_cutoffs"
    __table_args__ = {"schema": "auth"}

    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("auth.users.id", ondelete="CASCADE"), primary_key=True
    )
    not_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RateLimitCounter(Base):
    __tablename__ = "rate_limits"
    __table_args__ = {"schema": "auth"}

    # Hex SHA-256 of "<action>|<dimension>|<value>": no emails or addresses stored in clear.
    bucket: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class OutboxEvent(OutboxColumns, Base):
    """Events of `services.common.outbox`; auth's relay deletes a row once it is published."""

    __tablename__ = "outbox_events"
    __table_args__ = outbox_table_args("outbox_events", schema="auth")
