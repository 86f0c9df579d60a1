"""Assembles the jobs service: the gRPC servicer and everything that runs beside it.

`JobsApp.start()` opens the watch fan-out, the durable event consumers and three background
loops (outbox relay, stale-job detector, pruner); `stop()` closes them. The process bootstrap
(`server.py`) and the in-process test server both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.bus import EventBus
from services.common.config import Settings
from services.common.storage import ObjectStore
from services.jobs.detector import JetStreamQueueProbe, StaleJobDetector
from services.jobs.dispatch import Dispatcher
from services.jobs.handlers import EventHandlers
from services.jobs.maintenance import Pruner
from services.jobs.outbox import OutboxRelay
from services.jobs.service import JobsCore
from services.jobs.servicer import JobsServicer
from services.jobs.watch import WatchHub

log = logging.getLogger("swarmcast.jobs")


class JobsApp:
    def __init__(
        self,
        settings: Settings,
        *,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        store: ObjectStore,
        relay_sweep_seconds: float = 2.0,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.bus = bus
        self.store = store
        self.hub = WatchHub(bus)
        self.relay = OutboxRelay(sessions, bus, sweep_interval=relay_sweep_seconds)
        self.dispatcher = Dispatcher(store)
        self.core = JobsCore(
            sessions,
            store=store,
            dispatcher=self.dispatcher,
            relay=self.relay,
            notifier=self.hub,
            require_verified_email=settings.require_verified_email,
        )
        self.handlers = EventHandlers(
            sessions,
            store=store,
            dispatcher=self.dispatcher,
            relay=self.relay,
            notifier=self.hub,
            retry_budget=settings.retry_budget,
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
        self._tasks: list[asyncio.Task[None]] = []

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
            self._tasks = [
                # The relay's first flush also publishes what a crash left in the outbox.
                asyncio.create_task(self.relay.run(), name="jobs-outbox-relay"),
                asyncio.create_task(self._detector_loop(), name="jobs-stale-detector"),
                asyncio.create_task(self.pruner.run(), name="jobs-pruner"),
            ]

    async def _detector_loop(self) -> None:
        # After a restart, progress that arrived while we were down is still queued in JetStream;
        # give the consumers one threshold to catch up before judging anyone silent.
        await asyncio.sleep(min(self.settings.stale_after_seconds, 300.0))
        await self.detector.run()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        # Together: each stop waits out its consumer's current pull request (about a second).
        results = await asyncio.gather(
            *(sub.stop(grace=5.0) for sub in self._subscriptions), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                log.error("stopping a consumer failed: %r", result)
        self._subscriptions = []
        await self.hub.stop()
