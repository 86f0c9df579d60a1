"""The transactional outbox, written once for every service (docs/architecture.md §3).

An event that must not be lost is written as a row in the same transaction as the change it
announces (`add`), and `OutboxRelay` publishes it to JetStream after commit. A crash between
commit and publish leaves the row pending; the relay's next flush (at start-up, on a kick, on
its periodic sweep) publishes it. Guarantees:

- at least once, stored once: every row carries its `Nats-Msg-Id`, so a re-publish (a relay that
  died after publishing, two replicas) is a duplicate JetStream drops; `add` itself is idempotent
  on `msg_id` (a retried transaction writes one row);
- one relay per row at a time: each batch is claimed with `FOR UPDATE SKIP LOCKED`, so replicas
  share the work;
- in order of writing: rows are claimed oldest first, in batches of `batch_size`;
- a bus failure costs no hot loop: each publish is retried briefly with backoff, then the row is
  left pending (its `attempts` counted) for the next sweep, and the flush stops there.

A service's outbox table is a model using `OutboxColumns` (the same columns everywhere, see
migration 0007). What differs per service is a relay parameter: `keep_published` (keep published
rows for diagnosis until `prune_published`, or delete them at once), `still_wanted` (an SQL
condition; a row failing it is retired unpublished) and `on_published` (bookkeeping in the same
transaction that marks rows published).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

import nats.errors
import nats.js.errors
from google.protobuf.message import Message
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CursorResult,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    delete,
    func,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from services.common.bus import MSG_ID_HEADER, EventBus
from services.common.periodic import PeriodicTask
from services.common.retry import retry_async
from services.common.subjects import stream_for

log = logging.getLogger("swarmcast.outbox")

_TRANSIENT = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.StaleConnectionError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
    asyncio.TimeoutError,
)


class OutboxColumns:
    """The columns of every outbox table; a model is `class X(OutboxColumns, Base)` with its
    `__tablename__` and `__table_args__ = outbox_table_args(tablename, schema)`."""

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # Logical subject (the bus adds the deployment's prefix).
    subject: Mapped[str] = mapped_column(String(255))
    # Nats-Msg-Id: publishing twice (relay after a crash, or two replicas) stores the message once.
    msg_id: Mapped[str] = mapped_column(String(255), unique=True)
    # The serialised protobuf message.
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # NULL while pending; a relay with `keep_published=False` deletes the row instead of setting it.
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Failed publishes so far (diagnosis: a row stuck pending shows how often it was tried).
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))


def outbox_table_args(table: str, schema: str) -> tuple[Any, ...]:
    """`__table_args__` of an outbox model: its schema and the partial index the relay scans."""
    return (
        Index(f"ix_{table}_unpublished", "id", postgresql_where=text("published_at IS NULL")),
        {"schema": schema},
    )


Model = type[OutboxColumns]


async def add(session: AsyncSession, model: Model, subject: str, message: Message, *, msg_id: str) -> bool:
    """Writes `message` for `subject` into the outbox, inside the caller's transaction.

    True when written; False when a row with this `msg_id` already exists (a retried transaction),
    which is then kept as it is.
    """
    if not msg_id:
        raise ValueError("msg_id is required: it is what makes a re-published message apply once")
    stmt = (
        pg_insert(model)
        .values(subject=subject, msg_id=msg_id, payload=message.SerializeToString())
        .on_conflict_do_nothing(index_elements=[model.msg_id])
        .returning(model.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def prune_published(session: AsyncSession, model: Model, older_than: timedelta) -> int:
    """Deletes rows published more than `older_than` ago; returns how many. Pending rows stay."""
    stmt = delete(model).where(model.published_at.is_not(None), model.published_at < func.now() - older_than)
    return int(cast(CursorResult[Any], await session.execute(stmt)).rowcount or 0)


async def publish_bytes(bus: EventBus, subject: str, payload: bytes, msg_id: str) -> int:
    """Publishes an already-serialised event and returns its JetStream sequence.

    `EventBus.publish` takes a message object and does not return the ack; the outbox stores bytes
    and a caller may need the sequence (jobs records it to ask whether a dispatch is still queued).
    For a duplicate, JetStream answers with the original message's sequence.
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
                await bus.ensure_stream(stream_for(subject))
            raise
        return int(ack.seq)

    return await retry_async(
        once, attempts=3, base_delay=0.2, max_delay=1.0, retry_on=_TRANSIENT, describe=f"publish {subject}"
    )


