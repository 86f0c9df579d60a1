"""Dependency probes behind every service's grpc.health.v1 status, written once.

A service is only as healthy as what it stands on. `ServiceRuntime` (grpc_server.py) registers
a probe per dependency the process really uses, and `GrpcServer` runs them every
`SWARMCAST_HEALTH_PROBE_INTERVAL_SECONDS` (default 5 s):

- `postgres`: `SELECT 1` on the service's own engine (auth, jobs);
- `nats`: the bus is connected and JetStream answers an account-info request (every service);
- `object_storage`: the bucket exists, on a short-timeout client of its own (jobs, reporter, and
  the runner when it reads object storage itself).

Each result is published on the health servicer under its own name (`DEPENDENCY_PREFIX` +
dependency, e.g. `swarmcast.dependency.nats`) and the server's overall status ("" and the
domain service names) is SERVING only while the service is ready *and* every probe passes. The
gateway's `/api/health` reads these names; a name the server does not know (NOT_FOUND) means
that service does not use the dependency.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import urllib3
from minio import Minio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.bus import EventBus
from services.common.config import Settings

log = logging.getLogger("swarmcast.dependencies")

POSTGRES = "postgres"
NATS = "nats"
OBJECT_STORAGE = "object_storage"
DEPENDENCIES = (POSTGRES, NATS, OBJECT_STORAGE)
# Health service names are free-form strings; this prefix keeps them apart from gRPC services.
DEPENDENCY_PREFIX = "swarmcast.dependency."

PROBE_TIMEOUT_SECONDS = 3.0

# Raises (or times out) when the dependency is unusable.
Probe = Callable[[], Awaitable[None]]


def health_name(dependency: str) -> str:
    """The grpc.health.v1 service name under which a server reports `dependency`."""
    return f"{DEPENDENCY_PREFIX}{dependency}"


class DependencyDown(Exception):
    """A probe's own verdict that its dependency is unusable."""


def postgres_probe(engine: AsyncEngine) -> Probe:
    async def probe() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return probe


def nats_probe(bus: Callable[[], EventBus | None]) -> Probe:
    """Connected, and JetStream answers (a server without JetStream or a lost stream leader fails)."""

    async def probe() -> None:
        current = bus()
        if current is None:
            raise DependencyDown("not connected yet")
        if not current.nc.is_connected:
            raise DependencyDown("disconnected")
        await current.js.account_info()

    return probe


def object_storage_probe(settings: Settings) -> Probe:
    """`bucket_exists` on a client of its own: short timeouts and no retries, so a dead server is
    noticed within one probe (the service's own client retries for a minute, by design)."""
    client = Minio(
        settings.s3_host,
        access_key=settings.s3_access_key.get_secret_value(),
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=settings.s3_secure,
        region=settings.s3_region,
        http_client=urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=PROBE_TIMEOUT_SECONDS, read=PROBE_TIMEOUT_SECONDS),
            retries=False,
            maxsize=1,
        ),
    )
    bucket = settings.s3_bucket

    async def probe() -> None:
        if not await asyncio.to_thread(client.bucket_exists, bucket):
            raise DependencyDown(f"bucket {bucket!r} does not exist")

    return probe


@dataclass
class DependencyProbes:
    """The named probes of one process; `check()` runs them all at once."""

    probes: dict[str, Probe] = field(default_factory=dict)
    timeout: float = PROBE_TIMEOUT_SECONDS
    # Last verdict per dependency: "" when up, else why not (for the log, never for clients).
    last: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, probe: Probe) -> None:
        self.probes[name] = probe

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.probes)

    async def check(self) -> Mapping[str, bool]:
        """Runs every probe (bounded by `timeout`); name → up. Logs each change of state once."""
        names = list(self.probes)
        results = await asyncio.gather(*(self._one(self.probes[n]) for n in names))
        verdicts: dict[str, bool] = {}
        for name, problem in zip(names, results, strict=True):
            before = self.last.get(name)
            if problem and not before:
                log.warning("dependency %s is down: %s", name, problem, extra={"dependency": name})
            elif not problem and before:
                log.info("dependency %s is back", name, extra={"dependency": name})
            self.last[name] = problem
            verdicts[name] = not problem
        return verdicts

    async def _one(self, probe: Probe) -> str:
        try:
            await asyncio.wait_for(probe(), self.timeout)
        except TimeoutError:
            return f"no answer within {self.timeout:g}s"
        except Exception as exc:  # any failure is a verdict, not a crash of the loop
            return f"{type(exc).__name__}: {exc}"[:300]
        return ""
