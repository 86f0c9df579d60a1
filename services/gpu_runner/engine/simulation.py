"""The simulation pipeline (DESIGN §6): seeding -> building -> simulating -> analyzing.

The runner calls :func:`run_simulation` (or :func:`resume_simulation` with checkpoint bytes). The
engine does no I/O of its own: progress and checkpoints leave through callbacks, which may be
plain functions or coroutines, and the backend is whatever object the runner built.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..llm.base import LLMBackend
from . import heuristic_policy, llm_policy
from .actions import validate_turn
from .analysis import entity_graph, forecast, simulation_relations
from .artifacts import build_artifacts
from .checkpoint import CheckpointWriter, load_world
from .extraction import (
    derive_markets_heuristic,
    derive_markets_llm,
    extract_entities_heuristic,
    extract_entities_llm,
    seed_digest,
    split_sentences,
)
from .llm_calls import CallStats
from .types import MarketSpec, ProgressEvent, SimulationConfig, SimulationResult
from .world import World

STAGES = {1: "seeding", 2: "building", 3: "simulating", 4: "analyzing"}

ProgressCallback = Callable[[ProgressEvent], "Awaitable[None] | None"]
CheckpointCallback = Callable[[int, bytes], "Awaitable[None] | None"]


@dataclass(frozen=True, slots=True)
class SimulationRequest:
    """One job's input. ``enriched_seed`` (from the runner's web enrichment) replaces ``seed_text``
    for extraction when given; ``markets`` pins the markets instead of deriving them."""

    seed_text: str
    goal: str
    config: SimulationConfig
    enriched_seed: str | None = None
    citations: tuple[str, ...] = ()
    markets: tuple[MarketSpec, ...] | None = None

    def __post_init__(self) -> None:
        if not self.goal.strip():
            raise ValueError("goal must not be empty")
        if self.markets is not None and not 1 <= len(self.markets) <= 5:
            raise ValueError("markets must hold 1..5 entries")


def is_heuristic(backend: Any) -> bool:
    """The heuristic backend plays turns with in-process rules instead of text completions."""
    return bool(getattr(backend, "heuristic", False))


def backend_label(backend: Any) -> dict[str, Any]:
    return {"name": backend.name, "model": backend.model, "heuristic": is_heuristic(backend)}


async def _emit(callback: Callable[..., Any] | None, *args: Any) -> None:
    if callback is None:
        return
    result = callback(*args)
    if inspect.isawaitable(result):
        await result


class _Run:
    """One execution of the pipeline over a :class:`World`."""

    def __init__(
        self, backend: Any, on_progress: ProgressCallback | None, on_checkpoint: CheckpointCallback | None
    ) -> None:
        self.backend = backend
        self.bounded = None if is_heuristic(backend) else llm_policy.BoundedBackend(backend)
        self.on_progress = on_progress
        self.on_checkpoint = on_checkpoint
        self.stats = CallStats()
        self.world: World | None = None
        self.writer = CheckpointWriter()

    async def progress(self, stage: int, round_no: int, log: Sequence[str], max_rounds: int = 0) -> None:
        w = self.world
        event = ProgressEvent(
            stage=stage,
            stage_name=STAGES[stage],
            round=round_no,
            max_rounds=w.config.rounds if w else max_rounds,
            agents=len(w.agents) if w else 0,
            posts=len(w.posts) if w else 0,
            trades=len(w.trades) if w else 0,
            prices={m: round(p, 4) for m, p in w.prices().items()} if w else {},
            log=tuple(log),
            markets=tuple(s.to_config() for s in w.specs) if w else (),
        )
        await _emit(self.on_progress, event)

    async def checkpoint(self, stage: int) -> None:
        if self.on_checkpoint is not None and self.world is not None:
            await _emit(self.on_checkpoint, self.world.round, self.writer.dump(self.world, self.stats, stage))

    # -- stages ---------------------------------------------------------------------------------

    async def seed_and_build(self, req: SimulationRequest) -> None:
        cfg = req.config
        text = req.enriched_seed or req.seed_text
        await self.progress(
            1, 0, [f"seeding: {len(text)} characters, {len(req.citations)} citations"], cfg.rounds
        )
        notes: list[str] = []
        if self.bounded is None:
            entities, relations = extract_entities_heuristic(text, req.goal, cfg.max_entities)
        else:
            entities, relations, note = await extract_entities_llm(
                self.bounded, text, req.goal, cfg.max_entities, self.stats
            )
            notes += [note] if note else []
        digest = seed_digest(text, req.goal)
        await self.progress(
            1, 0, [f"extracted {len(entities)} entities, {len(relations)} relations", *notes], cfg.rounds
        )
        if req.markets is not None:
            specs = list(req.markets)
        elif self.bounded is None:
            specs = derive_markets_heuristic(req.goal, entities, cfg.forecast_days, cfg.max_markets)
        else:
            specs, note = await derive_markets_llm(
                self.bounded, req.goal, digest, entities, cfg.forecast_days, cfg.max_markets, self.stats
            )
            notes += [note] if note else []
        meta = {
            "enriched": req.enriched_seed is not None,
            "citations": list(req.citations),
            "notes": notes,
            "seed_sentences": len(split_sentences(text)),
        }
        self.world = World(cfg, req.goal, digest, entities, relations, specs, meta)
        self.world.build_agents()
        follows = sum(len(a.follows) for a in self.world.agents)
        await self.progress(
            2,
            0,
            [
                f"built {len(self.world.agents)} agents, {follows} follows, "
                f"{len(specs)} markets (b={cfg.liquidity:.0f})"
            ],
        )
        await self.checkpoint(2)

    async def simulate(self) -> None:
        world = self.world
        assert world is not None
        for r in range(world.round + 1, world.config.rounds + 1):
            feeds = world.build_feeds(r)
            if self.bounded is None:
                # the rules are held to the same schema as an LLM's output
                limit = world.config.max_actions
                turns = [
                    validate_turn({"actions": t}, limit)[1]
                    for t in heuristic_policy.decide_round(world, r, feeds)
                ]
                counts = world.apply_turns(r, feeds, turns)
            else:
                counts = await llm_policy.play_round(world, self.bounded, r, feeds, self.stats)
            snap = world.snapshots[-1]
            prices = " ".join(f"{m}={p:.3f}" for m, p in snap.prices.items())
            await self.progress(
                3,
                r,
                [
                    f"round {r}/{world.config.rounds}: {counts.get('create_post', 0)} posts, "
                    f"{counts.get('buy', 0) + counts.get('sell', 0)} trades, "
                    f"{counts.get('rejected', 0)} rejected, "
                    f"{counts.get('failed_turn', 0)} failed turns; {prices}; "
                    f"goal p={snap.goal_probability:.3f}±{snap.goal_spread:.3f}"
                ],
            )
            await self.checkpoint(3)
            await asyncio.sleep(0)  # let the runner's heartbeats and cancellation in

    async def analyze(self) -> SimulationResult:
        world = self.world
        assert world is not None
        await self.progress(4, world.round, ["analyzing: relations, personas, entity graph, artifacts"])
        outlook = forecast(world)
        relations = [*world.seed_relations, *simulation_relations(world)]
        graph = entity_graph(world, relations)
        llm_totals = self.stats.totals()
        artifacts = build_artifacts(
            world, outlook, relations, backend_label(self.backend), llm_totals, self.stats.calls
        )
        insufficient = sum(v for k, v in world.rejections.items() if k.endswith(":insufficient_funds"))
        summary = {
            "backend": backend_label(self.backend),
            "forecast": outlook,
            "probabilities": {m["market_id"]: m["probability"] for m in outlook["markets"]},
            "goal_probability": outlook["goal"]["belief_probability"],
            "goal_spread": outlook["goal"]["spread"],
            "counts": {
                "agents": len(world.agents),
                "rounds": world.round,
                "posts": len(world.posts),
                "trades": len(world.trades),
                "rejected_actions": sum(world.rejections.values()),
                "insufficient_funds": insufficient,
                "failed_turns": len(world.failed_turns),
                "entities": len(world.entities),
                "relations": len(relations),
            },
            "llm": llm_totals,
            "notes": world.meta.get("notes", []),
        }
        await self.progress(
            4,
            world.round,
            [
                f"done: goal p={outlook['goal']['belief_probability']:.3f} "
                f"(spread {outlook['goal']['spread']:.3f}), "
                f"m1 price {outlook['goal']['market_probability']:.3f}"
            ],
        )
        return SimulationResult(
            artifacts=artifacts,
            result_graph=graph,
            markets_config=[s.to_config() for s in world.specs],
            summary=summary,
            entities=list(world.entities),
        )


async def run_simulation(
    request: SimulationRequest,
    backend: LLMBackend | Any,
    *,
    on_progress: ProgressCallback | None = None,
    on_checkpoint: CheckpointCallback | None = None,
) -> SimulationResult:
    """Run all four stages. ``on_checkpoint(round, bytes)`` is called after building (round 0) and
    after every round; feed the latest bytes to :func:`resume_simulation` to continue a run."""
    run = _Run(backend, on_progress, on_checkpoint)
    await run.seed_and_build(request)
    await run.simulate()
    return await run.analyze()


async def resume_simulation(
    checkpoint: bytes,
    backend: LLMBackend | Any,
    *,
    on_progress: ProgressCallback | None = None,
    on_checkpoint: CheckpointCallback | None = None,
) -> SimulationResult:
    """Continue a run from checkpoint bytes; with the heuristic backend the result is byte-identical
    to an uninterrupted run with the same request."""
    run = _Run(backend, on_progress, on_checkpoint)
    run.world, run.stats, _ = load_world(checkpoint)
    await run.progress(3, run.world.round, [f"resumed from checkpoint after round {run.world.round}"])
    await run.simulate()
    return await run.analyze()
