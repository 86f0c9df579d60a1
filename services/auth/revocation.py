"""Auth's side of token revocation: the per-user cutoff, stored and published in one transaction.

The cutoff row (`auth.token_cutoffs`) is what auth's own Authenticate checks; the `TokenCutoff`
event (outbox → ``auth.token_cutoff.<user_id>``) is what every other service applies
(services/common/revocation.py). Both are written in the caller's transaction, so a committed
password change, reset, logout or deletion always reaches the bus (the outbox relay retries).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.token_models import OutboxEvent, RefreshToken
from services.common import outbox, subjects
from services.common.revocation import cutoff_event, cutoff_msg_id, datetime_ms


async def publish_cutoff(
    session: AsyncSession, user_id: int, not_before: datetime, *, deleted: bool = False
) -> None:
    """Queues the user's cutoff for every service (inside the caller's transaction)."""
    ms = datetime_ms(not_before)
    await outbox.add(
        session,
        OutboxEvent,
        subjects.token_cutoff(user_id),
        cutoff_event(user_id, ms, deleted=deleted),
        msg_id=cutoff_msg_id(user_id, ms, deleted=deleted),
    )


async def user_of_refresh_token(session: AsyncSession, token_hash: str) -> int | None:
    """The owner of a refresh token (any state), or None for an unknown token."""
    stmt = select(RefreshToken.user_id).where(RefreshToken.token_hash == token_hash)
    value = (await session.execute(stmt)).scalar_one_or_none()
    return int(value) if value is not None else None
