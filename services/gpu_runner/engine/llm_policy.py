"""Agent turns through an LLM: every call of a round in flight at once, bounded by the backend.

One task per agent waits on a semaphore sized to the backend's ``capacity`` (not the agent count),
so the server always has as many requests as it can take and a slot freed by one agent is taken by
the next at once. Tasks are started in the round's turn order and each turn is applied as soon as it
and every turn before it in that order are in - so applying overlaps with the calls still in
flight, and the barrier between rounds is only closing the round and scoring the next round's
feed window: each agent's feed is ranked as its prompt is built, and the checkpoint of the round
before is taken once every request is out (``launched``), while the server works.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from ..llm.base import LLMBackend, LLMError, LLMResult, Message, Sampling
from .actions import Turn, action_schema, validate_turn
from .llm_calls import CallStats, Outcome, call_validated
from .prompts import agent_messages, system_prompt
from .world import World

BUILD_BATCH = 32  # prompts built between yields to the event loop once the first requests are out


class BoundedBackend(LLMBackend):
    """A backend proxy that admits at most ``capacity`` concurrent calls."""

    def __init__(self, backend: LLMBackend) -> None:
        self.inner = backend
        self.name, self.model, self.capacity = backend.name, backend.model, max(1, backend.capacity)
        self._slots = asyncio.Semaphore(self.capacity)

    async def generate(
        self, messages: Sequence[Message], schema: Mapping[str, Any], schema_name: str, sampling: Sampling
    ) -> LLMResult:
        async with self._slots:
            return await self.inner.generate(messages, schema, schema_name, sampling)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def play_round(
    world: World,
    backend: BoundedBackend,
    round_no: int,
    feeds: Sequence[Sequence[int]],
    stats: CallStats,
    launched: Callable[[], Awaitable[None]] | None = None,
) -> dict[str, int]:
    """Ask every agent for its turn, apply the turns in order as they arrive, close the round.

    Several worlds (a run's replicates) may play rounds concurrently on one shared ``backend``:
    everything here is local to this world and this call, the backend's semaphore is the only
    thing they share, and prompt building yields now and then so the other worlds' replies are
    taken in meanwhile.

    ``launched`` is awaited once every request of the round is started and before the first turn
    is applied: the world still holds the start-of-round state then (the runner checkpoints it
    there, while the server works).

    Raises :class:`LLMError` (before changing the world) when every call of the round failed at the
    transport level - the backend is down, and the run should fail transiently rather than record a
    silent round.
    """
    cfg = world.config
    market_ids = [s.id for s in world.specs]
    system = system_prompt(world)
    schema = action_schema(cfg.max_actions, market_ids)
    order = world.turn_order(round_no)

    def validate(data: Any) -> Turn:
        return validate_turn(data, cfg.max_actions, market_ids)

    async def turn(i: int, messages: list[dict[str, Any]]) -> Outcome:
        # A seed per turn (run, replicate, round, agent): backends that sample by seed answer the
        # same turn the same way on a rerun or a resume.
        seed = (world.seed * 1_000_003 + round_no * 10_007 + i) % 2**31
        return await call_validated(
            backend,
            messages,
            schema,
            "agent_turn",
            validate,
            stats,
            round_no=round_no,
            agent=i,
            max_tokens=cfg.max_tokens,
            temperature=cfg.temperature,
            seed=seed,
        )

    # Every prompt is built before the first turn is applied, so all show the start-of-round state.
    # The first `capacity` requests are started one by one, yielding after each so it reaches the
    # wire at once (started together, each would wait for all the others' first steps); the rest
    # are built while the server already works, yielding every BUILD_BATCH prompts.
    tasks: dict[int, asyncio.Future[Outcome]] = {}
    head = backend.capacity
    try:
        for n, i in enumerate(order):
            tasks[i] = asyncio.ensure_future(turn(i, agent_messages(world, system, i, feeds[i], round_no)))
            if n < head or n % BUILD_BATCH == 0:
                await asyncio.sleep(0)
        if launched is not None:
            await launched()
        first = await tasks[order[0]]
        if first.error is not None:
            outcomes = [await tasks[i] for i in order]
            if all(o.error is not None for o in outcomes):
                raise LLMError(f"every LLM call of round {round_no} failed: {first.error}")
        tally = world.begin_round(round_no, feeds)
        for i in order:
            out = await tasks[i]
            if out.value is None:
                why = f"invalid: {out.reason}" if out.error is None else f"error: {out.error}"
                world.apply_turn(tally, i, None, why)
            else:
                world.apply_turn(tally, i, out.value)
    finally:
        for t in tasks.values():
            t.cancel()
    return world.end_round(tally)
