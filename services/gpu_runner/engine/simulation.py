"""The simulation pipeline (docs/runner.md): seeding -> building -> simulating -> analyzing.

The runner calls :func:`run_simulation` (or :func:`resume_simulation` with checkpoint bytes). The
engine does no I/O of its own: progress and checkpoints leave through callbacks, which may be
plain functions or coroutines, and the backend is whatever object the runner built.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from services.common.artifacts import BackendLabel
from services.common.scheduled_events import ScheduledEvent

from ..llm.base import LLMBackend
from . import heuristic_policy, llm_policy
from .actions import validate_turn
from .analysis import entity_graph, forecast, simulation_relations, stakeholder_count
from .artifacts import build_artifacts
from .baselines import baselines, describe, direct_forecast_heuristic, direct_forecast_llm
from .checkpoint import CheckpointWriter, Segment, load_world, pack
from .evidence import read_evidence
from .extraction import (
    derive_markets_heuristic,
    derive_markets_llm,
    extract_entities_heuristic,
    extract_entities_llm,
    split_sentences,
)
from .llm_calls import CallStats
from .retrieval import PassageLibrary, chunk_passages, estimate_tokens
from .types import MarketSpec, ProgressEvent, SimulationConfig, SimulationResult
from .world import RoundFeeds, World

STAGES = {1: "seeding", 2: "building", 3: "simulating", 4: "analyzing"}
MIN_STAKEHOLDERS = 3  # fewer named stakeholders than this: the report says the evidence is thin
MARKET_CONTEXT_TOKENS = 1500  # seed passages shown to an LLM that derives the markets

ProgressCallback = Callable[[ProgressEvent], "Awaitable[None] | None"]
CheckpointCallback = Callable[[int, bytes], "Awaitable[None] | None"]


@dataclass(frozen=True, slots=True)
class SimulationRequest:
    """One job's input. ``enriched_seed`` (from the runner's web enrichment) replaces ``seed_text``
    for extraction when given; ``markets`` pins the markets instead of deriving them; ``events``
    are the job's scheduled news, each entering every agent's feed at ``event_round(day)``."""

    seed_text: str
    goal: str
    config: SimulationConfig
    enriched_seed: str | None = None
    citations: tuple[str, ...] = ()
    markets: tuple[MarketSpec, ...] | None = None
    events: tuple[ScheduledEvent, ...] = ()

    def __post_init__(self) -> None:
        if not self.goal.strip():
            raise ValueError("goal must not be empty")
        if self.markets is not None and not 1 <= len(self.markets) <= 5:
            raise ValueError("markets must hold 1..5 entries")


def is_heuristic(backend: Any) -> bool:
    """The heuristic backend plays turns with in-process rules instead of text completions."""
    return bool(getattr(backend, "heuristic", False))


def backend_label(backend: Any) -> BackendLabel:
    return {"name": backend.name, "model": backend.model, "heuristic": is_heuristic(backend)}


async def _emit(callback: Callable[..., Any] | None, *args: Any) -> None:
    if callback is None:
        return
    result = callback(*args)
    if inspect.isawaitable(result):
        await result


def market_context(passages: list[str], goal: str, budget_tokens: int = MARKET_CONTEXT_TOKENS) -> str:
    """The seed passages most relevant to the goal, in document order, within a token budget."""
    if not passages:
        return ""
    chosen: list[int] = []
    used = 0
    for i in PassageLibrary(passages).top(goal, len(passages)):
        cost = estimate_tokens(passages[i]) + 1
        if used + cost > budget_tokens:
            break
        chosen.append(i)
        used += cost
    return "\n".join(passages[i] for i in sorted(chosen))


def _news_log(world: World, round_no: int) -> list[str]:
    """A progress line for the round's news: how many and which side they favour (the headlines
    are the user's text and stay out of logs)."""
    news = world.news_at(round_no)
    if not news:
        return []
    sides = ", ".join(f"favours {ev.favours.upper()}" if ev.favours else "neutral" for ev in news)
    return [f"round {round_no}: {len(news)} scheduled news event{'s' if len(news) > 1 else ''} ({sides})"]