class Kicker(Protocol):
    """What writers need from the relay: "something was committed to the outbox"."""

    def kick(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Published:
    """A row that went out, with the JetStream sequence it got."""

    id: int
    subject: str
    msg_id: str
    stream_seq: int


OnPublished = Callable[[AsyncSession, Sequence[Published]], Awaitable[None]]


class OutboxRelay:
    """Publishes one outbox table's pending rows: on `flush()`, on a `kick()`, every `sweep_interval`.

    `periodic` is the sweep loop (start and stop it with the service); its first round also
    publishes what a crash left behind.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        model: Model,
        *,
        sweep_interval: float = 2.0,
        batch_size: int = 200,
        keep_published: bool = True,
        still_wanted: ColumnElement[bool] | None = None,
        on_published: OnPublished | None = None,
    ) -> None:
        self.sessions = sessions
        self.bus = bus
        self.model = model
        self.batch_size = batch_size
        self.keep_published = keep_published
        self.still_wanted = still_wanted if still_wanted is not None else true()
        self.on_published = on_published
        self.periodic = PeriodicTask(f"outbox relay ({self._table})", sweep_interval, self.flush)
        self._lock = asyncio.Lock()

    @property
    def _table(self) -> str:
        return str(getattr(self.model, "__table__", self.model.__name__))

    def kick(self) -> None:
        """Something was committed to the outbox: publish it now rather than at the next sweep."""
        self.periodic.wake()

    async def flush(self) -> int:
        """Publishes everything pending now; returns how many messages went out."""
        published = 0
        async with self._lock:
            while True:
                sent, claimed, failed = await self._flush_batch()
                published += sent
                # Failures stay pending for the next sweep rather than being retried hot.
                if claimed < self.batch_size or failed:
                    return published

    async def _flush_batch(self) -> tuple[int, int, int]:
        """(published, claimed, failed) for one batch."""
        m = self.model
        async with self.sessions() as session, session.begin():
            stmt = (
                select(m.id, m.subject, m.msg_id, m.payload, self.still_wanted.label("still_wanted"))
                .where(m.published_at.is_(None))
                .order_by(m.id)
                .limit(self.batch_size)
                .with_for_update(of=m, skip_locked=True)
            )
            batch = (await session.execute(stmt)).all()
            if not batch:
                return 0, 0, 0
            wanted = [row for row in batch if row.still_wanted]
            unwanted = [row for row in batch if not row.still_wanted]
            for row in unwanted:
                log.info("outbox: %s (%s) is no longer wanted; retired unpublished", row.msg_id, row.subject)

            async def send(row: Any) -> int | None:
                try:
                    return await publish_bytes(self.bus, row.subject, row.payload, row.msg_id)
                except Exception as exc:
                    log.warning("outbox: publishing %s (%s) failed: %s", row.msg_id, row.subject, exc)
                    return None

            seqs = await asyncio.gather(*(send(row) for row in wanted))
            published = [
                Published(row.id, row.subject, row.msg_id, seq)
                for row, seq in zip(wanted, seqs, strict=True)
                if seq is not None
            ]
            failed = [row.id for row, seq in zip(wanted, seqs, strict=True) if seq is None]
            # Unwanted rows are done too: they must never go out.
            done = [p.id for p in published] + [row.id for row in unwanted]
            if done and self.keep_published:
                await session.execute(update(m).where(m.id.in_(done)).values(published_at=func.now()))
            elif done:
                await session.execute(delete(m).where(m.id.in_(done)))
            if failed:
                await session.execute(update(m).where(m.id.in_(failed)).values(attempts=m.attempts + 1))
            if published and self.on_published is not None:
                await self.on_published(session, published)
            return len(published), len(batch), len(failed)
