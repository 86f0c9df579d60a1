"""Fixed-window rate limits kept in Postgres, so every auth replica counts against the same budget.

One hit is one atomic statement: `INSERT … ON CONFLICT (bucket, window_start) DO UPDATE SET
hits = hits + 1 RETURNING hits` — no read-modify-write race between replicas. Windows are aligned
on the database clock (not each replica's), so replicas with skewed clocks still share a window.
Buckets are SHA-256 hashes of `<action>|<dimension>|<value>`, so no email or address is stored in
clear. Expired windows are deleted by `cleanup()` (run periodically by the server).

The client address a limit counts is worked out by services/common/clientip.py.

Failed sign-ins (docs/security.md, "Sign-in abuse") are throttled so that the attacker is slowed,
not the account's owner:

- per (account, address) pair, exponential backoff: after `free_failures` failures the pair must
  wait `backoff`, then twice that after the next failure, … up to `max_backoff`. One row per pair
  (`window_start` = the epoch, `hits` = failures, `expires_at` = last failure + `memory`); a
  successful sign-in deletes it. An attempt is charged *before* the password is checked (one
  conditional upsert: concurrent guesses cannot all slip through) and refunded if it succeeds.
- per account, fixed hourly windows of failures: one budget for addresses the account never
  signed in from, a separate one for addresses it did ("known", remembered for a month), so a
  distributed attacker who exhausts the first still leaves the owner at home a way in, and the
  two together keep the guesses per account and hour under 100.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Integer, String, bindparam, text
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
class Backoff:
    """Exponential backoff of failed sign-ins per (account, address) pair."""

    free_failures: int
    base_seconds: float
    max_seconds: float
    memory_seconds: float

    @property
    def enabled(self) -> bool:
        return self.base_seconds > 0 and self.memory_seconds > 0

    def delay(self, failures: int) -> float:
        """How long after the last of `failures` failures the pair must wait."""
        if failures < self.free_failures:
            return 0.0
        return min(self.base_seconds * 2.0 ** min(failures - self.free_failures, 30), self.max_seconds)


@dataclass(frozen=True)
class Limits:
    register_per_address: Limit
    login_per_address: Limit
    # Password checks of signed-in users (ChangePassword, DeleteAccount).
    login_per_email: Limit
    reset_per_email: Limit
    reset_per_address: Limit
    login_pair: Backoff
    # Failed sign-ins per account from addresses it never / once signed in from.
    account_failures: Limit
    known_failures: Limit
    known_address_seconds: float

    @classmethod
    def from_settings(cls, s: AuthSettings) -> Limits:
        return cls(
            register_per_address=Limit("register", s.register_limit, s.register_window_seconds),
            login_per_address=Limit("login-address", s.login_limit, s.login_window_seconds),
            login_per_email=Limit("login-email", s.login_limit, s.login_window_seconds),
            reset_per_email=Limit("reset-email", s.reset_limit, s.reset_window_seconds),
            reset_per_address=Limit("reset-address", s.reset_address_limit, s.reset_window_seconds),
            login_pair=Backoff(
                s.login_pair_free_failures,
                s.login_pair_backoff_seconds,
                s.login_pair_max_backoff_seconds,
                s.login_pair_memory_seconds,
            ),
            account_failures=Limit(
                "login-account-failures", s.login_account_failure_limit, s.login_account_window_seconds
            ),
            known_failures=Limit(
                "login-known-failures", s.login_known_failure_limit, s.login_account_window_seconds
            ),
            known_address_seconds=s.login_known_address_seconds,
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

# The parameters of the (account, address) pair statements: bucket, remembered window, free
# failures, backoff base and cap.
_PAIR_PARAMS = (
    bindparam("bucket", type_=String()),
    bindparam("memory", type_=Float()),
    bindparam("free", type_=Integer()),
    bindparam("base", type_=Float()),
    bindparam("cap", type_=Float()),
)

# Rows that are not windows (pair backoff, known addresses) sit at window_start = the epoch.
_PAIR_CHARGE = text(
    """
    INSERT INTO auth.rate_limits AS r (bucket, window_start, hits, expires_at)
    VALUES (:bucket, to_timestamp(0), 1, clock_timestamp() + make_interval(secs => :memory))
    ON CONFLICT (bucket, window_start) DO UPDATE
    SET hits = CASE WHEN r.expires_at < clock_timestamp() THEN 1 ELSE r.hits + 1 END,
        expires_at = clock_timestamp() + make_interval(secs => :memory)
    WHERE r.expires_at < clock_timestamp()
       OR r.hits < :free
       OR clock_timestamp() >= r.expires_at - make_interval(secs => :memory)
            + make_interval(secs => least(:base * power(2.0, least(r.hits - :free, 30)), :cap))
    RETURNING r.hits
    """
).bindparams(*_PAIR_PARAMS)

_PAIR_WAIT = text(
    """
    SELECT extract(epoch FROM r.expires_at - make_interval(secs => :memory)
             + make_interval(secs => least(:base * power(2.0, least(r.hits - :free, 30)), :cap))
             - clock_timestamp())::double precision
    FROM auth.rate_limits AS r
    WHERE r.bucket = :bucket AND r.window_start = to_timestamp(0)
    """
).bindparams(*_PAIR_PARAMS)

_UNCHARGE_PAIR = text(
    "UPDATE auth.rate_limits SET hits = greatest(hits - 1, 0)"
    " WHERE bucket = :bucket AND window_start = to_timestamp(0)"
).bindparams(bindparam("bucket", type_=String()))

_FORGET = text(
    "DELETE FROM auth.rate_limits WHERE bucket = :bucket AND window_start = to_timestamp(0)"
).bindparams(bindparam("bucket", type_=String()))

_UNCHARGE_WINDOW = text(
    """
    UPDATE auth.rate_limits SET hits = greatest(hits - 1, 0)
    WHERE bucket = :bucket AND window_start = to_timestamp(
        floor(extract(epoch FROM clock_timestamp())::double precision / :window) * :window
    )
    """
).bindparams(bindparam("bucket", type_=String()), bindparam("window", type_=Float()))

_REMEMBER = text(
    """
    INSERT INTO auth.rate_limits AS r (bucket, window_start, hits, expires_at)
    VALUES (:bucket, to_timestamp(0), 1, clock_timestamp() + make_interval(secs => :keep))
    ON CONFLICT (bucket, window_start) DO UPDATE
    SET hits = 1, expires_at = clock_timestamp() + make_interval(secs => :keep)
    """
).bindparams(bindparam("bucket", type_=String()), bindparam("keep", type_=Float()))

_REMEMBERED = text(
    "SELECT 1 FROM auth.rate_limits WHERE bucket = :bucket AND window_start = to_timestamp(0)"
    " AND expires_at > clock_timestamp()"
).bindparams(bindparam("bucket", type_=String()))

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

    # ---- failed sign-ins (see the module docstring)

    @staticmethod
    def _pair_bucket(email: str, client: str) -> str:
        return hashlib.sha256(f"login-pair|{email}|{client}".encode("utf-8", "surrogatepass")).hexdigest()

    @staticmethod
    def _known_bucket(email: str, client: str) -> str:
        return hashlib.sha256(f"login-known|{email}|{client}".encode("utf-8", "surrogatepass")).hexdigest()

    async def is_known_address(self, email: str, client: str) -> bool:
        """True when `email` signed in (or signed up) from `client` within the remembered time."""
        async with self._sessions() as session:
            row = (await session.execute(_REMEMBERED, {"bucket": self._known_bucket(email, client)})).first()
        return row is not None

    async def charge_attempt(self, limits: Limits, email: str, client: str, *, known: bool) -> None:
        """Charges one sign-in attempt to the (account, address) pair and to the account's failure
        budget, or raises RateLimited (charging nothing) when either is spent."""
        backoff = limits.login_pair
        pair = self._pair_bucket(email, client)
        params = {
            "bucket": pair,
            "memory": float(backoff.memory_seconds),
            "free": int(backoff.free_failures),
            "base": float(backoff.base_seconds),
            "cap": float(backoff.max_seconds),
        }
        if backoff.enabled:
            async with self._sessions() as session, session.begin():
                charged = (await session.execute(_PAIR_CHARGE, params)).first()
                wait = None if charged is not None else (await session.execute(_PAIR_WAIT, params)).scalar()
            if charged is None:
                raise RateLimited(
                    "too many failed sign-in attempts from this address; try again later",
                    max(1.0, float(math.ceil(wait or 0.0))),
                )
        budget = limits.known_failures if known else limits.account_failures
        try:
            await self.hit(
                [(budget, email)], "too many failed sign-in attempts for this account; try again later"
            )
        except RateLimited:
            if backoff.enabled:
                await self._execute(_UNCHARGE_PAIR, {"bucket": pair})
            raise

    async def refund_attempt(self, limits: Limits, email: str, client: str, *, known: bool) -> None:
        """Takes back a charged attempt whose password was never checked (the hasher was busy)."""
        budget = limits.known_failures if known else limits.account_failures
        if limits.login_pair.enabled:
            await self._execute(_UNCHARGE_PAIR, {"bucket": self._pair_bucket(email, client)})
        if budget.enabled:
            await self._execute(
                _UNCHARGE_WINDOW,
                {"bucket": bucket_for(budget, email), "window": float(budget.window_seconds)},
            )

    async def sign_in_succeeded(self, limits: Limits, email: str, client: str, *, known: bool | None) -> None:
        """Only failures cost: forgets the pair's failures, refunds the attempt's charge to the
        account budget (`known` None: nothing was charged, e.g. a sign-up) and remembers the
        address as one the account signs in from."""
        async with self._sessions() as session, session.begin():
            await session.execute(_FORGET, {"bucket": self._pair_bucket(email, client)})
            if known is not None:
                budget = limits.known_failures if known else limits.account_failures
                if budget.enabled:
                    await session.execute(
                        _UNCHARGE_WINDOW,
                        {"bucket": bucket_for(budget, email), "window": float(budget.window_seconds)},
                    )
            if limits.known_address_seconds > 0:
                await session.execute(
                    _REMEMBER,
                    {
                        "bucket": self._known_bucket(email, client),
                        "keep": float(limits.known_address_seconds),
                    },
                )

    async def _execute(self, statement: Any, params: dict[str, Any]) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(statement, params)

    async def cleanup(self) -> int:
        """Deletes counters of windows that have ended; returns how many."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(_CLEANUP)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
