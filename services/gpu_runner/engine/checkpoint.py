"""Checkpoints: the complete state of a run (all its replicates) as bytes, and back.

Layout: ``MAGIC``, a segment count and lengths, then zlib-compressed canonical-JSON segments:

1. the *run head*: stage, LLM call stats, and how many segments each replicate has;
2. the *shared* segment: config, goal, entities, relations, markets, meta and the seed passages -
   fixed once built, so it is compressed once and reused;
3. per replicate, its *head* (everything that can still change: agents, markets, counters, the
   scheduled events and the last ``feed.WINDOW`` rounds) followed by one segment per *frozen*
   round - its posts (no longer shown in any feed, so never touched again), trades, stated beliefs
   and snapshot. A frozen round is compressed once and reused, so writing a checkpoint after every
   round costs O(mutable state), not O(history).

Version 4 added the scheduled events (issue 19); version 3 checkpoints (no events) still load, so
a run checkpointed before the change can be resumed or interviewed.

Floats survive the round trip exactly (``repr`` is shortest-round-trip), containers keep their
order, and derived indexes are rebuilt from the posts, so a resumed run continues bit-for-bit.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import asdict
from typing import Any

from services.common.scheduled_events import ScheduledEvent

from . import feed
from .llm_calls import CallStats
from .lmsr import LMSRMarket
from .types import (
    Agent,
    BeliefState,
    Entity,
    MarketSpec,
    Post,
    Relation,
    RoundSnapshot,
    SimulationConfig,
    Trade,
)
from .world import World

MAGIC = b"SWCK4\n"
VERSION = 4
# Older layouts this engine still reads, by magic: version 3 is version 4 without events.
_READABLE = {MAGIC: VERSION, b"SWCK3\n": 3}

_AGENT_FIELDS = [
    f for f in Agent.__dataclass_fields__ if f not in ("belief", "prior", "follows", "trust", "last_feed")
]
_POST_FIELDS = list(Post.__dataclass_fields__)
_TRADE_FIELDS = list(Trade.__dataclass_fields__)


class CheckpointError(ValueError):
    """Bytes that are not a checkpoint of this engine version."""


def _encode(obj: Any) -> bytes:
    body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    return zlib.compress(body, 1)


def _round_payload(
    world: World, r: int, trade_lo: int, trade_hi: int, reasons: list[list[Any]]
) -> dict[str, Any]:
    """Everything recorded for round ``r`` (1-based); round 0 holds only the initial beliefs."""
    out: dict[str, Any] = {"round": r, "stated": world.stated[r], "confidences": world.confidences[r]}
    if r > 0:
        lo, hi = world.round_first_post[r - 1], world.round_first_post[r]
        out.update(
            posts=[[getattr(p, f) for f in _POST_FIELDS] for p in world.posts[lo:hi]],
            trades=[[getattr(t, f) for f in _TRADE_FIELDS] for t in world.trades[trade_lo:trade_hi]],
            snapshot=asdict(world.snapshots[r - 1]),
            history={m: mk.history[r - 1] for m, mk in world.markets.items()},
            thoughts=[list(t) for t in world.thoughts.get(r, [])],
            reasons=reasons,
        )
    return out


def _bounds(items: list[Any], rounds: int) -> list[int]:
    """Index of the first item of each round 0..rounds+1 (items are appended in round order and
    carry ``round`` at index 0 or as an attribute)."""
    bounds = [0] * (rounds + 2)
    for it in items:
        r = it[0] if isinstance(it, list) else it.round
        bounds[r + 1] += 1
    for r in range(1, len(bounds)):
        bounds[r] += bounds[r - 1]
    return bounds  # items of round r are bounds[r]:bounds[r+1]


class _WorldWriter:
    """One replicate's segments, reusing already-compressed frozen rounds."""

    def __init__(self) -> None:
        self._frozen: list[bytes] = []  # segment for round k at index k

    def segments(self, world: World) -> list[bytes]:
        frozen_upto = max(-1, world.round - feed.WINDOW - 1)  # rounds <= this never change again
        trades = _bounds(world.trades, world.round)
        reasons = _bounds(world.reason_log, world.round)

        def payload(r: int) -> dict[str, Any]:
            return _round_payload(
                world, r, trades[r], trades[r + 1], world.reason_log[reasons[r] : reasons[r + 1]]
            )

        while len(self._frozen) <= frozen_upto:
            self._frozen.append(_encode(payload(len(self._frozen))))
        ids = world.market_ids
        # Reasons repeat across agents (and heuristic ones come from a few lines): stored once each.
        table: dict[str, int] = {}
        head = {
            "replicate": world.replicate,
            "markets": {m: {**mk.to_state(), "history": []} for m, mk in world.markets.items()},
            "agents": [
                [
                    *(getattr(a, f) for f in _AGENT_FIELDS),
                    [a.prior[m] for m in ids],
                    [a.belief.probabilities[m] for m in ids],
                    [table.setdefault(a.belief.reasons[m], len(table)) for m in ids],
                    a.belief.confidence,
                    list(a.follows),
                    list(a.trust.items()),
                    list(a.last_feed),
                ]
                for a in world.agents
            ],
            "round": world.round,
            "round_first_post": world.round_first_post,
            "rejections": world.rejections,
            "interactions": world.interactions,
            "failed_turns": world.failed_turns,
            "events": [[r, ev.day, ev.headline, ev.text, ev.favours] for r, ev in world.events],
            "frozen_rounds": frozen_upto + 1,
            "live_rounds": [payload(r) for r in range(frozen_upto + 1, world.round + 1)],
        }
        head["reasons"] = list(table)
        return [_encode(head), *self._frozen[: frozen_upto + 1]]


