"""The queue board: one reading of a tier's queue answers every read until something changes.

The board's rules on their own (a read function that counts its calls), then the jobs service for
real: its own commits move a waiting job at once, another process's change shows within the
board's maximum age.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.jobs.queue_board import QueueBoard, QueueSpot, TierQueue

from .test_jobs_listing import create, get, spot


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Queues:
    """Each tier's queue as the database would answer, and how often it was asked."""

    def __init__(self) -> None:
        self.queues: dict[str | None, TierQueue] = {"small": TierQueue({1: 1, 2: 2}, 0, [])}
        self.reads = 0
        self.gate: asyncio.Event | None = None

    async def read(self, tier: str | None) -> TierQueue:
        self.reads += 1
        if self.gate is not None:
            await self.gate.wait()
        return self.queues.get(tier, TierQueue({}, 0, []))


async def test_one_reading_answers_until_a_commit_or_its_age_ends_it() -> None:
    queues, clock = Queues(), Clock()
    board = QueueBoard(queues.read, max_age_s=1.0, clock=clock)
    first = await board.spot(1, "small")
    assert isinstance(first, QueueSpot) and first.position == 1 and first.estimate_seconds > 0
    assert (await board.spot(2, "small")).position == 2  # type: ignore[union-attr]
    assert queues.reads == 1

    queues.queues["small"] = TierQueue({2: 1}, 1, [])  # job 1 taken by a runner
    assert (await board.spot(2, "small")).position == 2  # type: ignore[union-attr]  # same reading
    board.changed()  # this process committed something
    assert (await board.spot(2, "small")).position == 1  # type: ignore[union-attr]
    assert await board.spot(1, "small") is None  # no longer waiting
    assert queues.reads == 3  # job 1 unknown to the new reading: read once more, still gone

    queues.queues["small"] = TierQueue({2: 1, 3: 2}, 1, [])
    clock.now = 0.5
    assert (await board.spot(2, "small")).position == 1  # type: ignore[union-attr]
    assert queues.reads == 3
    clock.now = 1.6  # another process's change shows once the reading is older than max_age_s
    queues.queues["small"] = TierQueue({3: 1}, 2, [])
    assert await board.spot(2, "small") is None
    assert queues.reads == 4


async def test_a_job_the_reading_does_not_know_is_read_again_at_once() -> None:
    queues = Queues()
    board = QueueBoard(queues.read, max_age_s=60.0)
    await board.spot(1, "small")
    queues.queues["small"] = TierQueue({1: 1, 2: 2, 9: 3}, 0, [])  # job 9 made by another process
    assert (await board.spot(9, "small")).position == 3  # type: ignore[union-attr]
    assert queues.reads == 2


async def test_concurrent_reads_share_one_query_and_its_failure() -> None:
    queues = Queues()
    board = QueueBoard(queues.read, max_age_s=60.0)
    queues.gate = asyncio.Event()
    waiting = [asyncio.ensure_future(board.spot(j, "small")) for j in (1, 2, 1, 2)]
    await asyncio.sleep(0.01)
    queues.gate.set()
    assert [s.position for s in await asyncio.gather(*waiting)] == [1, 2, 1, 2]  # type: ignore[union-attr]
    assert queues.reads == 1

    async def broken(tier: str | None) -> TierQueue:
        await asyncio.sleep(0.01)
        raise ConnectionError("database gone")

    failing = QueueBoard(broken)
    calls = [asyncio.ensure_future(failing.spot(1, "small")) for _ in range(3)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results), results


async def test_a_commit_while_reading_leaves_that_reading_stale() -> None:
    queues = Queues()
    board = QueueBoard(queues.read, max_age_s=60.0)
    queues.gate = asyncio.Event()
    reading = asyncio.ensure_future(board.spot(2, "small"))
    await asyncio.sleep(0.01)
    board.changed()  # committed while the query ran: the query may not have seen it
    queues.gate.set()
    assert (await reading).position == 2  # type: ignore[union-attr]
    queues.queues["small"] = TierQueue({2: 1}, 0, [])
    assert (await board.spot(2, "small")).position == 1  # type: ignore[union-attr]
    assert queues.reads == 2


async def test_a_read_after_a_commit_does_not_join_a_reading_begun_before_it() -> None:
    queues = Queues()
    board = QueueBoard(queues.read, max_age_s=60.0)
    queues.gate = asyncio.Event()
    early = asyncio.ensure_future(board.spot(1, "small"))
    await asyncio.sleep(0.01)
    queues.queues["small"] = TierQueue({1: 1, 2: 2, 3: 3}, 0, [])  # job 3 committed here
    board.changed()
    late = asyncio.ensure_future(board.spot(3, "small"))
    await asyncio.sleep(0.01)
    queues.gate.set()
    assert (await early).position == 1  # type: ignore[union-attr]
    assert (await late).position == 3  # type: ignore[union-attr]
    assert queues.reads == 2


async def test_another_processs_change_shows_within_the_maximum_age(jobs_server: Any, jobs_db: Any) -> None:
    ahead, waiting = await create(jobs_server, variant="ahead"), await create(jobs_server, variant="waiting")
    assert spot(await get(jobs_server, waiting.id))[0] == 2
    # Another jobs process takes the job ahead off the queue: its commit is not this process's.
    url = jobs_db.kw["bind"].url
    other = create_async_engine(url)
    try:
        async with other.begin() as conn:
            await conn.execute(
                text("UPDATE jobs.simulation_jobs SET status = 'RUNNING' WHERE id = :id"), {"id": ahead.id}
            )
    finally:
        await other.dispose()
    await asyncio.sleep(jobs_server.app.core.queue_board.max_age_s + 0.1)
    assert spot(await get(jobs_server, waiting.id))[0] == 1
