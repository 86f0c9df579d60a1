"""Checkpoints: the complete state of a run as bytes, and back.

Layout: ``MAGIC``, a segment count and lengths, then zlib-compressed canonical-JSON segments. The
first segment (the *head*) holds everything that can still change: agents, markets, counters and
the last ``feed.WINDOW`` rounds. Each later segment holds one *frozen* round - its posts (no longer
shown in any feed, so never touched again), trades, trajectories and snapshot. A
:class:`CheckpointWriter` compresses each frozen round once and reuses it, so writing a checkpoint
after every round costs O(mutable state), not O(history).

Floats survive the round trip exactly (``repr`` is shortest-round-trip), containers keep their
order, and derived indexes are rebuilt from the posts, so a resumed run continues bit-for-bit.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import asdict
from typing import Any

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

MAGIC = b"SWCK2\n"
VERSION = 2

_AGENT_FIELDS = [
    f for f in Agent.__dataclass_fields__ if f not in ("belief", "follows", "trust", "last_feed")
]
_POST_FIELDS = list(Post.__dataclass_fields__)
_TRADE_FIELDS = list(Trade.__dataclass_fields__)


class CheckpointError(ValueError):
    """Bytes that are not a checkpoint of this engine version."""


def _encode(obj: Any) -> bytes:
    body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    return zlib.compress(body, 1)


def _round_payload(world: World, r: int, trade_lo: int, trade_hi: int) -> dict[str, Any]:
    """Everything recorded for round ``r`` (1-based); round 0 holds only the initial beliefs."""
    out: dict[str, Any] = {"round": r, "positions": world.positions[r], "confidences": world.confidences[r]}
    if r > 0:
        lo, hi = world.round_first_post[r - 1], world.round_first_post[r]
        out.update(
            posts=[[getattr(p, f) for f in _POST_FIELDS] for p in world.posts[lo:hi]],
            trades=[[getattr(t, f) for f in _TRADE_FIELDS] for t in world.trades[trade_lo:trade_hi]],
            snapshot=asdict(world.snapshots[r - 1]),
            history={m: mk.history[r - 1] for m, mk in world.markets.items()},
            thoughts=[list(t) for t in world.thoughts.get(r, [])],
        )
    return out


def _trade_bounds(world: World) -> list[int]:
    """Index of the first trade of each round 1..R (trades are appended in round order)."""
    bounds = [0] * (world.round + 2)
    for t in world.trades:
        bounds[t.round + 1] += 1
    for r in range(1, len(bounds)):
        bounds[r] += bounds[r - 1]
    return bounds  # trades of round r are bounds[r]:bounds[r+1]


class CheckpointWriter:
    """Serialises a :class:`World` after each round, reusing already-compressed frozen rounds."""

    def __init__(self) -> None:
        self._frozen: list[bytes] = []  # segment for round k at index k

    def dump(self, world: World, stats: CallStats, stage: int) -> bytes:
        frozen_upto = max(-1, world.round - feed.WINDOW - 1)  # rounds <= this never change again
        bounds = _trade_bounds(world)
        while len(self._frozen) <= frozen_upto:
            r = len(self._frozen)
            self._frozen.append(
                _encode(
                    _round_payload(
                        world, r, bounds[r], bounds[r + 1] if r + 1 < len(bounds) else len(world.trades)
                    )
                )
            )
        live = [
            _round_payload(world, r, bounds[r], bounds[r + 1] if r + 1 < len(bounds) else len(world.trades))
            for r in range(frozen_upto + 1, world.round + 1)
        ]
        head = {
            "version": VERSION,
            "stage": stage,
            "config": world.config.to_dict(),
            "goal": world.goal,
            "digest": world.digest,
            "meta": world.meta,
            "entities": [asdict(e) for e in world.entities],
            "seed_relations": [asdict(r) for r in world.seed_relations],
            "specs": [asdict(s) for s in world.specs],
            "markets": {m: {**mk.to_state(), "history": []} for m, mk in world.markets.items()},
            "agents": [
                [
                    *(getattr(a, f) for f in _AGENT_FIELDS),
                    a.belief.position,
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
            "stats": stats.to_state(),
            "frozen_rounds": frozen_upto + 1,
            "live_rounds": live,
        }
        segments = [_encode(head), *self._frozen[: frozen_upto + 1]]
        header = struct.pack(f"<I{len(segments)}I", len(segments), *(len(s) for s in segments))
        return b"".join([MAGIC, header, *segments])


def dump_world(world: World, stats: CallStats, stage: int) -> bytes:
    """One-off serialisation of ``world`` (see :class:`CheckpointWriter` for repeated use)."""
    return CheckpointWriter().dump(world, stats, stage)


def _segments(data: bytes) -> list[Any]:
    if not data.startswith(MAGIC):
        raise CheckpointError("not a swarmcast engine checkpoint (or an older version)")
    try:
        pos = len(MAGIC)
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
    return out


def load_world(data: bytes) -> tuple[World, CallStats, int]:
    """Rebuild ``(world, stats, stage)`` from checkpoint bytes."""
    head, *frozen = _segments(data)
    if head.get("version") != VERSION:
        raise CheckpointError(f"checkpoint version {head.get('version')} != {VERSION}")
    world = World(
        SimulationConfig(**head["config"]),
        head["goal"],
        head["digest"],
        [Entity(**e) for e in head["entities"]],
        [Relation(**{**r, "evidence": tuple(r["evidence"])}) for r in head["seed_relations"]],
        [MarketSpec(**s) for s in head["specs"]],
        head["meta"],
    )
    world.markets = {m: LMSRMarket.from_state(s) for m, s in head["markets"].items()}
    k = len(_AGENT_FIELDS)
    for row in head["agents"]:
        fields = dict(zip(_AGENT_FIELDS, row[:k], strict=True))
        pos, conf, follows, trust, last_feed = row[k:]
        world.agents.append(
            Agent(
                **fields,
                belief=BeliefState(pos, conf),
                follows=dict.fromkeys(follows),
                trust={int(a): t for a, t in trust},
                last_feed=tuple(last_feed),
            )
        )
    for seg in [*frozen, *head["live_rounds"]]:
        world.positions.append(seg["positions"])
        world.confidences.append(seg["confidences"])
        if seg["round"] == 0:
            continue
        world.posts.extend(Post(*row) for row in seg["posts"])
        world.trades.extend(Trade(*row) for row in seg["trades"])
        world.snapshots.append(RoundSnapshot(**seg["snapshot"]))
        for m, prices in seg["history"].items():
            world.markets[m].history.append(prices)
        if seg["thoughts"]:
            world.thoughts[seg["round"]] = [(a, t) for a, t in seg["thoughts"]]
    world.round = head["round"]
    world.round_first_post = head["round_first_post"]
    world.rejections = head["rejections"]
    world.interactions = head["interactions"]
    world.failed_turns = head["failed_turns"]
    world.rebuild_indexes()
    if len(world.positions) != world.round + 1 or len(world.posts) != world.round_first_post[-1]:
        raise CheckpointError("corrupt checkpoint: rounds do not add up")
    return world, CallStats.from_state(head["stats"]), head["stage"]