class CheckpointWriter:
    """Serialises a run's replicate worlds after each round (call :meth:`dump` repeatedly)."""

    def __init__(self) -> None:
        self._shared: bytes | None = None
        self._worlds: dict[int, _WorldWriter] = {}

    def dump(self, worlds: list[World], stats: CallStats, stage: int) -> bytes:
        first = worlds[0]
        if self._shared is None:
            self._shared = _encode(
                {
                    "config": first.config.to_dict(),
                    "goal": first.goal,
                    "meta": first.meta,
                    "entities": [asdict(e) for e in first.entities],
                    "seed_relations": [asdict(r) for r in first.seed_relations],
                    "specs": [asdict(s) for s in first.specs],
                    "passages": first.passages,
                }
            )
        per_world = [self._worlds.setdefault(w.replicate, _WorldWriter()).segments(w) for w in worlds]
        head = {
            "version": VERSION,
            "stage": stage,
            "stats": stats.to_state(),
            "layout": [len(segs) for segs in per_world],
        }
        segments = [_encode(head), self._shared, *(s for segs in per_world for s in segs)]
        header = struct.pack(f"<I{len(segments)}I", len(segments), *(len(s) for s in segments))
        return b"".join([MAGIC, header, *segments])


def dump_world(worlds: list[World], stats: CallStats, stage: int) -> bytes:
    """One-off serialisation of a run (see :class:`CheckpointWriter` for repeated use)."""
    return CheckpointWriter().dump(worlds, stats, stage)


def _segments(data: bytes) -> tuple[int, list[Any]]:
    """The layout version (by magic) and the decoded segments."""
    magic = data[: len(MAGIC)]
    if magic not in _READABLE:
        raise CheckpointError("not a swarmcast engine checkpoint (or an older version)")
    try:
        pos = len(magic)
        (count,) = struct.unpack_from("<I", data, pos)
        sizes = struct.unpack_from(f"<{count}I", data, pos + 4)
        pos += 4 + 4 * count
        out = []
        for size in sizes:
            out.append(json.loads(zlib.decompress(data[pos : pos + size])))
            pos += size
    except (struct.error, zlib.error, ValueError) as exc:
        raise CheckpointError(f"corrupt checkpoint: {exc}") from exc
    if pos != len(data):
        raise CheckpointError("corrupt checkpoint: trailing bytes")
    return _READABLE[magic], out


def _load_one(shared: dict[str, Any], head: dict[str, Any], frozen: list[Any]) -> World:
    world = World(
        SimulationConfig(**shared["config"]),
        shared["goal"],
        [Entity(**e) for e in shared["entities"]],
        [Relation(**{**r, "evidence": tuple(r["evidence"])}) for r in shared["seed_relations"]],
        [MarketSpec(**s) for s in shared["specs"]],
        shared["meta"],
        shared["passages"],
        head["replicate"],
    )
    world.markets = {m: LMSRMarket.from_state(s) for m, s in head["markets"].items()}
    k = len(_AGENT_FIELDS)
    ids = world.market_ids
    table = head["reasons"]
    for row in head["agents"]:
        fields = dict(zip(_AGENT_FIELDS, row[:k], strict=True))
        prior, probabilities, reasons, confidence, follows, trust, last_feed = row[k:]
        world.agents.append(
            Agent(
                **fields,
                prior=dict(zip(ids, prior, strict=True)),
                belief=BeliefState(
                    dict(zip(ids, probabilities, strict=True)),
                    {m: table[i] for m, i in zip(ids, reasons, strict=True)},
                    confidence,
                ),
                follows=dict.fromkeys(follows),
                trust={int(a): t for a, t in trust},
                last_feed=tuple(last_feed),
            )
        )
    for seg in [*frozen, *head["live_rounds"]]:
        world.stated.append(seg["stated"])
        world.confidences.append(seg["confidences"])
        if seg["round"] == 0:
            continue
        world.posts.extend(Post(*row) for row in seg["posts"])
        world.trades.extend(Trade(*row) for row in seg["trades"])
        world.snapshots.append(RoundSnapshot(**seg["snapshot"]))
        world.reason_log.extend(seg["reasons"])
        for m, prices in seg["history"].items():
            world.markets[m].history.append(prices)
        if seg["thoughts"]:
            world.thoughts[seg["round"]] = [(a, t) for a, t in seg["thoughts"]]
    world.round = head["round"]
    world.round_first_post = head["round_first_post"]
    world.rejections = head["rejections"]
    world.interactions = head["interactions"]
    world.failed_turns = head["failed_turns"]
    world.events = [
        (r, ScheduledEvent(day, headline, text, favours))
        for r, day, headline, text, favours in head.get("events", [])  # none before version 4
    ]
    world.rebuild_indexes()
    if len(world.stated) != world.round + 1 or len(world.posts) != world.round_first_post[-1]:
        raise CheckpointError("corrupt checkpoint: rounds do not add up")
    return world


def load_world(data: bytes) -> tuple[list[World], CallStats, int]:
    """Rebuild ``(replicate worlds, stats, stage)`` from checkpoint bytes."""
    version, segments = _segments(data)
    if len(segments) < 2:
        raise CheckpointError("corrupt checkpoint: no run head")
    head, shared, *rest = segments
    if head.get("version") != version:
        raise CheckpointError(f"checkpoint version {head.get('version')} != {version}")
    worlds = []
    pos = 0
    try:
        for size in head["layout"]:
            world_head, *frozen = rest[pos : pos + size]
            pos += size
            worlds.append(_load_one(shared, world_head, frozen))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"corrupt checkpoint: {exc}") from exc
    if not worlds or pos != len(rest):
        raise CheckpointError("corrupt checkpoint: replicate layout does not add up")
    return worlds, CallStats.from_state(head["stats"]), head["stage"]