@contextlib.contextmanager
def _young_objects_collected() -> Iterator[None]:
    """CPU-bound engine work during which the garbage collector looks only at objects made in it.

    A run's history (posts, stated beliefs, agents) is large and long-lived; a full collection
    rescanning it every few rounds made the cost per agent-step grow with the population (18% of
    the time at 5,000 agents). The objects that exist before are frozen and unfrozen afterwards,
    so nothing is kept from the collector for good. Results do not depend on it.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class _AllLaunched:
    """Awaited by each replicate's round once all its requests are started: the last one to arrive
    runs ``action`` (writing the checkpoint of the round before), the others wait for it, so no
    replicate applies a turn before the checkpoint has its state."""

    def __init__(self, parties: int, action: Callable[[], Awaitable[None]]) -> None:
        self.waiting = parties
        self.action = action
        self.done = asyncio.Event()
        self.failed: BaseException | None = None

    async def __call__(self) -> None:
        self.waiting -= 1
        if self.waiting == 0:
            try:
                await self.action()
            except BaseException as exc:
                self.failed = exc
                raise
            finally:
                self.done.set()
        else:
            await self.done.wait()
            if self.failed is not None:
                raise self.failed


class _Run:
    """One execution of the pipeline over a run's replicate :class:`World` s."""

    def __init__(
        self, backend: Any, on_progress: ProgressCallback | None, on_checkpoint: CheckpointCallback | None
    ) -> None:
        self.backend = backend
        self.bounded = None if is_heuristic(backend) else llm_policy.BoundedBackend(backend)
        self.on_progress = on_progress
        self.on_checkpoint = on_checkpoint
        self.stats = CallStats()
        self.worlds: list[World] = []
        self.writer = CheckpointWriter()
        self.held: tuple[int, CallStats] | None = None  # a checkpoint not taken yet (LLM runs)
        self.writing: asyncio.Future[None] | None = None  # a checkpoint being compressed and handed on

    async def progress(self, stage: int, round_no: int, log: Sequence[str], max_rounds: int = 0) -> None:
        worlds = self.worlds
        w = worlds[0] if worlds else None
        prices: dict[str, float] = {}
        goal_belief = None
        if w is not None:
            # live figures are means over the replicates (the forecast averages them too)
            for world in worlds:
                for m, p in world.prices().items():
                    prices[m] = prices.get(m, 0.0) + p / len(worlds)
            if w.snapshots:
                goal_belief = round(sum(x.snapshots[-1].goal_probability for x in worlds) / len(worlds), 4)
        event = ProgressEvent(
            stage=stage,
            stage_name=STAGES[stage],
            round=round_no,
            max_rounds=w.config.rounds if w else max_rounds,
            agents=len(w.agents) if w else 0,
            posts=len(w.posts) if w else 0,
            trades=len(w.trades) if w else 0,
            prices={m: round(p, 4) for m, p in prices.items()},
            log=tuple(log),
            markets=tuple(s.to_config() for s in w.specs) if w else (),
            replicates=len(worlds) or 1,
            goal_belief=goal_belief,
        )
        await _emit(self.on_progress, event)

    async def checkpoint(self, stage: int, stats: CallStats | None = None) -> None:
        """Take the checkpoint of the worlds as they are now; compressing it (in a worker thread)
        and handing it to ``on_checkpoint`` go on while the run continues, and are waited for
        before the next checkpoint (so they stay in order and a failure stops the run there)."""
        if self.on_checkpoint is None or not self.worlds:
            return
        await self.flush()
        with _young_objects_collected():
            segments = self.writer.prepare(self.worlds, self.stats if stats is None else stats, stage)
        self.writing = asyncio.ensure_future(self._write(self.worlds[0].round, segments))

    async def _write(self, round_no: int, segments: list[Segment]) -> None:
        data = await asyncio.to_thread(pack, segments)
        await _emit(self.on_checkpoint, round_no, data)

    async def flush(self) -> None:
        """Wait for the checkpoint being written (raising what its ``on_checkpoint`` raised)."""
        if self.writing is not None:
            writing, self.writing = self.writing, None
            await writing

    def abandon(self) -> None:
        """The run failed: stop waiting for a checkpoint still being written."""
        if self.writing is not None:
            writing, self.writing = self.writing, None
            writing.cancel()
            # its outcome no longer matters; retrieve it so it is not reported as lost
            writing.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def close_round(self, stage: int) -> None:
        """The checkpoint of the state just reached: at once on the heuristic backend; with an LLM,
        held until the next round's requests are out (:meth:`write_held`), so writing it overlaps
        the model's work instead of keeping the server idle between rounds. The call counters are
        taken now: calls of the next round that finish meanwhile are not part of this state."""
        if self.bounded is None:
            await self.checkpoint(stage)
        else:
            self.held = (stage, self.stats.snapshot())

    async def write_held(self) -> None:
        """Write the checkpoint held by :meth:`close_round` (the worlds have not moved since)."""
        if self.held is not None:
            (stage, stats), self.held = self.held, None
            await self.checkpoint(stage, stats)

    # -- stages ---------------------------------------------------------------------------------

    async def seed_and_build(self, req: SimulationRequest) -> None:
        cfg = req.config
        text = req.enriched_seed or req.seed_text
        await self.progress(
            1, 0, [f"seeding: {len(text)} characters, {len(req.citations)} citations"], cfg.rounds
        )
        notes: list[str] = []
        passages = chunk_passages(text)
        if self.bounded is None:
            entities, relations, evidence = extract_entities_heuristic(text, req.goal, cfg.max_entities)
        else:
            entities, relations, note = await extract_entities_llm(
                self.bounded, text, req.goal, cfg.max_entities, self.stats
            )
            notes += [note] if note else []
            # LLM agents read the seed themselves; the heuristic reading is kept for the report
            evidence = read_evidence(text, req.goal, [e.name for e in entities if e.kind != "viewpoint"])
        stakeholders = sum(1 for e in entities if e.kind != "viewpoint")
        await self.progress(
            1,
            0,
            [
                f"extracted {len(entities)} entities ({stakeholders} stakeholders), {len(relations)} "
                f"relations; seed evidence puts the goal at {evidence.prior:.0%} before any discussion",
                *notes,
            ],
            cfg.rounds,
        )
        if req.markets is not None:
            specs = list(req.markets)
        elif self.bounded is None:
            specs = derive_markets_heuristic(req.goal, entities, evidence, cfg.forecast_days, cfg.max_markets)
        else:
            specs, note = await derive_markets_llm(
                self.bounded,
                req.goal,
                market_context(passages, req.goal),
                entities,
                cfg.forecast_days,
                cfg.max_markets,
                self.stats,
            )
            notes += [note] if note else []
        # A single forecast without simulation (a baseline for evaluation), made once: it is kept in
        # the meta, so in the checkpoint, and a resumed run never asks again.
        if self.bounded is None:
            direct = direct_forecast_heuristic(evidence)
        else:
            direct = await direct_forecast_llm(self.bounded, text, req.goal, specs[0], cfg, self.stats)
        await self.progress(1, 0, [describe(direct)], cfg.rounds)
        meta = {
            "enriched": req.enriched_seed is not None,
            "citations": list(req.citations),
            "notes": notes,
            "seed_sentences": len(split_sentences(text)),
            "evidence": {
                **evidence.to_dict(),
                "prior": round(evidence.prior, 4),
                "logit_positive": round(evidence.logit_positive, 4),
                "stakeholders": stakeholders,
                "low_evidence": stakeholders < MIN_STAKEHOLDERS,
            },
            "direct_forecast": direct,
        }
        self.worlds = [
            World(cfg, req.goal, entities, relations, specs, meta, passages, replicate=k)
            for k in range(cfg.replicates)
        ]
        for world in self.worlds:
            world.build_agents()
            world.schedule_events(req.events)
        w = self.worlds[0]
        follows = sum(len(a.follows) for a in w.agents)
        liquidity = ", ".join(f"{m} b={mk.b:.0f}" for m, mk in w.markets.items())
        await self.progress(
            2,
            0,
            [
                f"built {cfg.replicates} replicate{'s' if cfg.replicates > 1 else ''} of {len(w.agents)} "
                f"agents ({follows} follows in replicate 0), {len(specs)} markets "
                f"(subsidy {cfg.market_subsidy:g} each: {liquidity})"
            ],
        )
        await self.close_round(2)

    async def simulate(self) -> None:
        worlds = self.worlds
        first = worlds[0]
        for r in range(first.round + 1, first.config.rounds + 1):
            if self.bounded is None:
                with _young_objects_collected():
                    counts = [self._heuristic_round(world, r) for world in worlds]
            else:
                # every replicate's calls of this round are in flight together on the shared backend
                bounded = self.bounded
                launched = _AllLaunched(len(worlds), self.write_held)
                tasks = [
                    asyncio.ensure_future(
                        llm_policy.play_round(world, bounded, r, RoundFeeds(world, r), self.stats, launched)
                    )
                    for world in worlds
                ]
                try:
                    counts = list(await asyncio.gather(*tasks))
                except BaseException:
                    for task in tasks:  # a failed replicate ends the round for all of them
                        task.cancel()
                    raise
            total: dict[str, int] = {}
            for c in counts:
                for k, v in c.items():
                    total[k] = total.get(k, 0) + v
            snap = first.snapshots[-1]
            prices = " ".join(f"{m}={p:.3f}" for m, p in snap.prices.items())
            belief = sum(w.snapshots[-1].goal_probability for w in worlds) / len(worlds)
            await self.progress(
                3,
                r,
                [
                    f"round {r}/{first.config.rounds}: {total.get('create_post', 0)} posts, "
                    f"{total.get('buy', 0) + total.get('sell', 0)} trades, "
                    f"{total.get('rejected', 0)} rejected, "
                    f"{total.get('failed_turn', 0)} failed turns; replicate 0 {prices}; "
                    f"goal belief {belief:.3f} (mean of {len(worlds)})",
                    *_news_log(first, r),
                ],
            )
            await self.close_round(3)
            await asyncio.sleep(0)  # let the runner's heartbeats and cancellation in
        await self.write_held()  # the last round's (no next round to overlap it with)

    @staticmethod
    def _heuristic_round(world: World, r: int) -> dict[str, int]:
        feeds = world.build_feeds(r)
        cfg = world.config
        market_ids = world.market_ids
        # the rules are held to the same schema as an LLM's output
        turns = [
            validate_turn(t, cfg.max_actions, market_ids)
            for t in heuristic_policy.decide_round(world, r, feeds)
        ]
        return world.apply_turns(r, feeds, turns)

    async def analyze(self) -> SimulationResult:
        worlds = self.worlds
        world = worlds[0]
        await self.progress(
            4, world.round, ["analyzing: forecast, relations, personas, entity graph, artifacts"]
        )
        outlook = forecast(worlds)
        relations = [*world.seed_relations, *simulation_relations(world)]
        graph = entity_graph(world, relations)
        llm_totals = self.stats.totals()
        artifacts = build_artifacts(
            worlds, outlook, relations, backend_label(self.backend), llm_totals, self.stats.calls
        )
        insufficient = sum(v for k, v in world.rejections.items() if k.endswith(":insufficient_funds"))
        goal = outlook["goal"]
        evidence = world.meta.get("evidence", {})
        summary = {
            "backend": backend_label(self.backend),
            "forecast": outlook,
            "probabilities": {m: f["probability"] for m, f in outlook["markets"].items()},
            "goal_probability": goal["probability"],
            "goal_interval": goal["interval"],
            "evidence": {
                "prior": evidence.get("prior"),
                "stakeholders": stakeholder_count(world),
                "low_evidence": bool(evidence.get("low_evidence")),
            },
            "counts": {
                "replicates": len(worlds),
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
            "baselines": baselines(world.specs, world.meta),
            "llm": llm_totals,
            "notes": world.meta.get("notes", []),
            "events": world.news_rows(),
        }
        lo, hi = goal["interval"]
        await self.progress(
            4,
            world.round,
            [
                f"done: goal {goal['probability']:.3f} (80% interval {lo:.3f}-{hi:.3f}; market "
                f"{goal['market']:.3f}, stated beliefs {goal['belief']:.3f}; {len(worlds)} replicates)"
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
    """Run all four stages. ``on_checkpoint(round, bytes)`` is called for the state after building
    (round 0) and after every round, in order; feed the latest bytes to :func:`resume_simulation`
    to continue a run. The call comes while the run goes on (the next round may be under way, the
    bytes being compressed meanwhile), and the next checkpoint waits for it to return: a raising
    callback stops the run at the next checkpoint, and a crash loses at most the round in progress
    and the one before it."""
    run = _Run(backend, on_progress, on_checkpoint)
    try:
        await run.seed_and_build(request)
        await run.simulate()
        await run.flush()
    except BaseException:
        run.abandon()
        raise
    return await run.analyze()


async def resume_simulation(
    checkpoint: bytes,
    backend: LLMBackend | Any,
    *,
    on_progress: ProgressCallback | None = None,
    on_checkpoint: CheckpointCallback | None = None,
    inject_events: Sequence[ScheduledEvent] = (),
) -> SimulationResult:
    """Continue a run from checkpoint bytes; with the heuristic backend and no ``inject_events`` the
    result is byte-identical to an uninterrupted run with the same request.

    ``inject_events`` (a what-if branch) are added to every replicate's schedule from the round
    after the checkpoint's on (day 0: that round); the events already in the checkpoint stay.
    Raises :class:`CheckpointError` for bad bytes, ValueError when events are injected into a run
    that has no round left to play them in.
    """
    run = _Run(backend, on_progress, on_checkpoint)
    run.worlds, run.stats, _ = load_world(checkpoint)
    done = run.worlds[0].round
    log = [f"resumed from checkpoint after round {done}"]
    if inject_events:
        if done >= run.worlds[0].config.rounds:
            raise ValueError(
                f"the checkpoint is after the last round ({done}): no round is left for injected events"
            )
        for world in run.worlds:
            world.schedule_events(inject_events, first_round=done + 1)
        count = len(inject_events)
        log.append(f"injected {count} event{'s' if count > 1 else ''} from round {done + 1} on")
    await run.progress(3, done, log)
    try:
        await run.simulate()
        await run.flush()
    except BaseException:
        run.abandon()
        raise
    return await run.analyze()
