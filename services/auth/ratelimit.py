"""Fixed-window rate limits kept in Postgres, so every auth replica counts against the same budget.

One hit is one atomic statement: `INSERT … ON CONFLICT (bucket, window_start) DO UPDATE SET
hits = hits + 1 RETURNING hits` — no read-modify-write race between replicas. Windows are aligned
on the database clock (not each replica's), so replicas with skewed clocks still share a window.
Buckets are SHA-256 hashes of `<action>|<dimension>|<value>`, so no email or address is stored in
clear. Expired windows are deleted by `cleanup()` (run periodically by the server).

Also here: working out the client address behind a trusted proxy (the gateway).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Float, String, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.auth.settings import AuthSettings


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


class RateLimited(Exception):
    def __init__(self, message: str, retry_after_seconds: float) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_seconds = retry_after_seconds


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


# --- client address


def parse_networks(spec: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """`"127.0.0.0/8, ::1/128"` → networks; raises ValueError on a malformed entry."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def peer_host(peer: str) -> str:
    """The host of a gRPC peer string: `ipv4:1.2.3.4:5678` → `1.2.3.4`, `ipv6:[::1]:5678` → `::1`."""
    if peer.startswith("ipv4:"):
        return peer[5:].rsplit(":", 1)[0]
    if peer.startswith("ipv6:"):
        rest = peer[5:]
        if rest.startswith("["):
            return rest[1 : rest.find("]")]
        return rest
    return peer  # unix sockets and the like: the whole string identifies the caller


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    # An IPv4-mapped IPv6 address is the IPv4 client; count it as such.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def client_address(
    peer: str,
    forwarded_for: Iterable[str],
    trusted: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> str:
    """The address a request is counted against.

    `x-forwarded-for` is believed only when the direct peer is a trusted proxy, and then walked
    from the right (the entries the proxies appended) to the first hop that is not itself a trusted
    proxy: a client cannot dodge the limit by sending its own forged header through the gateway.
    """
    direct = peer_host(peer)
    direct_ip = _ip(direct)
    if direct_ip is None or not any(direct_ip in net for net in trusted):
        return str(direct_ip) if direct_ip is not None else direct
    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    client = str(direct_ip)
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            break  # garbage in the chain: stop at the last address we could trust
        client = str(ip)
        if not any(ip in net for net in trusted):
            break
    return client
