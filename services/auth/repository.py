"""SQL for auth's tables. Every method runs inside the caller's session/transaction.

Single-use tokens (verification, reset, refresh) are consumed with one conditional UPDATE
(`… WHERE token = :hash AND <still valid> RETURNING …`), so two concurrent uses cannot both win.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.models import User
from services.auth.token_models import RefreshToken, TokenCutoff


class RefreshOutcome(enum.Enum):
    ROTATED = "rotated"
    # A token that was already rotated came back: it was copied. Its family is now revoked.
    REUSED = "reused"
    # Unknown, expired, or revoked (logout, password change, family revoked).
    INVALID = "invalid"


@dataclass(frozen=True)
class ConsumedRefresh:
    outcome: RefreshOutcome
    token_id: int | None = None
    user_id: int | None = None
    family_id: uuid.UUID | None = None


class AuthRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- users

    async def get_user(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id, populate_existing=True)

    async def get_user_by_email(self, email: str) -> User | None:
        return (await self.session.execute(select(User).where(User.email == email))).scalar_one_or_none()

    async def insert_user(self, *, email: str, password_hash: str, verification_hash: str) -> User | None:
        """Creates the user; None if the email is taken (no exception, so no aborted transaction)."""
        stmt = (
            pg_insert(User)
            .values(email=email, password_hash=password_hash, verification_token=verification_hash)
            .on_conflict_do_nothing(index_elements=[User.email])
            .returning(User)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def count_users(self) -> int:
        return int((await self.session.execute(select(func.count()).select_from(User))).scalar_one())

    async def consume_verification_token(self, token_hash: str) -> User | None:
        stmt = (
            update(User)
            .where(User.verification_token == token_hash)
            .values(email_verified=True, verification_token=None)
            .returning(User)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def set_verification_token(self, user_id: int, token_hash: str) -> None:
        await self.session.execute(
            update(User).where(User.id == user_id).values(verification_token=token_hash)
        )

    async def set_reset_token_by_email(self, email: str, token_hash: str, expires: datetime) -> int | None:
        """Stores a reset token for `email`'s account; returns its id, None if there is no account.

        One statement whether or not the account exists, so both paths cost the same.
        """
        stmt = (
            update(User)
            .where(User.email == email)
            .values(reset_token=token_hash, reset_token_expires=expires)
            .returning(User.id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def find_by_reset_token(self, token_hash: str) -> User | None:
        stmt = select(User).where(User.reset_token == token_hash, User.reset_token_expires > func.now())
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def reset_password(self, user_id: int, token_hash: str, password_hash: str) -> User | None:
        """Sets the password if the reset token is still this user's and unexpired; consumes it.

        Following the emailed link also proves the address, so the email counts as verified.
        """
        stmt = (
            update(User)
            .where(User.id == user_id, User.reset_token == token_hash, User.reset_token_expires > func.now())
            .values(
                password_hash=password_hash,
                reset_token=None,
                reset_token_expires=None,
                email_verified=True,
                verification_token=None,
            )
            .returning(User)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def change_password(self, user_id: int, old_hash: str, new_hash: str) -> bool:
        """Compare-and-set on the old hash: a concurrent change is not silently overwritten."""
        stmt = (
            update(User)
            .where(User.id == user_id, User.password_hash == old_hash)
            .values(password_hash=new_hash, reset_token=None, reset_token_expires=None)
            .returning(User.id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def upgrade_password_hash(self, user_id: int, old_hash: str, new_hash: str) -> None:
        await self.session.execute(
            update(User)
            .where(User.id == user_id, User.password_hash == old_hash)
            .values(password_hash=new_hash)
        )

    async def delete_user(self, user_id: int) -> bool:
        """Deletes the user; refresh tokens and cutoffs go with it (ON DELETE CASCADE)."""
        result = await self.session.execute(delete(User).where(User.id == user_id).returning(User.id))
        return result.scalar_one_or_none() is not None

    # ---- refresh tokens

    async def insert_refresh_token(
        self, *, user_id: int, token_hash: str, family_id: uuid.UUID, expires_at: datetime
    ) -> int:
        stmt = (
            pg_insert(RefreshToken)
            .values(user_id=user_id, token_hash=token_hash, family_id=family_id, expires_at=expires_at)
            .returning(RefreshToken.id)
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def consume_refresh_token(self, token_hash: str) -> ConsumedRefresh:
        """Marks a live token used (the caller then links its successor with `link_successor`)."""
        stmt = (
            update(RefreshToken)
            .where(
                RefreshToken.token_hash == token_hash,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > func.now(),
            )
            .values(revoked_at=func.now())
            .returning(RefreshToken.id, RefreshToken.user_id, RefreshToken.family_id)
        )
        row = (await self.session.execute(stmt)).one_or_none()
        if row is not None:
            return ConsumedRefresh(RefreshOutcome.ROTATED, int(row[0]), int(row[1]), row[2])
        # Why not? A token that was rotated before is being replayed: burn the family.
        stale = (
            await self.session.execute(
                select(RefreshToken.id, RefreshToken.user_id, RefreshToken.family_id).where(
                    RefreshToken.token_hash == token_hash, RefreshToken.replaced_by_id.is_not(None)
                )
            )
        ).one_or_none()
        if stale is None:
            return ConsumedRefresh(RefreshOutcome.INVALID)
        await self.revoke_family(stale[2])
        return ConsumedRefresh(RefreshOutcome.REUSED, int(stale[0]), int(stale[1]), stale[2])

    async def link_successor(self, token_id: int, successor_id: int) -> None:
        await self.session.execute(
            update(RefreshToken).where(RefreshToken.id == token_id).values(replaced_by_id=successor_id)
        )

    async def revoke_family(self, family_id: uuid.UUID) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=func.now())
        )

    async def family_of(self, token_hash: str) -> uuid.UUID | None:
        stmt = select(RefreshToken.family_id).where(RefreshToken.token_hash == token_hash)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def revoke_user_tokens(self, user_id: int) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=func.now())
        )

    async def delete_expired_refresh_tokens(self) -> int:
        result = await self.session.execute(delete(RefreshToken).where(RefreshToken.expires_at < func.now()))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # ---- access-token cutoffs

    async def set_cutoff(self, user_id: int, not_before: datetime) -> None:
        stmt = pg_insert(TokenCutoff).values(user_id=user_id, not_before=not_before)
        stmt = stmt.on_conflict_do_update(
            index_elements=[TokenCutoff.user_id], set_={"not_before": stmt.excluded.not_before}
        )
        await self.session.execute(stmt)

    async def get_cutoff(self, user_id: int) -> datetime | None:
        stmt = select(TokenCutoff.not_before).where(TokenCutoff.user_id == user_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()
