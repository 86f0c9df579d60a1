"""`PeriodicTask`, the one background loop: survives failures, wakes on demand, stops at once."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from services.common.periodic import PeriodicTask


async def test_a_failing_round_is_logged_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    rounds: list[int] = []
    third = asyncio.Event()

    async def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 3:
            third.set()
        if len(rounds) == 1:
            raise RuntimeError("database went away")

    task = PeriodicTask("flaky work", 0.01, work)
    with caplog.at_level(logging.ERROR, logger="swarmcast.periodic"):
        task.start()
        try:
            await asyncio.wait_for(third.wait(), timeout=5)
        finally:
            await task.stop()
    assert not task.running
    failures = [r for r in caplog.records if r.name == "swarmcast.periodic"]
    assert len(failures) == 1 and "flaky work failed" in failures[0].getMessage()
    assert failures[0].exc_info is not None


async def test_wake_starts_the_next_round_without_waiting_the_interval() -> None:
    rounds = asyncio.Queue[float]()

    async def work() -> None:
        rounds.put_nowait(time.monotonic())

    task = PeriodicTask("woken", 3600.0, work)
    task.start()
    try:
        await asyncio.wait_for(rounds.get(), timeout=5)  # the first round runs at once
        task.wake()
        await asyncio.wait_for(rounds.get(), timeout=5)
    finally:
        await task.stop()


async def test_stop_cancels_a_round_in_flight_and_the_wait_at_once() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    busy = PeriodicTask("slow work", 3600.0, slow)
    busy.start()
    await asyncio.wait_for(started.wait(), timeout=5)
    waiting = PeriodicTask("delayed", 3600.0, slow, initial_delay=3600.0)
    waiting.start()
    t0 = time.monotonic()
    await asyncio.gather(busy.stop(), waiting.stop())
    assert time.monotonic() - t0 < 1.0
    assert cancelled.is_set() and not busy.running and not waiting.running
    await busy.stop()  # stopping twice is harmless


async def test_jitter_spreads_the_waits_within_bounds() -> None:
    async def nothing() -> None:
        return None

    task = PeriodicTask("spread", 10.0, nothing, jitter=0.2)
    waits = {task._next_wait() for _ in range(50)}
    assert all(8.0 <= w <= 12.0 for w in waits) and len(waits) > 1
    with pytest.raises(ValueError):
        PeriodicTask("bad", 0.0, nothing)
