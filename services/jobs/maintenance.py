"""Periodic housekeeping: error events older than 30 days, published outbox rows, dedupe ids."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common import outbox
from services.common.periodic import PeriodicTask
from services.jobs import repository as repo
from services.jobs.runtime_models import OutboxMessage

log = logging.getLogger("swarmcast.jobs.maintenance")

ERROR_EVENT_RETENTION = timedelta(days=30)
# Published outbox rows are kept a while for diagnosis, then pruned.
KEEP_PUBLISHED = timedelta(days=1)
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
        self.error_retention = error_retention
        self.periodic = PeriodicTask("pruning", interval_seconds, self._prune_and_log)

    async def prune_once(self) -> PruneReport:
        # Plain DELETEs with a time bound: running on two replicas at once is harmless.
        async with self.sessions() as session, session.begin():
            errors = await repo.prune_error_events(session, self.error_retention)
            pruned = await outbox.prune_published(session, OutboxMessage, KEEP_PUBLISHED)
        return PruneReport(error_events=errors, outbox=pruned)

    async def _prune_and_log(self) -> None:
        report = await self.prune_once()
        if report.error_events or report.outbox:
            log.info("pruned %d error events and %d outbox rows", report.error_events, report.outbox)
