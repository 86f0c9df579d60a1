"""Live progress of one run: the `live_status` snapshot and the `runner.progress` publisher.

Rules (docs/architecture.md §3):
- every stage change is published, in order, even when stages pass within milliseconds;
- round-by-round updates are coalesced to one event per `progress_interval_seconds`;
- a heartbeat event goes out at least every `heartbeat_seconds` (≤ 10 s) while the run lives;
- `seq` strictly increases within a run, also across runners: it is a counter seeded from the
  wall clock in microseconds, so a run resumed elsewhere continues above the old runner's values;
- separately, the dispatch message gets in-progress acks every third of `ack_wait`, so JetStream
  leaves a live runner its job and hands a dead runner's job to another.

`live_status["price_history"]` is the market chart so far, so a page opened (or reloaded) mid-run
draws every round, not only those it saw arrive: `{"round", "prices", "goal_belief"?}` per round,
round 0 being the opening prices once the markets are built. Bounded by `PRICE_HISTORY_MAX`: past
it the kept rounds are thinned to every 2nd, 4th, … round (round 0 and the newest always stay),
so the snapshots stay evenly spread over the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format, struct_pb2
from swarmcast.events.v1 import events_pb2

from services.common import subjects
from services.common.bus import EventBus
from services.gpu_runner.engine import ProgressEvent

log = logging.getLogger("swarmcast.gpu_runner.progress")

STAGE_NAMES = ("provisioning", "seeding", "building", "simulating", "analyzing")
STAGE_BUILDING, STAGE_SIMULATING = 2, 3
PRICE_HISTORY_MAX = 300


class PriceHistory:
    """One snapshot per round, in round order, at most `limit` (see the module doc)."""

    def __init__(self, limit: int = PRICE_HISTORY_MAX) -> None:
        self.limit = max(2, limit)
        self.stride = 1
        self._snapshots: list[dict[str, Any]] = []

    def record(self, round_no: int, prices: Mapping[str, float], goal_belief: float | None) -> None:
        snapshot: dict[str, Any] = {"round": round_no, "prices": dict(prices)}
        if goal_belief is not None:
            snapshot["goal_belief"] = goal_belief
        snaps = self._snapshots
        # A round seen again (a repeated report, or a run resumed from an earlier checkpoint)
        # replaces what was recorded from that round on.
        while snaps and snaps[-1]["round"] >= round_no:
            snaps.pop()
        # The previous newest was kept only for being the newest unless it is on the stride.
        if snaps and snaps[-1]["round"] % self.stride:
            snaps.pop()
        snaps.append(snapshot)
        while len(snaps) > self.limit:
            self.stride *= 2
            snaps[:] = [s for s in snaps[:-1] if s["round"] % self.stride == 0] + [snaps[-1]]

    def snapshots(self) -> list[dict[str, Any]]:
        return [{**s, "prices": dict(s["prices"])} for s in self._snapshots]


class SeqClock:
    """Strictly increasing integers, never below the wall clock in microseconds."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = max(self._last + 1, time.time_ns() // 1000)
        return self._last


