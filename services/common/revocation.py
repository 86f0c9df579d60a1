"""Access-token revocation reaching every service (docs/security.md, "Revocation and deletion").

Services verify access tokens locally (`identity.py`), so a token auth has given up on would stay
good until it expires. Auth therefore publishes a per-user *token cutoff* through its outbox on
every password change, password reset, logout and account deletion: subject
``auth.token_cutoff.<user_id>`` (stream AUTH, kept a day: longer than any access token lives),
message `TokenCutoff` (user id, `not_before_ms` unix milliseconds, `deleted`). Only the last
message of a subject counts.

`RevocationList` is the one mechanism every token-verifying service runs (`ServiceRuntime` starts
it and wraps its signing-key cache in `RevocationCheckedKeys`): an ordered JetStream consumer that
delivers the last cutoff of every user, then each new one, into an in-memory map. A token whose
issue time (`iat_ms`, in milliseconds: a sign-out refuses a token minted earlier in the same
second) is before its user's cutoff, or any token of a deleted user, is UNAUTHENTICATED.

Fail-safe: the list answers only while it knows it is current. Until the initial replay has been
applied (the bus was down at start-up, say), and once the NATS connection has been down longer
than `max_staleness` seconds, every token check is refused with UNAVAILABLE ("cannot verify the
access token now"): a client retries; nobody is let in on a possibly revoked token. A short NATS
blip does not lock users out: the consumer resumes where it stopped after the reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy
from swarmcast.events.v1 import events_pb2

from services.common import subjects
from services.common.bus import EventBus
from services.common.identity import Identity, InvalidToken, KeysUnavailable, TokenAuthenticator

log = logging.getLogger("swarmcast.revocation")

# How long the NATS connection may be down before cutoffs are considered possibly missed.
DEFAULT_MAX_STALENESS_SECONDS = 60.0
# How long start() waits for the initial replay before serving (it goes on in the background).
INITIAL_SYNC_WAIT_SECONDS = 10.0
_WATCH_INTERVAL_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Cutoff:
    """One user's cutoff: tokens issued (ms) before `not_before_ms` are refused; `deleted`: all are."""

    not_before_ms: int
    deleted: bool = False


