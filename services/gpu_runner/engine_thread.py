"""A dedicated thread with its own asyncio loop for the engine and the LLM backend.

Why: the heuristic engine is CPU-bound for a whole round, and a vLLM engine or an aiohttp session
is bound to the loop that created it. Running both on one long-lived loop in a worker thread keeps
the service loop (NATS fetches, heartbeats, gRPC) responsive, and keeps the backend usable from
job to job. The service loop talks to it only through :meth:`EngineThread.submit`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class EngineTask(Generic[T]):
    """A coroutine running on the engine loop, awaited from the service loop."""

    def __init__(self, engine: EngineThread, coro: Coroutine[Any, Any, T]) -> None:
        self._engine = engine
        self._caller = asyncio.get_running_loop()
        self._result: asyncio.Future[T] = self._caller.create_future()
        self._task: asyncio.Task[T] | None = None
        engine.loop.call_soon_threadsafe(self._start, coro)

    def _start(self, coro: Coroutine[Any, Any, T]) -> None:
        self._task = self._engine.loop.create_task(coro)
        self._task.add_done_callback(lambda t: self._caller.call_soon_threadsafe(self._settle, t))

    def _settle(self, task: asyncio.Task[T]) -> None:
        if self._result.done():
            return
        if task.cancelled():
            self._result.cancel()
        elif (exc := task.exception()) is not None:
            self._result.set_exception(exc)
        else:
            self._result.set_result(task.result())

    def cancel(self) -> None:
        """Cancel the coroutine on the engine loop (it stops at its next await)."""
        # FIFO with _start, so the task exists by the time this runs.
        self._engine.loop.call_soon_threadsafe(lambda: self._task is not None and self._task.cancel())

    def done(self) -> bool:
        return self._result.done()

    async def result(self) -> T:
        """The coroutine's result; cancelling the caller does not cancel the engine task."""
        return await asyncio.shield(self._result)

    async def wait_stopped(self, within: float) -> bool:
        """Wait until the engine task has ended (any outcome); False if it is still running."""
        done, _ = await asyncio.wait({self._result}, timeout=within)
        if done and not self._result.cancelled():
            self._result.exception()  # retrieved: a stopped task's error is not "never retrieved"
        return bool(done)


class EngineThread:
    def __init__(self, name: str = "swarmcast-engine") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    @property
    def started(self) -> bool:
        return self._started

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> EngineTask[T]:
        """Start ``coro`` on the engine loop; call from the service loop."""
        if not self._started:
            raise RuntimeError("engine thread not started")
        return EngineTask(self, coro)

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the engine loop and return its result."""
        return await self.submit(coro).result()

    async def stop(self, within: float = 10.0) -> None:
        """Cancel what still runs there, stop the loop and join the thread."""
        if not self._started or not self._thread.is_alive():
            return

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.run(cancel_all()), within)
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.to_thread(self._thread.join, within)
        if not self._thread.is_alive():
            self.loop.close()
