"""One way to run background work every N seconds: `PeriodicTask`.

Every service's housekeeping (the outbox relay's sweep, the stale-job detector, pruning, auth's
maintenance) is the same loop: run the work, log a failure without dying, wait the interval (or
less, when woken), and stop at once on shutdown. `PeriodicTask` is that loop, written once.

- `start()` runs the loop as an asyncio task; `stop()` cancels it, the work in flight included,
  and waits for it to end. `run()` is the loop itself, for callers that manage the task.
- `initial_delay` waits before the first round (e.g. to let consumers catch up after a restart).
- `jitter` spreads replicas started together: each wait is drawn from `interval × [1 - j, 1 + j]`.
- `wake()` cuts the current wait short: the next round starts now (the relay's "kick").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable

log = logging.getLogger("swarmcast.periodic")


class PeriodicTask:
    def __init__(
        self,
        name: str,
        interval: float,
        fn: Callable[[], Awaitable[object]],
        *,
        initial_delay: float = 0.0,
        jitter: float = 0.0,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"{name}: interval must be positive, not {interval}")
        if not 0.0 <= jitter < 1.0:
            raise ValueError(f"{name}: jitter must be in [0, 1), not {jitter}")
        self.name = name
        self.interval = interval
        self.fn = fn
        self.initial_delay = initial_delay
        self.jitter = jitter
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Runs the loop in the background (a no-op while it already runs)."""
        if not self.running:
            self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        """Cancels the loop, whatever it is doing, and waits until it has ended."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def wake(self) -> None:
        """Start the next round now rather than at the end of the current wait."""
        self._wake.set()

    async def run(self) -> None:
        """Forever: one round of `fn`, then wait `interval` (or until woken)."""
        if self.initial_delay > 0:
            await asyncio.sleep(self.initial_delay)
        while True:
            # Cleared before the round: a wake during it means "there is more", so no wait follows.
            self._wake.clear()
            await self.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._next_wait())

    async def run_once(self) -> bool:
        """One round; a failure is logged, never raised. True when the round succeeded."""
        try:
            await self.fn()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed; trying again in %.0f s", self.name, self.interval)
            return False
        return True

    def _next_wait(self) -> float:
        if not self.jitter:
            return self.interval
        return self.interval * random.uniform(1.0 - self.jitter, 1.0 + self.jitter)