class RevocationList:
    """user id → Cutoff, kept current from ``auth.token_cutoff.*`` (see the module docstring)."""

    def __init__(self, *, max_staleness: float = DEFAULT_MAX_STALENESS_SECONDS) -> None:
        self.max_staleness = max_staleness
        self._cutoffs: dict[str, Cutoff] = {}
        self._synced = asyncio.Event()
        self._bus: EventBus | None = None
        self._sub: Any = None
        self._watch: asyncio.Task[None] | None = None
        self._down_since: float | None = None

    # --- the map ------------------------------------------------------------------------------------
    def apply(self, event: events_pb2.TokenCutoff) -> None:
        """Records a cutoff; a cutoff never moves back, and a deletion is final."""
        user_id = event.user_id.strip()
        if not user_id:
            return
        old = self._cutoffs.get(user_id)
        new = Cutoff(event.not_before_ms or event.not_before * 1000, bool(event.deleted))
        if old is not None:
            new = Cutoff(max(old.not_before_ms, new.not_before_ms), old.deleted or new.deleted)
        self._cutoffs[user_id] = new

    def mark_deleted(self, user_id: str) -> None:
        """Records a deleted user learnt another way (jobs' `auth.user.deleted` consumer)."""
        if user_id:
            old = self._cutoffs.get(user_id)
            self._cutoffs[user_id] = Cutoff(old.not_before_ms if old else 0, True)

    def is_deleted(self, user_id: str) -> bool:
        cutoff = self._cutoffs.get(user_id)
        return cutoff is not None and cutoff.deleted

    def cutoff(self, user_id: str) -> Cutoff | None:
        return self._cutoffs.get(user_id)

    # --- the check ----------------------------------------------------------------------------------
    @property
    def current(self) -> bool:
        """True while the map can be trusted: replayed, and the bus not down for too long."""
        if not self._synced.is_set():
            return False
        if self._bus is not None:
            self._note_connection()
        return self._down_since is None or time.monotonic() - self._down_since <= self.max_staleness

    def check(self, identity: Identity) -> None:
        """Raises InvalidToken for a revoked token, KeysUnavailable when the list is not current."""
        if not self.current:
            raise KeysUnavailable("the token revocation list is not up to date")
        cutoff = self._cutoffs.get(identity.user_id)
        if cutoff is None:
            return
        if cutoff.deleted:
            raise InvalidToken("token revoked: the account was deleted")
        if identity.issued_at_ms < cutoff.not_before_ms:
            raise InvalidToken("token revoked: signed out or password changed")

    # --- the watcher --------------------------------------------------------------------------------
    async def start(self, bus: EventBus, *, wait: float = INITIAL_SYNC_WAIT_SECONDS) -> None:
        """Starts the consumer and waits (bounded) for the initial replay; never raises for a slow
        bus: the list then stays not-current (tokens answered UNAVAILABLE) until it catches up."""
        self._bus = bus
        self._watch = asyncio.create_task(self._keep_subscribed(), name="revocation-watch")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._synced.wait()
        if not self._synced.is_set():
            log.warning("token revocation list not loaded yet: tokens are refused until it is")

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
            self._watch = None
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    def _note_connection(self) -> None:
        assert self._bus is not None
        if self._bus.nc.is_connected:
            self._down_since = None
        elif self._down_since is None:
            self._down_since = time.monotonic()

    async def _keep_subscribed(self) -> None:
        """Subscribes (retrying while the bus is unreachable), then watches the connection."""
        assert self._bus is not None
        bus = self._bus
        delay = 0.5
        while self._sub is None:
            try:
                await self._subscribe(bus)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("token revocation consumer not started (%s); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        while True:
            self._note_connection()
            await asyncio.sleep(_WATCH_INTERVAL_SECONDS)

    async def _subscribe(self, bus: EventBus) -> None:
        stream = subjects.stream_for(subjects.TOKEN_CUTOFF_ALL)
        with contextlib.suppress(Exception):
            await bus.ensure_stream(stream)
        # Ordered consumer: in order, no acks, re-created by the client after a gap or reconnect.
        # LAST_PER_SUBJECT: one message per user for the replay, then every new cutoff.
        self._sub = await bus.js.subscribe(
            bus.subject(subjects.TOKEN_CUTOFF_ALL),
            stream=bus.stream_name(stream.name),
            cb=self._on_message,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.LAST_PER_SUBJECT,
        )
        info = await self._sub.consumer_info()
        if info.num_pending == 0 and (info.delivered is None or not info.delivered.consumer_seq):
            self._mark_synced()

    async def _on_message(self, msg: Msg) -> None:
        try:
            event = events_pb2.TokenCutoff.FromString(msg.data or b"")
        except DecodeError:
            log.warning("ignoring an undecodable token cutoff on %s", msg.subject)
        else:
            self.apply(event)
        try:
            pending = msg.metadata.num_pending
        except Exception:  # not a JetStream message (cannot happen on this subscription)
            pending = 0
        if pending == 0:
            self._mark_synced()

    def _mark_synced(self) -> None:
        if not self._synced.is_set():
            log.info("token revocation list loaded (%d users with a cutoff)", len(self._cutoffs))
            self._synced.set()


class RevocationCheckedKeys:
    """A TokenAuthenticator: the signing-key check, then the revocation list."""

    def __init__(self, keys: TokenAuthenticator, revocations: RevocationList) -> None:
        self.keys = keys
        self.revocations = revocations

    async def verify(self, token: str) -> Identity:
        identity = await self.keys.verify(token)
        self.revocations.check(identity)
        return identity


def cutoff_event(user_id: int | str, not_before_ms: int, *, deleted: bool = False) -> events_pb2.TokenCutoff:
    """The message auth publishes (through its outbox) for one user."""
    event = events_pb2.TokenCutoff(
        user_id=str(user_id),
        not_before=int(not_before_ms) // 1000,
        not_before_ms=int(not_before_ms),
        deleted=deleted,
    )
    event.published_at.FromDatetime(datetime.now(UTC))
    return event


def cutoff_msg_id(user_id: int | str, not_before_ms: int, *, deleted: bool = False) -> str:
    return f"token-cutoff-{user_id}-{int(not_before_ms)}{'-deleted' if deleted else ''}"


def datetime_ms(moment: datetime) -> int:
    """A timezone-aware datetime as unix milliseconds (rounded: stored cutoffs are whole ms)."""
    return round(moment.timestamp() * 1000)
