"""Publishes the outbox: kicked after every commit that wrote to it, and swept periodically.

Safe with several replicas: each batch is claimed with `FOR UPDATE SKIP LOCKED`, so a message is
published by one relay at a time, and `Nats-Msg-Id` makes a re-publish after a crash a no-op.
A dispatch whose run is no longer the job's current live run (cancelled, deleted, superseded
before it went out) is marked done without being published.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Protocol

import nats.errors
import nats.js.errors
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.bus import MSG_ID_HEADER, EventBus
from services.common.retry import retry_async
from services.common.subjects import stream_for
from services.jobs import repository as repo

log = logging.getLogger("swarmcast.jobs.outbox")

# Published rows are kept a while for diagnosis, then pruned.
KEEP_PUBLISHED = timedelta(days=1)
_TRANSIENT = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.StaleConnectionError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
    asyncio.TimeoutError,
)


async def publish_bytes(bus: EventBus, subject: str, payload: bytes, msg_id: str) -> int:
    """Publishes an already-serialised event and returns its JetStream sequence.

    `EventBus.publish` takes a message object and does not return the ack; the outbox stores
    bytes and needs the sequence (the stale-job detector uses it to see whether a dispatch is
    still queued). For a duplicate, JetStream answers with the original message's sequence.
    """
    wire = bus.subject(subject)

    async def once() -> int:
        try:
            ack = await bus.js.publish(
                wire, payload, timeout=bus.PUBLISH_TIMEOUT, headers={MSG_ID_HEADER: msg_id}
            )
        except nats.js.errors.NoStreamResponseError:
            # A fresh server without our streams: create them, then retry.
            with contextlib.suppress(Exception):
                await bus._ensure_stream(stream_for(subject))
            raise
        return int(ack.seq)

    return await retry_async(
        once, attempts=3, base_delay=0.2, max_delay=1.0, retry_on=_TRANSIENT, describe=f"publish {subject}"
    )


class Kicker(Protocol):
    """What writers need from the relay: "something was committed to the outbox"."""

    def kick(self) -> None: ...


class OutboxRelay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        *,
        sweep_interval: float = 2.0,
        batch_size: int = 200,
    ) -> None:
        self.sessions = sessions
        self.bus = bus
        self.sweep_interval = sweep_interval
        self.batch_size = batch_size
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    def kick(self) -> None:
        """Something was committed to the outbox: publish it now rather than at the next sweep."""
        self._wake.set()

    async def run(self) -> None:
        """Forever: flush on every kick and every `sweep_interval` (this also covers start-up)."""
        while True:
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox flush failed; retrying at the next sweep")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.sweep_interval)
            self._wake.clear()

    async def flush(self) -> int:
        """Publishes everything unpublished now; returns how many messages went out."""
        published = 0
        async with self._lock:
            while True:
                sent, claimed, failed = await self._flush_batch()
                published += sent
                # Failures stay unpublished for the next sweep rather than being retried hot.
                if claimed < self.batch_size or failed:
                    return published

    async def _flush_batch(self) -> tuple[int, int, int]:
        """(published, claimed, failed) for one batch."""
        async with self.sessions() as session, session.begin():
            batch = await repo.claim_unpublished(session, limit=self.batch_size, min_age=timedelta(0))
            if not batch:
                return 0, 0, 0

            async def send(item: repo.Unpublished) -> int | None:
                try:
                    return await publish_bytes(self.bus, item.subject, item.payload, item.msg_id)
                except Exception as exc:
                    log.warning("outbox: publishing %s (%s) failed: %s", item.msg_id, item.subject, exc)
                    return None

            wanted = [item for item in batch if item.still_wanted]
            results = await asyncio.gather(*(send(item) for item in wanted))
            published = [item for item, seq in zip(wanted, results, strict=True) if seq is not None]
            failed = [item.id for item, seq in zip(wanted, results, strict=True) if seq is None]
            unwanted = [item for item in batch if not item.still_wanted]
            for item in unwanted:
                log.info("outbox: dispatch %s is no longer wanted (run superseded or job over)", item.msg_id)
            # Unwanted rows are marked done too: they must never go out.
            await repo.mark_published(session, [item.id for item in published + unwanted])
            await repo.mark_attempt_failed(session, failed)
            await repo.record_stream_seqs(
                session,
                {item.run_id: seq for item, seq in zip(wanted, results, strict=True) if item.run_id and seq},
            )
            return len(published), len(batch), len(failed)
