"""Exponential backoff with jitter, shared by the bus, object storage and the services.

One helper so every retry loop in the platform behaves the same way: the delay before retry
``n`` (1-based) is drawn from ``[d/2, d]`` where ``d = min(max_delay, base_delay * 2**(n-1))``
("equal jitter": never a hot loop, and processes that failed together spread out).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger("swarmcast.retry")


def backoff_delay(attempt: int, *, base_delay: float, max_delay: float) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based), with equal jitter."""
    capped = min(max_delay, base_delay * (2 ** max(0, attempt - 1)))
    return capped / 2 + random.uniform(0, capped / 2)


async def retry_async(
    fn: Callable[[], Awaitable[T]],
    *,
    attempts: int | None,
    base_delay: float,
    max_delay: float,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    retry_if: Callable[[BaseException], bool] | None = None,
    describe: str = "operation",
) -> T:
    """Await ``fn()`` until it succeeds, retrying failures with exponential backoff and jitter.

    - ``attempts`` is the total number of calls (>= 1); ``None`` retries forever.
    - An exception is retried only if it is an instance of ``retry_on`` and, when given,
      ``retry_if(exc)`` is true; anything else propagates at once. After the last attempt the
      last exception propagates unchanged.
    - ``asyncio.CancelledError`` is never retried, so a retry loop can always be cancelled.
    - Each retry is logged at WARNING on ``swarmcast.retry`` with ``describe`` as the label.
    """
    if attempts is not None and attempts < 1:
        raise ValueError("attempts must be >= 1 or None")
    attempt = 0
    while True:
        attempt += 1
        try:
            return await fn()
        except asyncio.CancelledError:
            raise
        except retry_on as exc:
            if retry_if is not None and not retry_if(exc):
                raise
            if attempts is not None and attempt >= attempts:
                raise
            delay = backoff_delay(attempt, base_delay=base_delay, max_delay=max_delay)
            log.warning(
                "%s failed (attempt %d%s), retrying in %.2fs: %s: %s",
                describe,
                attempt,
                f"/{attempts}" if attempts is not None else "",
                delay,
                type(exc).__name__,
                exc,
            )
            await asyncio.sleep(delay)
