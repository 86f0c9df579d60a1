"""The event bus: the one way services use NATS JetStream (docs/architecture.md §3).

- Subjects and stream names are namespaced by ``settings.nats_prefix`` (``t3f9a.runner.progress.7``,
  stream ``t3f9a_RUNNER``). Callers pass and receive *logical* subjects (``runner.progress.7``).
- ``publish`` sends a protobuf message with a mandatory ``Nats-Msg-Id``; the stream's duplicate
  window stores a retried or repeated publish once.
- ``subscribe`` runs a durable pull consumer. A message is acked only after the handler returns;
  a handler that raises gets the message redelivered after a backoff delay, up to
  ``max_deliver`` attempts, then it is terminated and logged. Undecodable messages are terminated
  at once. Several processes using the same durable name are competing consumers.
- The connection reconnects forever, so a service survives a NATS restart.
- Streams are created with ``settings.nats_stream_replicas`` replicas (3 on a JetStream cluster);
  ``settings.nats_url`` may list several servers, comma-separated.
- A service connects as its own NATS user (``settings.nats_user``/``nats_password`` or
  ``nats_creds_file``) with replies on the private inbox prefix ``_INBOX_<user>``; a known user
  (``nats_auth.ROLES``) ensures only the streams its permissions cover and updates only those it owns.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import unquote, urlsplit

import nats
import nats.errors
import nats.js.errors
from google.protobuf.message import Message
from nats.aio.client import Client as NATSClient
from nats.aio.client import Server as NATSServer
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    ConsumerInfo,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from services.common.config import Settings, get_settings
from services.common.nats_auth import ROLES, Role, inbox_prefix
from services.common.retry import backoff_delay, retry_async
from services.common.subjects import STREAMS, Retention, StreamDef, stream_for

log = logging.getLogger("swarmcast.bus")

M = TypeVar("M", bound=Message)

MSG_ID_HEADER = "Nats-Msg-Id"
DEFAULT_BACKOFF: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)

_PREFIX_RE = re.compile(r"^[A-Za-z0-9_-]*$")
_DURABLE_RE = re.compile(r"^[A-Za-z0-9_-]+$")
# JetStream error code: "stream name already in use with a different configuration".
_ERR_STREAM_NAME_IN_USE = 10058

# Failures worth retrying on publish: the server is restarting, we are reconnecting, or
# JetStream is momentarily unavailable. Anything else (bad subject, closed bus) is a bug.
_TRANSIENT_PUBLISH_ERRORS: tuple[type[BaseException], ...] = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.StaleConnectionError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
    asyncio.TimeoutError,
)


@dataclass(frozen=True)
class EventMeta:
    """What a handler knows about the delivery besides the decoded message."""

    #: The logical subject (without the bus prefix), e.g. ``runner.progress.42``.
    subject: str
    #: The publisher's ``Nats-Msg-Id``.
    msg_id: str | None
    #: 1 on the first delivery, 2 on the first redelivery, ...
    num_delivered: int
    #: The message's sequence number in its stream.
    stream_seq: int
    #: When the message was stored in the stream (UTC).
    timestamp: datetime
    _msg: Msg = field(repr=False, compare=False)

    async def working(self) -> None:
        """Tell JetStream the handler is still busy (+WPI), resetting the ack-wait timer.

        Long handlers (a runner's job) call this more often than ``ack_wait``. Best effort: a
        failure is logged, never raised, since the handler's own work matters more.
        """
        try:
            await self._msg.in_progress()
        except Exception as exc:  # a heartbeat must never break the handler
            log.warning("in-progress heartbeat failed for %s: %s", self.subject, exc)


Handler = Callable[[M, EventMeta], Awaitable[None]]


class SharedSlots:
    """A budget of concurrent handlers shared by several subscriptions.

    A GPU runner consumes one work queue per tier yet must run at most N jobs in all: its tier
    subscriptions share one ``SharedSlots(N)``. A subscription fetches only while it holds a slot,
    so it never takes a message it cannot start (which would then sit out ``ack_wait``). Slots are
    handed out first come, first served, so one busy queue cannot starve the others.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("size must be >= 1")
        self.size = size
        self.used = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self, within: float) -> bool:
        """Take a slot, waiting up to ``within`` seconds; False if none came free."""
        if self.used < self.size and not self._waiters:
            self.used += 1
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            # asyncio.timeout rather than wait_for, which can swallow a cancel racing the hand-over.
            async with asyncio.timeout(within):
                await waiter
        except TimeoutError:
            pass
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.give()  # handed over just as we were cancelled: pass it on
            raise
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
        if waiter.done() and not waiter.cancelled():
            return True
        waiter.cancel()
        return False

    @property
    def contended(self) -> bool:
        """Another subscription is waiting for a slot."""
        return bool(self._waiters)

    def give(self) -> None:
        """Return a slot: straight to the longest waiter, if any."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.used = max(0, self.used - 1)


class Subscription(Generic[M]):
    """A running durable pull consumer; created by ``EventBus.subscribe``."""

    # Seconds one pull request waits for a message; also bounds how long ``stop`` waits for the
    # fetch loop, so no pull request is left open on the server after we unsubscribe.
    FETCH_TIMEOUT = 1.0
    # Pull-request wait while other subscriptions queue for the same SharedSlots.
    CONTENDED_FETCH_TIMEOUT = 0.2
    ACK_TIMEOUT = 5.0

    def __init__(
        self,
        bus: EventBus,
        *,
        subject: str,
        message_type: type[M],
        handler: Handler[M],
        durable: str,
        max_deliver: int,
        backoff: Sequence[float],
        ack_wait: float,
        concurrency: int,
        deliver_new_only: bool,
        inactive_threshold: float | None,
        slots: SharedSlots | None = None,
    ) -> None:
        self._bus = bus
        self.subject = subject
        self.durable = durable
        self._stream_def = stream_for(subject)
        self.stream = bus.stream_name(self._stream_def.name)
        self._message_type = message_type
        self._handler = handler
        self._max_deliver = max_deliver
        self._backoff = tuple(backoff)
        self._ack_wait = ack_wait
        self._concurrency = concurrency
        self._deliver_new_only = deliver_new_only
        self._inactive_threshold = inactive_threshold
        self._slots = slots
        self._psub: JetStreamContext.PullSubscription | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._stopped = False
        # Set after a reconnect: the server may have lost the consumer (e.g. memory storage).
        self._recheck = False

    # --- lifecycle
    async def _start(self) -> None:
        await self._ensure_consumer()
        self._psub = await self._bus.js.pull_subscribe_bind(durable=self.durable, stream=self.stream)
        self._loop_task = asyncio.create_task(self._run(), name=f"bus-sub-{self.stream}-{self.durable}")

    async def stop(self, grace: float | None = None) -> None:
        """Stop fetching, then wait for in-flight handlers (acking what they finish).

        With ``grace``, handlers still running after that many seconds are cancelled and their
        messages nak'ed for prompt redelivery; ``None`` waits for them. Idempotent.
        """
        if self._stopped:
            return
        self._stopped = True
        self._stopping = True
        if self._loop_task is not None:
            # Let the current pull request expire rather than cancelling it mid-flight, so no
            # message is delivered into an inbox nobody reads (it would wait out ack_wait).
            done, _ = await asyncio.wait({self._loop_task}, timeout=self.FETCH_TIMEOUT + 2.0)
            if not done:
                self._loop_task.cancel()
                await asyncio.gather(self._loop_task, return_exceptions=True)
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        await self._release_unclaimed()
        if self._psub is not None:
            try:
                await self._psub.unsubscribe()
            except Exception as exc:
                log.debug("unsubscribe of %s failed: %s", self.durable, exc)
        self._bus._forget(self)

    async def info(self) -> ConsumerInfo:
        """The server's ``ConsumerInfo`` for this consumer (pending, ack-pending, redelivered)."""
        return await self._bus.js.consumer_info(self.stream, self.durable)

    @property
    def in_flight(self) -> int:
        """Handlers running now."""
        return len(self._tasks)

    # --- consumer setup
    def _consumer_config(self) -> ConsumerConfig:
        return ConsumerConfig(
            name=self.durable,
            durable_name=self.durable,
            description=f"{self.subject} ({self._message_type.DESCRIPTOR.full_name})",
            filter_subject=self._bus.subject(self.subject),
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self._ack_wait,
            # The server stops redelivering after max_deliver too (e.g. a handler that keeps
            # crashing its process), matching the term() we send after the last failed attempt.
            max_deliver=self._max_deliver,
            deliver_policy=DeliverPolicy.NEW if self._deliver_new_only else DeliverPolicy.ALL,
            inactive_threshold=self._inactive_threshold,
        )

    async def _ensure_consumer(self) -> None:
        """Create the durable consumer, or update an existing one to this configuration."""
        jsm = self._bus.js
        config = self._consumer_config()
        try:
            existing = await jsm.consumer_info(self.stream, self.durable)
        except nats.js.errors.NotFoundError:
            existing = None
        if existing is not None:
            # The start position cannot change once a consumer exists; keep the server's.
            config.deliver_policy = existing.config.deliver_policy
            config.opt_start_seq = existing.config.opt_start_seq
            config.opt_start_time = existing.config.opt_start_time
            if existing.config.filter_subject != config.filter_subject:
                raise RuntimeError(
                    f"durable consumer {self.durable!r} on stream {self.stream!r} already filters "
                    f"{existing.config.filter_subject!r}, not {config.filter_subject!r}; "
                    "use another durable name"
                )
        try:
            await jsm.add_consumer(self.stream, config=config)
        except nats.js.errors.NotFoundError:
            # The stream is missing (fresh server, or it lost its state): create it, then retry.
            await self._bus._ensure_stream(self._stream_def)
            await jsm.add_consumer(self.stream, config=config)

    # --- the fetch loop
    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            if len(self._tasks) >= self._concurrency:
                # Bounded, so that stop() is noticed while a long handler runs.
                await asyncio.wait(
                    set(self._tasks), timeout=self.FETCH_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
                )
                continue
            slots = self._slots
            if slots is not None and not await slots.acquire(self.FETCH_TIMEOUT):
                continue
            msgs: list[Msg] = []
            try:
                if self._recheck:
                    await self._ensure_consumer()
                    self._recheck = False
                assert self._psub is not None
                # batch=1: a larger batch makes nats-py wait for the batch to fill before it
                # returns the first message; one-at-a-time keeps latency at one round trip.
                # A slot holder with others waiting polls briefly, so the slot rotates quickly.
                wait = self.CONTENDED_FETCH_TIMEOUT if slots is not None and slots.contended else None
                msgs = await self._psub.fetch(batch=1, timeout=wait or self.FETCH_TIMEOUT)
                failures = 0
            except nats.errors.TimeoutError:
                failures = 0
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                self._recheck = True
                delay = backoff_delay(failures, base_delay=0.5, max_delay=10.0)
                log.warning(
                    "fetch from %s/%s failed (%s: %s), retrying in %.1fs",
                    self.stream,
                    self.durable,
                    type(exc).__name__,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            finally:
                if slots is not None and not msgs:
                    slots.give()  # nothing fetched: the slot was not used
            for msg in msgs:
                task = asyncio.create_task(self._handle(msg))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                if slots is not None:
                    task.add_done_callback(functools.partial(_give_slot, slots))

    async def _release_unclaimed(self) -> None:
        """Nak messages that reached our inbox after the last fetch returned, for prompt redelivery."""
        if self._psub is None:
            return
        queue = self._psub._sub._pending_queue  # nats-py keeps early arrivals here
        while not queue.empty():
            msg = queue.get_nowait()
            if msg.headers and msg.headers.get("Status"):
                continue  # a status message (no messages / timeout), not a delivery
            await _settle(msg.nak, "nak", msg)

    async def _handle(self, msg: Msg) -> None:
        try:
            await self._process(msg)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not vanish as an unretrieved task exception
            log.exception("internal error handling a message on %s", msg.subject)

    async def _process(self, msg: Msg) -> None:
        subject = self._bus.logical_subject(msg.subject)
        msg_id = msg.headers.get(MSG_ID_HEADER) if msg.headers else None
        md = msg.metadata
        context = {
            "subject": subject,
            "msg_id": msg_id,
            "durable": self.durable,
            "attempt": md.num_delivered,
            "stream_seq": md.sequence.stream,
        }
        try:
            event = self._message_type.FromString(msg.data)
        except Exception as exc:
            log.error(
                "poison message on %s (cannot decode as %s: %s); terminated",
                subject,
                self._message_type.DESCRIPTOR.full_name,
                exc,
                extra=context,
            )
            await _settle(msg.term, "term", msg)
            return
        meta = EventMeta(
            subject=subject,
            msg_id=msg_id,
            num_delivered=md.num_delivered,
            stream_seq=md.sequence.stream,
            timestamp=md.timestamp,
            _msg=msg,
        )
        try:
            await self._handler(event, meta)
        except asyncio.CancelledError:
            # Shutting down mid-handler: hand the message back now rather than after ack_wait.
            await _settle(msg.nak, "nak", msg)
            raise
        except Exception:
            if md.num_delivered >= self._max_deliver:
                log.error(
                    "handler for %s failed on attempt %d of %d; giving up and terminating the message",
                    subject,
                    md.num_delivered,
                    self._max_deliver,
                    exc_info=True,
                    extra=context,
                )
                await _settle(msg.term, "term", msg)
            else:
                delay = self._backoff[min(md.num_delivered, len(self._backoff)) - 1] if self._backoff else 0
                log.warning(
                    "handler for %s failed on attempt %d of %d; redelivery in %.1fs",
                    subject,
                    md.num_delivered,
                    self._max_deliver,
                    delay,
                    exc_info=True,
                    extra=context,
                )
                await _settle(lambda: msg.nak(delay=delay), "nak", msg)
            return
        # Double ack: wait until JetStream has recorded it, so a stop() or close() right after the
        # handler cannot lose the ack and cause a needless redelivery.
        await _settle(lambda: msg.ack_sync(timeout=self.ACK_TIMEOUT), "ack", msg)


def _url_user(servers: Sequence[str]) -> str:
    """The user named in the first server URL that names one (``nats://user:pass@host``), or ""."""
    for server in servers:
        with contextlib.suppress(ValueError):
            if user := urlsplit(server).username:
                return unquote(user)
    return ""


def _redacted(servers: Sequence[str]) -> str:
    """The server list for logs: no password of a ``user:pass@`` URL."""
    out = []
    for server in servers:
        try:
            parts = urlsplit(server)
        except ValueError:
            out.append("<invalid url>")
            continue
        if parts.password is not None:
            server = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()
        out.append(server)
    return ",".join(out)


def _reconnect_policy(servers: list[NATSServer], _info: dict[str, Any]) -> tuple[NATSServer, float]:
    """Reconnect with exponential backoff: fast after a blip, at most every ~5 s in a long outage."""
    best = min(servers, key=lambda s: s.reconnects)
    return best, backoff_delay(best.reconnects + 1, base_delay=0.25, max_delay=5.0)


async def _settle(op: Callable[[], Awaitable[object]], what: str, msg: Msg) -> None:
    """Ack/nak/term, tolerating a lost connection: JetStream redelivers after ack_wait anyway."""
    try:
        await op()
    except nats.errors.MsgAlreadyAckdError:
        pass
    except Exception as exc:
        log.warning("could not %s message %s: %s (it will be redelivered)", what, msg.subject, exc)


# Deliveries of one message before the consumer gives up on it (redelivery is on ack timeout/nak).
DEFAULT_MAX_DELIVER = 10


def _give_slot(slots: SharedSlots, _task: asyncio.Task[Any]) -> None:
    slots.give()


class EventBus:
    """A NATS connection plus JetStream, namespaced by a prefix. Create with ``EventBus.connect``."""

    PUBLISH_ATTEMPTS = 10
    PUBLISH_TIMEOUT = 5.0

    def __init__(
        self, nc: NATSClient, *, prefix: str, name: str, stream_replicas: int = 1, role: Role | None = None
    ) -> None:
        if not _PREFIX_RE.match(prefix):
            raise ValueError(f"nats_prefix may hold only letters, digits, '_' and '-': {prefix!r}")
        if not 1 <= stream_replicas <= 5:
            raise ValueError(f"stream_replicas must be 1..5 (JetStream's limit), not {stream_replicas}")
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream(timeout=self.PUBLISH_TIMEOUT)
        self.prefix = prefix
        self.name = name
        # num_replicas of the streams this bus creates or updates.
        self.stream_replicas = stream_replicas
        # The NATS permissions this connection has (None: unrestricted, e.g. an open server).
        self.role = role
        self._subscriptions: list[Subscription[Any]] = []
        self._closing = False

    @classmethod
    async def connect(
        cls,
        settings: Settings | None = None,
        *,
        name: str,
        connect_attempts: int | None = 30,
    ) -> EventBus:
        """Connect to ``settings.nats_url`` (default: ``get_settings()``).

        The first connection is tried ``connect_attempts`` times with backoff (``None``: forever),
        so a service may start before NATS. Once connected, the client reconnects forever with
        exponential backoff; subscriptions resume and re-create their consumer if it was lost.
        """
        settings = settings or get_settings()
        bus_ref: list[EventBus] = []

        async def error_cb(exc: Exception) -> None:
            log.warning("NATS connection error (%s): %s: %s", name, type(exc).__name__, exc)

        async def disconnected_cb() -> None:
            if not any(bus._closing for bus in bus_ref):
                log.warning("NATS disconnected (%s); reconnecting", name)

        async def reconnected_cb() -> None:
            log.info("NATS reconnected (%s)", name)
            for bus in bus_ref:
                bus._on_reconnect()

        servers = [url.strip() for url in settings.nats_url.split(",") if url.strip()]
        user = settings.nats_user or _url_user(servers)
        auth: dict[str, Any] = {}
        if settings.nats_user:
            auth["user"] = settings.nats_user
            auth["password"] = settings.nats_password.get_secret_value() if settings.nats_password else ""
        if settings.nats_creds_file is not None:
            auth["user_credentials"] = str(settings.nats_creds_file)
        if user:
            auth["inbox_prefix"] = inbox_prefix(user)

        async def attempt() -> NATSClient:
            return await nats.connect(
                servers=servers,
                name=name,
                **auth,
                allow_reconnect=True,
                # Bounded for the first connection (our retry loop backs off); lifted below.
                max_reconnect_attempts=1,
                reconnect_time_wait=1,
                connect_timeout=3,
                ping_interval=20,
                max_outstanding_pings=3,
                error_cb=error_cb,
                disconnected_cb=disconnected_cb,
                reconnected_cb=reconnected_cb,
                reconnect_to_server_handler=_reconnect_policy,
            )

        nc = await retry_async(
            attempt,
            attempts=connect_attempts,
            base_delay=0.5,
            max_delay=5.0,
            retry_on=(OSError, asyncio.TimeoutError, nats.errors.Error),
            describe=f"NATS connect to {_redacted(servers)}",
        )
        # nats-py reads this option at every reconnect: from now on, never give up.
        nc.options["max_reconnect_attempts"] = -1
        bus = cls(
            nc,
            prefix=settings.nats_prefix,
            name=name,
            stream_replicas=settings.nats_stream_replicas,
            role=ROLES.get(user),
        )
        bus_ref.append(bus)
        return bus

    async def __aenter__(self) -> EventBus:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- naming
    def subject(self, logical: str) -> str:
        """The wire subject for a logical subject (prefix prepended)."""
        return f"{self.prefix}.{logical}" if self.prefix else logical

    def logical_subject(self, wire: str) -> str:
        """The logical subject for a wire subject (prefix removed)."""
        if self.prefix and wire.startswith(self.prefix + "."):
            return wire[len(self.prefix) + 1 :]
        return wire

    def stream_name(self, logical_name: str) -> str:
        """The server-side stream name, e.g. ``t3f9a_RUNNER``."""
        return f"{self.prefix}_{logical_name}" if self.prefix else logical_name

    # --- streams
    async def ensure_streams(self) -> None:
        """Create every stream of ``subjects.STREAMS`` or update it to the current definition.

        Idempotent and safe to run from several processes at once. A bus with a role ensures only
        the streams its permissions cover.
        """
        for stream in self.role.touches() if self.role is not None else STREAMS:
            await retry_async(
                functools.partial(self._ensure_stream, stream),
                attempts=5,
                base_delay=0.2,
                max_delay=2.0,
                retry_on=_TRANSIENT_PUBLISH_ERRORS,
                describe=f"ensure stream {stream.name}",
            )

    def _stream_config(self, stream: StreamDef) -> StreamConfig:
        return StreamConfig(
            name=self.stream_name(stream.name),
            description=stream.description,
            subjects=[self.subject(s) for s in stream.subjects],
            retention=(
                RetentionPolicy.WORK_QUEUE
                if stream.retention is Retention.WORK_QUEUE
                else RetentionPolicy.LIMITS
            ),
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=stream.max_age.total_seconds(),
            duplicate_window=stream.duplicate_window.total_seconds(),
            # Raising it later (1 -> 3) is applied by update_stream below; JetStream re-replicates.
            num_replicas=self.stream_replicas,
        )

    async def ensure_stream(self, stream: StreamDef) -> None:
        """Create one stream of ``subjects.STREAMS`` (prefixed), or update it to its definition."""
        await self._ensure_stream(stream)

    async def _ensure_stream(self, stream: StreamDef) -> None:
        config = self._stream_config(stream)
        try:
            await self.js.add_stream(config)
        except nats.js.errors.BadRequestError as exc:
            if exc.err_code != _ERR_STREAM_NAME_IN_USE:
                raise
            if self.role is not None and stream not in self.role.owns:
                # Its owner keeps it at the definition; we may not (and need not) update it.
                log.debug("stream %s differs from its definition; left to its owner", stream.name)
                return
            await self.js.update_stream(config)

    async def delete_streams(self) -> None:
        """Stop this bus's subscriptions and delete this prefix's streams (tests, teardown).

        Refuses on an empty prefix, so it can never delete a production stack's streams.
        """
        if not self.prefix:
            raise RuntimeError("refusing to delete the streams of an unprefixed (production) bus")
        await self.stop_subscriptions()
        for stream in STREAMS:
            try:
                await self.js.delete_stream(self.stream_name(stream.name))
            except nats.js.errors.NotFoundError:
                pass

    # --- publish
    async def publish(self, subject: str, message: Message, *, msg_id: str) -> None:
        """Publish ``message`` on the logical ``subject`` with ``Nats-Msg-Id: msg_id``.

        Waits for JetStream's ack; a duplicate inside the stream's window is accepted silently
        (stored once). Transient failures (timeouts, reconnects, a missing stream, which is
        re-created) are retried with backoff; the last error propagates.
        """
        if not msg_id:
            raise ValueError("msg_id is required: it is what makes a retried publish apply once")
        stream = stream_for(subject)
        wire = self.subject(subject)
        data = message.SerializeToString()

        async def once() -> None:
            try:
                ack = await self.js.publish(
                    wire, data, timeout=self.PUBLISH_TIMEOUT, headers={MSG_ID_HEADER: msg_id}
                )
            except nats.js.errors.NoStreamResponseError:
                # No stream listens on this subject (fresh server): create it before retrying.
                await self._try_ensure_stream(stream)
                raise
            if ack.duplicate:
                log.debug("duplicate publish on %s ignored (msg_id %s)", subject, msg_id)

        await retry_async(
            once,
            attempts=self.PUBLISH_ATTEMPTS,
            base_delay=0.25,
            max_delay=5.0,
            retry_on=_TRANSIENT_PUBLISH_ERRORS,
            describe=f"publish {subject}",
        )

    async def _try_ensure_stream(self, stream: StreamDef) -> None:
        try:
            await self._ensure_stream(stream)
        except Exception as exc:
            log.debug("could not ensure stream %s: %s", stream.name, exc)

    # --- subscribe
    async def subscribe(
        self,
        subject: str,
        message_type: type[M],
        handler: Handler[M],
        *,
        durable: str,
        max_deliver: int = DEFAULT_MAX_DELIVER,
        backoff: Sequence[float] | None = None,
        ack_wait: float = 30,
        concurrency: int = 1,
        deliver_new_only: bool = False,
        inactive_threshold: float | None = None,
        slots: SharedSlots | None = None,
    ) -> Subscription[M]:
        """Consume the logical ``subject`` (wildcards allowed) through the durable consumer ``durable``.

        ``handler(msg, meta)`` gets the decoded ``message_type``; the message is acked when it
        returns. If it raises, the message is nak'ed with delay ``backoff[attempt-1]`` (the last
        entry repeats; default ``DEFAULT_BACKOFF``) and redelivered; after ``max_deliver``
        attempts it is terminated and logged. Up to ``concurrency`` handlers run at once in this
        process. A handler must finish (or call ``meta.working()``) within ``ack_wait`` seconds,
        or JetStream redelivers the message to another consumer.

        Processes subscribing with the same ``durable`` share the consumer: each message goes to
        one of them. On the work-queue stream (``jobs.dispatch.*``) consumers of different durable
        names must not overlap in subjects. ``deliver_new_only`` starts a *new* consumer at new
        messages (not allowed on the work queue); an existing consumer keeps its position.
        ``inactive_threshold`` (seconds) lets the server delete the consumer once nobody has
        fetched from it for that long: for per-instance durables (e.g. each runner's cancel
        listener) that would otherwise pile up across restarts. ``slots`` caps the handlers of
        several subscriptions together (see ``SharedSlots``); with batch-1 fetches each message
        holds one slot until its handler returns.
        """
        if not _DURABLE_RE.match(durable):
            raise ValueError(f"durable name may hold only letters, digits, '_' and '-': {durable!r}")
        if max_deliver < 1:
            raise ValueError("max_deliver must be >= 1")
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        if deliver_new_only and stream_for(subject).retention is Retention.WORK_QUEUE:
            raise ValueError("deliver_new_only is not allowed on the work-queue stream")
        sub = Subscription(
            self,
            subject=subject,
            message_type=message_type,
            handler=handler,
            durable=durable,
            max_deliver=max_deliver,
            backoff=DEFAULT_BACKOFF if backoff is None else backoff,
            ack_wait=ack_wait,
            concurrency=concurrency,
            deliver_new_only=deliver_new_only,
            inactive_threshold=inactive_threshold,
            slots=slots,
        )
        await sub._start()
        self._subscriptions.append(sub)
        return sub

    def _forget(self, sub: Subscription[Any]) -> None:
        if sub in self._subscriptions:
            self._subscriptions.remove(sub)

    def _on_reconnect(self) -> None:
        for sub in self._subscriptions:
            sub._recheck = True

    # --- shutdown
    async def stop_subscriptions(self, grace: float | None = None) -> None:
        """Stop every subscription of this bus, waiting for in-flight handlers (see ``Subscription.stop``)."""
        await asyncio.gather(*(sub.stop(grace) for sub in list(self._subscriptions)))

    async def close(self, grace: float | None = None) -> None:
        """Stop subscriptions (waiting up to ``grace`` seconds for handlers), flush and close. Idempotent."""
        await self.stop_subscriptions(grace)
        if self.nc.is_closed:
            return
        self._closing = True
        try:
            await self.nc.drain()
        except Exception as exc:
            log.debug("NATS drain failed (%s); closing", exc)
            await self.nc.close()

    async def drain(self, grace: float | None = None) -> None:
        """Alias of ``close``: finish in-flight work, flush pending publishes, disconnect."""
        await self.close(grace)