def to_struct(data: Mapping[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    json_format.ParseDict(dict(data), out)
    return out


def to_list_value(items: list[Any]) -> struct_pb2.ListValue:
    out = struct_pb2.ListValue()
    # ParseDict fills any message from its JSON form, a list for a ListValue (the stubs say dict).
    json_format.ParseDict(list(items), out)  # type: ignore[arg-type]
    return out


@dataclass
class LiveState:
    """What the run looks like now; mutated on the service loop only."""

    backend: str
    model: str
    pod_id: str
    attempt: int
    log_lines: int = 20
    stage: int = 0
    round: int = 0
    max_rounds: int = 0
    agents: int = 0
    posts: int = 0
    trades: int = 0
    prices: dict[str, float] = field(default_factory=dict)
    markets: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    provision_seconds: float = 0.0
    enriched_seed: str = ""
    enrichment_citations: str = ""
    log: deque[str] = field(default_factory=deque)
    price_history: PriceHistory = field(default_factory=PriceHistory)
    _rate_start: tuple[float, int] | None = None
    rounds_per_second: float = 0.0

    def add_log(self, *lines: str) -> None:
        for line in lines:
            self.log.append(line[:500])
        while len(self.log) > self.log_lines:
            self.log.popleft()

    def apply(self, event: ProgressEvent) -> None:
        self.stage = event.stage
        self.max_rounds = event.max_rounds or self.max_rounds
        self.agents, self.posts, self.trades = event.agents, event.posts, event.trades
        self.prices = dict(event.prices)
        if event.markets:
            self.markets = [dict(m) for m in event.markets]
        self.extra["replicates"] = event.replicates
        if event.goal_belief is not None:
            # the running goal forecast (agents' pooled stated beliefs, mean over replicates)
            self.extra["goal_belief"] = event.goal_belief
        if event.stage == 3 and event.round != self.round:
            self._note_round(event.round)
        if event.prices and (
            event.stage == STAGE_SIMULATING or (event.stage == STAGE_BUILDING and event.round == 0)
        ):
            # Building ends with the opening prices (round 0); each simulated round then adds one.
            self.price_history.record(event.round, event.prices, event.goal_belief)
        self.round = event.round
        self.add_log(*event.log)

    def _note_round(self, round_no: int) -> None:
        now = time.monotonic()
        if self._rate_start is None:
            self._rate_start = (now, round_no)
            return
        t0, r0 = self._rate_start
        if now > t0 and round_no > r0:
            self.rounds_per_second = (round_no - r0) / (now - t0)

    def eta_seconds(self) -> float | None:
        """Expected seconds until the rounds are done (None while unknown)."""
        if self.stage >= 4:
            return 0.0
        if self.stage == 3 and self.rounds_per_second > 0:
            return max(0, self.max_rounds - self.round) / self.rounds_per_second
        return None

    def live_status(self) -> dict[str, Any]:
        eta = self.eta_seconds()
        status: dict[str, Any] = {
            "stage": self.stage,
            "stage_name": STAGE_NAMES[self.stage],
            "round": self.round,
            "max_rounds": self.max_rounds,
            "agents": self.agents,
            "posts": self.posts,
            "trades": self.trades,
            "prices": dict(self.prices),
            "log": list(self.log),
            "backend": self.backend,
            "model": self.model,
            "pod_id": self.pod_id,
            "attempt": self.attempt,
            "rounds_per_second": round(self.rounds_per_second, 3),
            "updated_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "price_history": self.price_history.snapshots(),
            **self.extra,
        }
        if eta is not None:
            status["eta_seconds"] = round(eta, 1)
        return status


Keepalive = Callable[[], Awaitable[None]]


class ProgressPublisher:
    """Publishes a run's progress events and keeps its dispatch message alive (see module doc)."""

    def __init__(
        self,
        bus: EventBus,
        state: LiveState,
        *,
        job_id: int,
        run_id: str,
        gpu_provider: str,
        seq: SeqClock,
        interval_s: float,
        heartbeat_s: float,
        keepalive: Keepalive | None,
        keepalive_every_s: float,
    ) -> None:
        self.bus = bus
        self.state = state
        self.job_id = job_id
        self.run_id = run_id
        self.gpu_provider = gpu_provider
        self.seq = seq
        self.interval_s = interval_s
        self.heartbeat_s = heartbeat_s
        self._keepalive = keepalive
        self._keepalive_every_s = keepalive_every_s
        self._queued: deque[events_pb2.RunnerProgress] = deque()  # stage changes: each one is sent
        self._dirty = False
        self._last_sent = 0.0
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self.sent = 0

    # --- inputs (service loop) -------------------------------------------------------------------
    def engine_progress(self, event: ProgressEvent) -> None:
        changed = event.stage != self.state.stage
        self.state.apply(event)
        self._changed(changed)

    def note(self, *lines: str, stage: int | None = None, force: bool = False, **extra: Any) -> None:
        """A runner-side update (provisioning, enrichment, uploads); a new ``stage`` (or ``force``)
        is always sent, anything else is coalesced."""
        changed = force or (stage is not None and stage != self.state.stage)
        if stage is not None:
            self.state.stage = stage
        self.state.extra.update(extra)
        self.state.add_log(*lines)
        self._changed(changed)

    def _changed(self, stage_changed: bool) -> None:
        if stage_changed:
            self._queued.append(self._message(with_enrichment=True))
        else:
            self._dirty = True
        self._wake.set()

    # --- the loops ---------------------------------------------------------------------------------
    def start(self) -> None:
        # The first event is the run's own first note, not an empty heartbeat.
        self._last_sent = asyncio.get_running_loop().time()
        self._tasks.append(asyncio.create_task(self._publish_loop(), name=f"progress-{self.job_id}"))
        if self._keepalive is not None:
            self._tasks.append(asyncio.create_task(self._keepalive_loop(), name=f"keepalive-{self.job_id}"))

    async def _publish_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._closing:
            now = loop.time()
            due = self._last_sent + (self.interval_s if self._dirty else self.heartbeat_s)
            if not self._queued and now < due:
                self._wake.clear()
                # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel that
                # arrives just as the event is set, and close() would then wait forever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(due - now):
                        await self._wake.wait()
                continue
            await self.flush()

    async def flush(self) -> None:
        """Send every queued stage change, then the current snapshot if anything is unsent."""
        while self._queued:
            await self._send(self._queued.popleft())
            self._dirty = False
        if self._dirty or asyncio.get_running_loop().time() - self._last_sent >= self.heartbeat_s:
            self._dirty = False
            await self._send(self._message(with_enrichment=False))

    async def _keepalive_loop(self) -> None:
        assert self._keepalive is not None
        while not self._closing:
            await asyncio.sleep(self._keepalive_every_s)
            await self._keepalive()

    async def close(self, final_flush: bool = True) -> None:
        # The flag ends the loops even if a library's wait_for swallows the cancel (Python 3.11).
        self._closing = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10.0)
        self._tasks.clear()
        if final_flush and (self._queued or self._dirty):
            with contextlib.suppress(Exception):
                await self.flush()

    # --- messages ----------------------------------------------------------------------------------
    def _message(self, *, with_enrichment: bool) -> events_pb2.RunnerProgress:
        s = self.state
        msg = events_pb2.RunnerProgress(
            job_id=self.job_id,
            run_id=self.run_id,
            pod_id=s.pod_id,
            stage=s.stage,
            stage_name=STAGE_NAMES[s.stage],
            round=s.round,
            max_rounds=s.max_rounds,
            live_status=to_struct(s.live_status()),
            provision_seconds=s.provision_seconds,
            gpu_provider=self.gpu_provider,
        )
        if s.markets:
            msg.markets.CopyFrom(to_list_value(s.markets))
        # The enrichment rides on stage changes (not every heartbeat); runner.completed restates it.
        if with_enrichment:
            msg.enriched_seed = s.enriched_seed
            msg.enrichment_citations = s.enrichment_citations
        return msg

    async def _send(self, msg: events_pb2.RunnerProgress) -> None:
        # seq and sent_at are stamped at send time, so the wire order is the seq order.
        msg.seq = self.seq.next()
        msg.sent_at.FromDatetime(datetime.now(UTC))
        self._last_sent = asyncio.get_running_loop().time()
        try:
            await self.bus.publish(
                subjects.runner_progress(self.job_id), msg, msg_id=f"progress-{self.run_id}-{msg.seq}"
            )
            self.sent += 1
        except Exception as exc:  # progress is best effort; the outcome event is what must land
            log.warning("could not publish progress of job %s: %s", self.job_id, exc)
