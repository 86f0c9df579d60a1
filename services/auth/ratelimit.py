"""Fixed-window rate limits kept in Postgres, so every auth replica counts against the same budget.

One hit is one atomic statement: `INSERT … ON CONFLICT (bucket, window_start) DO UPDATE SET
hits = hits + 1 RETURNING hits` — no read-modify-write race between replicas. Windows are aligned
on the database clock (not each replica's), so replicas with skewed clocks still share a window.
Buckets are SHA-256 hashes of `<action>|<dimension>|<value>`, so no email or address is stored in
clear. Expired windows are deleted by `cleanup()` (run periodically by the server).

The client address a limit counts is worked out by services/common/clientip.py.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Float, String, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.auth.settings import AuthSettings
from services.common.errors import ResourceExhausted


@dataclass(frozen=True)
class Limit:
    action: str
    max_hits: int
    window_seconds: float

    @property
    def enabled(self) -> bool:
        return self.max_hits > 0 and self.window_seconds > 0


@dataclass(frozen=True)
class Limits:
    register_per_address: Limit
    login_per_address: Limit
    login_per_email: Limit
    reset_per_email: Limit

    @classmethod
    def from_settings(cls, s: AuthSettings) -> Limits:
        return cls(
            register_per_address=Limit("register", s.register_limit, s.register_window_seconds),
            login_per_address=Limit("login-address", s.login_limit, s.login_window_seconds),
            login_per_email=Limit("login-email", s.login_limit, s.login_window_seconds),
            reset_per_email=Limit("reset-email", s.reset_limit, s.reset_window_seconds),
        )


class RateLimited(ResourceExhausted):
    """Over a limit: RESOURCE_EXHAUSTED, with when to retry (RetryInfo and `retry-after`)."""


def bucket_for(limit: Limit, key: str) -> str:
    return hashlib.sha256(f"{limit.action}|{key}".encode("utf-8", "surrogatepass")).hexdigest()


_HIT = text(
    """
    INSERT INTO auth.rate_limits AS r (bucket, window_start, hits, expires_at)
    SELECT :bucket, w.start, 1, w.start + make_interval(secs => :window)
    FROM (
        SELECT to_timestamp(
            floor(extract(epoch FROM clock_timestamp())::double precision / :window) * :window
        ) AS start
    ) AS w
    ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + 1
    RETURNING r.hits,
              extract(epoch FROM r.expires_at - clock_timestamp())::double precision AS remaining
    """
).bindparams(bindparam("bucket", type_=String()), bindparam("window", type_=Float()))

_CLEANUP = text("DELETE FROM auth.rate_limits WHERE expires_at < clock_timestamp()")


class RateLimiter:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def hit(self, checks: Sequence[tuple[Limit, str]], message: str) -> None:
        """Counts one hit against every (limit, key); raises RateLimited if any is over its budget.

        Every hit is counted (and committed at once, in its own transaction) whatever the outcome
        of the request, so failed attempts cost budget too.
        """
        active = [(limit, key) for limit, key in checks if limit.enabled]
        if not active:
            return
        retry_after: float | None = None
        async with self._sessions() as session, session.begin():
            for limit, key in active:
                row = (
                    await session.execute(
                        _HIT, {"bucket": bucket_for(limit, key), "window": float(limit.window_seconds)}
                    )
                ).one()
                hits, remaining = int(row[0]), float(row[1])
                if hits > limit.max_hits:
                    retry_after = max(retry_after or 0.0, remaining)
        if retry_after is not None:
            # At least 1 s: "retry after 0" invites a hot loop at the window edge.
            raise RateLimited(message, max(1.0, float(math.ceil(retry_after))))

    async def cleanup(self) -> int:
        """Deletes counters of windows that have ended; returns how many."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(_CLEANUP)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
