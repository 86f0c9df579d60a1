"""Where PENDING jobs wait: one reading of a tier's queue shared by every GetJob and WatchJob.

A job's place in its tier's queue depends on every other PENDING job of the tier, so working it out
per read costs the database a pass over the whole queue for each call. The board reads a tier's
queue once (`repository.tier_queue`, with the tier's running count and recent run times) and
answers every read from that reading until something changes:

- every transaction this process commits on the jobs database (`changed`, hooked to the engine's
  commit event) ends the reading - a new job, a dispatch, a job taken by a runner, a cancel;
- a job the reading does not know (created by another jobs process) is read again at once;
- at most ``max_age_s`` after it was taken, a reading expires anyway, for what other jobs processes
  (``SWARMCAST_JOBS_WORKERS``, replicas) changed.

Concurrent reads of a tier whose reading has ended wait for one new reading instead of each
querying the database - unless this process committed since that reading began (it may miss the
commit), in which case a read starts its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.jobs.domain.listing import queue_estimate_seconds, run_seconds


@dataclass(frozen=True, slots=True)
class QueueSpot:
    """A PENDING job's place in its tier's queue (1 = next) and its expected wait."""

    position: int
    estimate_seconds: int


@dataclass(frozen=True, slots=True)
class TierQueue:
    """One reading of a tier's queue: each PENDING job's place, the jobs on a runner, recent run times."""

    positions: dict[int, int]
    running: int
    recent_run_seconds: list[int]


@dataclass(slots=True)
class _Reading:
    queue: TierQueue
    generation: int
    taken_at: float


class QueueBoard:
    """Readings of each tier's queue, kept until this process commits a change or they age out.

    ``read_tier(tier)`` queries the database for one tier's queue; ``clock`` is monotonic seconds.
    """

    def __init__(
        self,
        read_tier: Callable[[str | None], Awaitable[TierQueue]],
        *,
        max_age_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read_tier = read_tier
        self.max_age_s = max_age_s
        self._clock = clock
        self._generation = 0
        self._readings: dict[str | None, _Reading] = {}
        self._in_flight: dict[str | None, tuple[int, asyncio.Future[_Reading]]] = {}

    def changed(self) -> None:
        """Something this process committed may have moved a queue: every reading ends."""
        self._generation += 1

    def _current(self, tier: str | None) -> _Reading | None:
        reading = self._readings.get(tier)
        if reading is None or reading.generation != self._generation:
            return None
        if self._clock() - reading.taken_at > self.max_age_s:
            return None
        return reading

    async def _reread(self, tier: str | None) -> _Reading:
        generation = self._generation
        pending = self._in_flight.get(tier)
        if pending is not None and pending[0] == generation:  # started after the last commit
            return await asyncio.shield(pending[1])
        future: asyncio.Future[_Reading] = asyncio.get_running_loop().create_future()
        self._in_flight[tier] = (generation, future)
        try:
            # Both taken before the query: a commit while it runs leaves this reading already stale.
            taken_at = self._clock()
            reading = _Reading(await self._read_tier(tier), generation, taken_at)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here: waiters re-raise it, nobody else must
            raise
        finally:
            if self._in_flight.get(tier, (None, None))[1] is future:
                del self._in_flight[tier]
        if reading.generation == self._generation:
            self._readings[tier] = reading
        future.set_result(reading)
        return reading

    async def spot(self, job_id: int, tier: str | None) -> QueueSpot | None:
        """Where the PENDING job ``job_id`` of ``tier`` waits; None when it is not in the queue."""
        reading = self._current(tier)
        if reading is None or job_id not in reading.queue.positions:
            reading = await self._reread(tier)
        queue = reading.queue
        position = queue.positions.get(job_id)
        if position is None:
            return None
        typical = run_seconds(tier or "", queue.recent_run_seconds)
        return QueueSpot(position, queue_estimate_seconds(position, typical, queue.running))
