"""Change notification for WatchJob, within one replica and across replicas.

Whoever commits a change to a job (an event handler, an RPC, the detector) calls
`notify(job_id)` after the commit. That wakes this replica's watchers of the job at once and
publishes a core-NATS message on `jobs.changed.<job_id>`; every other replica subscribes to
`jobs.changed.*` and wakes its own watchers. A woken watcher re-reads the row (the database is the
truth, the notification only says "look now") and sends it if it differs from what it sent last.

Core NATS, not JetStream: a notification is only useful to watchers connected right now, and
no stream stores `jobs.changed.*`. A notification lost in a NATS outage is covered by the
watcher's slow safety re-read (`WatchJob`'s `resync_seconds`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterator
from typing import Protocol

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from services.common.bus import EventBus

log = logging.getLogger("swarmcast.jobs.watch")

CHANGED_PREFIX = "jobs.changed"


def changed_subject(job_id: int) -> str:
    return f"{CHANGED_PREFIX}.{int(job_id)}"


class ChangeNotifier(Protocol):
    async def notify(self, job_id: int) -> None: ...


class WatchHub:
    """Registry of this replica's watchers, fed by local commits and by other replicas."""

    def __init__(self, bus: EventBus | None = None) -> None:
        self.bus = bus
        # Identifies our own notifications when NATS echoes them back.
        self.replica_id = uuid.uuid4().hex
        self._watchers: dict[int, set[asyncio.Event]] = {}
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        if self.bus is not None and self._subscription is None:
            self._subscription = await self.bus.nc.subscribe(
                self.bus.subject(f"{CHANGED_PREFIX}.*"), cb=self._on_remote
            )

    async def stop(self) -> None:
        if self._subscription is not None:
            sub, self._subscription = self._subscription, None
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        # Wake everyone so their streams notice the shutdown promptly.
        for events in self._watchers.values():
            for event in events:
                event.set()

    @contextlib.contextmanager
    def watch(self, job_id: int) -> Iterator[asyncio.Event]:
        """An event set whenever the job may have changed; the watcher clears it before re-reading."""
        event = asyncio.Event()
        self._watchers.setdefault(job_id, set()).add(event)
        try:
            yield event
        finally:
            watchers = self._watchers.get(job_id)
            if watchers is not None:
                watchers.discard(event)
                if not watchers:
                    del self._watchers[job_id]

    @property
    def watcher_count(self) -> int:
        return sum(len(v) for v in self._watchers.values())

    def wake(self, job_id: int) -> None:
        for event in self._watchers.get(job_id, ()):
            event.set()

    async def notify(self, job_id: int) -> None:
        self.wake(job_id)
        if self.bus is None or self.bus.nc.is_closed:
            return
        try:
            await self.bus.nc.publish(self.bus.subject(changed_subject(job_id)), self.replica_id.encode())
        except Exception as exc:  # best effort: a missed wake-up is caught by the resync re-read
            log.debug("could not publish change notification for job %s: %s", job_id, exc)

    async def _on_remote(self, msg: Msg) -> None:
        if msg.data.decode(errors="replace") == self.replica_id:
            return  # our own notification: local watchers were woken already
        token = msg.subject.rsplit(".", 1)[-1]
        if token.isdigit():
            self.wake(int(token))
