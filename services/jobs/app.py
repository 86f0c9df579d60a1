"""Assembles the jobs service: the gRPC servicer and everything that runs beside it.

`JobsApp.start()` opens the watch fan-out, the durable event consumers and four periodic tasks
(`services.common.periodic`: outbox relay, stale-job detector, pruner, fair release of held
jobs); `stop()` closes them.
The process bootstrap (`server.py`) and the in-process test server both use it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.bus import EventBus
from services.common.outbox import OutboxRelay, Published
from services.common.periodic import PeriodicTask
from services.common.revocation import RevocationList
from services.common.storage import ObjectStore
from services.jobs import repository as repo
from services.jobs.detector import JetStreamQueueProbe, StaleJobDetector
from services.jobs.dispatch import Dispatcher, FairRelease
from services.jobs.handlers import EventHandlers
from services.jobs.interviews import Interviews
from services.jobs.maintenance import Pruner
from services.jobs.purge import UserPurge
from services.jobs.runtime_models import OutboxMessage
from services.jobs.service import JobsCore
from services.jobs.servicer import JobsServicer
from services.jobs.settings import JobsSettings
from services.jobs.watch import WatchHub

log = logging.getLogger("swarmcast.jobs")


def outbox_relay(
    sessions: async_sessionmaker[AsyncSession],
    bus: EventBus,
    *,
    sweep_interval: float = 2.0,
    batch_size: int = 200,
) -> OutboxRelay:
    """The relay of `jobs.outbox`: published rows are kept a day (`maintenance`), a dispatch whose
    run is no longer the job's current live run is never published, and each published dispatch's
    JetStream sequence is stored on its run (the detector asks whether it is still queued)."""

    async def record_stream_seqs(session: AsyncSession, published: Sequence[Published]) -> None:
        # A dispatch's msg_id is its run id.
        seqs = {p.msg_id: p.stream_seq for p in published if repo.is_dispatch(p.subject)}
        await repo.record_stream_seqs(session, seqs)

    return OutboxRelay(
        sessions,
        bus,
        OutboxMessage,
        keep_published=True,
        still_wanted=repo.outbox_still_wanted(),
        on_published=record_stream_seqs,
        sweep_interval=sweep_interval,
        batch_size=batch_size,
    )


class JobsApp:
    def __init__(
        self,
        settings: JobsSettings,
        *,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        store: ObjectStore,
        relay_sweep_seconds: float = 2.0,
        revocations: RevocationList | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.bus = bus
        self.store = store
        self.hub = WatchHub(bus)
        self.relay = outbox_relay(sessions, bus, sweep_interval=relay_sweep_seconds)
        self.dispatcher = Dispatcher(store)
        self.fair_release = FairRelease(
            sessions,
            dispatcher=self.dispatcher,
            relay=self.relay,
            notifier=self.hub,
            in_flight_per_user=settings.jobs_in_flight_per_user,
            interval_seconds=settings.jobs_release_interval_seconds,
        )
        self.core = JobsCore(
            sessions,
            store=store,
            dispatcher=self.dispatcher,
            relay=self.relay,
            notifier=self.hub,
            require_verified_email=settings.require_verified_email,
            limits=settings.fair_use(),
            release=self.fair_release,
            queue_max_age_s=settings.jobs_queue_max_age_seconds,
        )
        # Deleted users: from the token cutoffs (the runtime's list) and `auth.user.deleted`.
        self.revocations = revocations or RevocationList()
        self.core.deleted_users = self.revocations
        self.core.interviews = Interviews(
            sessions,
            self.core.readers,
            store=store,
            bus=bus,
            per_hour=settings.jobs_interviews_per_hour,
            max_agents=settings.jobs_interview_max_agents,
            reply_timeout=settings.jobs_interview_reply_timeout_s,
        )
        self.purge = UserPurge(
            sessions,
            store=store,
            dispatcher=self.dispatcher,
            relay=self.relay,
            notifier=self.hub,
            deleted_users=self.revocations,
            bus=bus,
            lease_seconds=settings.stale_after_seconds,
        )
        self.handlers = EventHandlers(
            sessions,
            store=store,
            dispatcher=self.dispatcher,
            relay=self.relay,
            notifier=self.hub,
            retry_budget=settings.retry_budget,
            purge=self.purge,
        )
        self.detector = StaleJobDetector(
            sessions,
            dispatcher=self.dispatcher,
            relay=self.relay,
            notifier=self.hub,
            probe=JetStreamQueueProbe(bus),
            stale_after_seconds=settings.stale_after_seconds,
            retry_budget=settings.retry_budget,
            interval_seconds=settings.stale_check_interval_seconds,
        )
        self.pruner = Pruner(sessions)
        self.servicer = JobsServicer(self.core, self.hub, sessions)
        self._subscriptions: list[Any] = []
        self.periodic: tuple[PeriodicTask, ...] = (
            # The relay's first flush also publishes what a crash left in the outbox.
            self.relay.periodic,
            self.detector.periodic,
            self.pruner.periodic,
            self.fair_release.periodic,
        )

    async def start(self, *, consumers: bool = True, background: bool = True) -> None:
        """Starts the watch fan-out, the event consumers and the relay, detector and pruner loops.

        Tests switch parts off to drive them by hand (`relay.flush()`, `detector.check_once()`).
        """
        try:
            await self.store.ensure_bucket()
        except Exception as exc:
            # Not fatal: presigning is local; uploads fail (and runs are retried) until it exists.
            log.warning("could not ensure bucket %s: %s", self.store.bucket, exc)
        await self.hub.start()
        if consumers:
            self._subscriptions = await self.handlers.subscribe(self.bus)
        if background:
            for task in self.periodic:
                task.start()

    async def stop(self) -> None:
        await asyncio.gather(*(task.stop() for task in self.periodic))
        await self.purge.stop()
        # Together: each stop waits out its consumer's current pull request (about a second).
        results = await asyncio.gather(
            *(sub.stop(grace=5.0) for sub in self._subscriptions), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                log.error("stopping a consumer failed: %r", result)
        self._subscriptions = []
        await self.hub.stop()
