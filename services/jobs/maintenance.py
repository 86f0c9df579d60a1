"""Periodic housekeeping: error events older than 30 days, published outbox rows, dedupe ids."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.jobs import repository as repo
from services.jobs.outbox import KEEP_PUBLISHED

log = logging.getLogger("swarmcast.jobs.maintenance")

ERROR_EVENT_RETENTION = timedelta(days=30)
PRUNE_INTERVAL_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class PruneReport:
    error_events: int
    outbox: int


class Pruner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        interval_seconds: float = PRUNE_INTERVAL_SECONDS,
        error_retention: timedelta = ERROR_EVENT_RETENTION,
    ) -> None:
        self.sessions = sessions
        self.interval_seconds = interval_seconds
        self.error_retention = error_retention

    async def prune_once(self) -> PruneReport:
        # Plain DELETEs with a time bound: running on two replicas at once is harmless.
        async with self.sessions() as session, session.begin():
            errors = await repo.prune_error_events(session, self.error_retention)
            outbox = await repo.prune_outbox(session, KEEP_PUBLISHED)
        return PruneReport(error_events=errors, outbox=outbox)

    async def run(self) -> None:
        while True:
            try:
                report = await self.prune_once()
                if report.error_events or report.outbox:
                    log.info("pruned %d error events and %d outbox rows", report.error_events, report.outbox)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("pruning failed; trying again next interval")
            await asyncio.sleep(self.interval_seconds)
