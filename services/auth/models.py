"""The `auth` schema, exactly as the seed documents it (one table: `users`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String, false, func
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base


class User(Base):
    __tablename__ = "users"
    __table_args__ = {"schema": "auth"}

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    # "Unique, indexed": one unique index (ix_users_email) serves both, instead of a unique
    # constraint plus a second, redundant plain index.
    email: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # now() is an absolute instant; timezone('utc', now()) would yield a naive timestamp that a
    # non-UTC session would then mis-convert on its way into timestamptz.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    email_verified: Mapped[bool] = mapped_column(Boolean, server_default=false())
    verification_token: Mapped[str | None] = mapped_column(String(255))
    reset_token: Mapped[str | None] = mapped_column(String(255))
    reset_token_expires: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, email_verified={self.email_verified!r})"
