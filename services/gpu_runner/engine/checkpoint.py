"""Checkpoints: the complete state of a run (all its replicates) as bytes, and back.

Layout: ``MAGIC``, a segment count and lengths, then zlib-compressed canonical-JSON segments:

1. the *run head*: stage, LLM call counters with the newest call rows, and how many segments each
   replicate has;
2. the *shared* segment: config, goal, entities, relations, markets, meta and the seed passages -
   fixed once built, so it is compressed once and reused;
3. the LLM call rows in full chunks of ``CALL_CHUNK`` (append-only, so a full chunk is final);
4. per replicate, its *head* (everything that can still change: the agents' state, markets,
   counters, the scheduled events and the posts still inside the feed window), its agents'
   *numbers* (beliefs, holdings, follows, trust and last feed: values that are always floats or
   always ints, as little-endian float64 / int64 arrays - exact, and far cheaper than JSON), its
   agents' *fixed fields* (names, personas, traits), one *record per closed round* (stated beliefs, trades,
   snapshot, prices, reasons) and the posts of each round that left the feed window. Everything but
   the heads is encoded once and reused, so writing a checkpoint after every round costs
   O(the state that can still change), not O(history).

Version 5 split the fixed agent fields, the agents' numbers and the closed rounds out of the head;
version 4 (the last rounds whole in the head, every agent field in it) and version 3 (version 4
without scheduled events, issue 19) still load, so a run checkpointed before a change can be
resumed or interviewed.

Floats survive the round trip exactly (``repr`` is shortest-round-trip), containers keep their
order, and derived indexes are rebuilt from the posts, so a resumed run continues bit-for-bit.
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from array import array
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

MAGIC = b"SWCK5\n"
VERSION = 5
# Older layouts this engine still reads, by magic: version 4 (every agent field and the last
# rounds re-encoded in each head), version 3 (version 4 without events).
_READABLE = {MAGIC: VERSION, b"SWCK4\n": 4, b"SWCK3\n": 3}

# Agent fields fixed once the agents are built: stored once per replicate (version 5).
_STATIC_FIELDS = [
    "id",
    "name",
    "entity_id",
    "kind",
    "summary",
    "activity",
    "sociability",
    "trader",
    "stubbornness",
    "lean",
]
_DYNAMIC_FIELDS = [
    f for f in Agent.__dataclass_fields__ if f not in ("belief", "prior", "follows", "trust", "last_feed")
]
_AGENT_FIELDS = _DYNAMIC_FIELDS  # version 3-4 rows: every plain field
# version 5: holdings go with the numbers (always floats); the rest stays JSON
_DYNAMIC_FIELDS = [f for f in _DYNAMIC_FIELDS if f not in _STATIC_FIELDS and f != "holdings"]
_NUMBERS = b"\x00N"  # starts a binary segment (never JSON): float64 and int64 arrays
_POST_FIELDS = list(Post.__dataclass_fields__)
_TRADE_FIELDS = list(Trade.__dataclass_fields__)
CALL_CHUNK = 4096  # LLM call rows per stored chunk: a full chunk never changes again


class CheckpointError(ValueError):
    """Bytes that are not a checkpoint of this engine version."""


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _encode(obj: Any) -> bytes:
    return zlib.compress(_json(obj), 1)


def _numbers(floats: list[float], ints: list[int]) -> bytes:
    """Floats and ints as little-endian float64 / int64 (exact, and far cheaper than JSON)."""
    f, i = array("d", floats), array("q", ints)
    if sys.byteorder != "little":  # pragma: no cover - every supported host is little-endian
        f.byteswap()
        i.byteswap()
    return _NUMBERS + struct.pack("<QQ", len(f), len(i)) + f.tobytes() + i.tobytes()


def _read_numbers(raw: bytes) -> tuple[list[float], list[int]]:
    n_floats, n_ints = struct.unpack_from("<QQ", raw, len(_NUMBERS))
    start = len(_NUMBERS) + 16
    if len(raw) != start + 8 * (n_floats + n_ints):
        raise ValueError("number segment size does not add up")
    f, i = array("d"), array("q")
    f.frombytes(raw[start : start + 8 * n_floats])
    i.frombytes(raw[start + 8 * n_floats :])
    if sys.byteorder != "little":  # pragma: no cover
        f.byteswap()
        i.byteswap()
    return f.tolist(), i.tolist()


class Segment:
    """One segment: its JSON now (it must capture the state as it is), compressed when
    :meth:`pack` is first called - possibly in another thread, as zlib releases the GIL."""

    __slots__ = ("_packed", "_raw")

    def __init__(self, obj: Any, raw: bytes | None = None) -> None:
        self._raw = _json(obj) if raw is None else raw
        self._packed: bytes | None = None

    def pack(self) -> bytes:
        if self._packed is None:
            self._packed, self._raw = zlib.compress(self._raw, 1), b""
        return self._packed


def pack(segments: list[Segment]) -> bytes:
    """Checkpoint bytes from :meth:`CheckpointWriter.prepare`'s segments (the CPU-heavy half of a
    checkpoint that needs no engine state: safe to run off the engine's thread)."""
    packed = [s.pack() for s in segments]
    header = struct.pack(f"<I{len(packed)}I", len(packed), *(len(s) for s in packed))
    return b"".join([MAGIC, header, *packed])


def _round_record(
    world: World, r: int, trade_lo: int, trade_hi: int, reasons: list[list[Any]]
) -> dict[str, Any]:
    """What round ``r`` (1-based; 0 = the initial beliefs) recorded besides its posts: fixed once the
    round is closed, so it is encoded once."""
    out: dict[str, Any] = {"round": r, "stated": world.stated[r], "confidences": world.confidences[r]}
    if r > 0:
        out.update(
            trades=[[getattr(t, f) for f in _TRADE_FIELDS] for t in world.trades[trade_lo:trade_hi]],
            snapshot=asdict(world.snapshots[r - 1]),
            history={m: mk.history[r - 1] for m, mk in world.markets.items()},
            thoughts=[list(t) for t in world.thoughts.get(r, [])],
            reasons=reasons,
        )
    return out


def _post_rows(world: World, r: int) -> list[list[Any]]:
    """The posts of round ``r`` (>= 1) as rows."""
    lo, hi = world.round_first_post[r - 1], world.round_first_post[r]
    return [[getattr(p, f) for f in _POST_FIELDS] for p in world.posts[lo:hi]]


class _Tail:
    """Where the next unrecorded item of an append-only, round-ordered list starts, per round."""

    def __init__(self) -> None:
        self.seen = 0  # items already counted
        self.first: list[int] = [0]  # first item of round r at index r (for the rounds counted)

    def bounds(self, items: list[Any], upto: int) -> list[int]:
        """``first`` extended to rounds 0..upto+1 (items of round r are ``first[r]:first[r+1]``)."""
        first = self.first
        for it in items[self.seen :]:
            r = it[0] if isinstance(it, list) else it.round
            while len(first) <= r:
                first.append(self.seen)
            self.seen += 1
        while len(first) < upto + 2:
            first.append(self.seen)
        return first


class _WorldWriter:
    """One replicate's segments: the agents' fixed fields and every closed round are encoded once;
    a checkpoint re-encodes only what can still change (the agents' state, the markets, the posts
    still in the feed window)."""

    def __init__(self) -> None:
        self._static: Segment | None = None
        self._rounds: list[Segment] = []  # round r's record at index r
        self._posts: list[Segment] = []  # posts of round r + 1 at index r, once out of the window
        self._trades = _Tail()
        self._reasons = _Tail()

    def segments(self, world: World) -> list[Segment]:
        if self._static is None:
            self._static = Segment([[getattr(a, f) for f in _STATIC_FIELDS] for a in world.agents])
        trades = self._trades.bounds(world.trades, world.round)
        reasons = self._reasons.bounds(world.reason_log, world.round)
        while len(self._rounds) <= world.round:
            r = len(self._rounds)
            record = _round_record(
                world, r, trades[r], trades[r + 1], world.reason_log[reasons[r] : reasons[r + 1]]
            )
            self._rounds.append(Segment(record))
        # posts of rounds <= frozen_upto left every feed: no like or reply changes them again
        frozen_upto = max(0, world.round - feed.WINDOW - 1)
        while len(self._posts) < frozen_upto:
            self._posts.append(Segment(_post_rows(world, len(self._posts) + 1)))
        ids = world.market_ids
        # Reasons repeat across agents (and heuristic ones come from a few lines): stored once each.
        table: dict[str, int] = {}
        # Per agent, in the number segment: floats prior, probability, YES and NO held per market,
        # then its trust values; ints its reason per market, then follows, trust and last feed,
        # each preceded by its length.
        floats: list[float] = []
        ints: list[int] = []
        for a in world.agents:
            prior, probs, why, holdings = a.prior, a.belief.probabilities, a.belief.reasons, a.holdings
            floats += [prior[m] for m in ids]
            floats += [probs[m] for m in ids]
            for m in ids:
                floats += holdings[m]
            floats.extend(a.trust.values())
            ints += [table.setdefault(why[m], len(table)) for m in ids]
            ints.append(len(a.follows))
            ints.extend(a.follows)
            ints.append(len(a.trust))
            ints.extend(a.trust)
            ints.append(len(a.last_feed))
            ints.extend(a.last_feed)
        numbers = Segment(None, _numbers(floats, ints))
        head = {
            "replicate": world.replicate,
            "markets": {m: {**mk.to_state(), "history": []} for m, mk in world.markets.items()},
            "agents": [
                [*(getattr(a, f) for f in _DYNAMIC_FIELDS), a.belief.confidence] for a in world.agents
            ],
            "round": world.round,
            "round_first_post": world.round_first_post,
            "rejections": world.rejections,
            "interactions": world.interactions,
            "failed_turns": world.failed_turns,
            "events": [[r, ev.day, ev.headline, ev.text, ev.favours] for r, ev in world.events],
            "frozen_posts": frozen_upto,
            "live_posts": [_post_rows(world, r) for r in range(frozen_upto + 1, world.round + 1)],
        }
        head["reasons"] = list(table)
        return [
            Segment(head),
            numbers,
            self._static,
            *self._rounds[: world.round + 1],
            *self._posts[:frozen_upto],
        ]


class CheckpointWriter:
    """Serialises a run's replicate worlds after each round (call :meth:`dump`, or :meth:`prepare`
    then :func:`pack`, repeatedly; each call costs O(the state that can still change), not
    O(history)). A :meth:`prepare` must not run while the previous one's :func:`pack` does."""

    def __init__(self) -> None:
        self._shared: Segment | None = None
        self._worlds: dict[int, _WorldWriter] = {}
        self._calls: list[Segment] = []  # full chunks of CallStats.calls

    def prepare(self, worlds: list[World], stats: CallStats, stage: int) -> list[Segment]:
        """The checkpoint's segments, taken from the worlds as they are now."""
        first = worlds[0]
        if self._shared is None:
            self._shared = Segment(
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
        calls = stats.calls
        while (len(self._calls) + 1) * CALL_CHUNK <= len(calls):
            k = len(self._calls) * CALL_CHUNK
            self._calls.append(Segment(calls[k : k + CALL_CHUNK]))
        chunks = self._calls[: len(calls) // CALL_CHUNK]
        per_world = [self._worlds.setdefault(w.replicate, _WorldWriter()).segments(w) for w in worlds]
        head = {
            "version": VERSION,
            "stage": stage,
            "stats": {**stats.to_state(), "calls": calls[len(chunks) * CALL_CHUNK :]},
            "call_chunks": len(chunks),
            "layout": [len(segs) for segs in per_world],
        }
        return [Segment(head), self._shared, *chunks, *(s for segs in per_world for s in segs)]

    def dump(self, worlds: list[World], stats: CallStats, stage: int) -> bytes:
        return pack(self.prepare(worlds, stats, stage))


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
            raw = zlib.decompress(data[pos : pos + size])
            out.append(_read_numbers(raw) if raw.startswith(_NUMBERS) else json.loads(raw))
            pos += size
    except (struct.error, zlib.error, ValueError) as exc:
        raise CheckpointError(f"corrupt checkpoint: {exc}") from exc
    if pos != len(data):
        raise CheckpointError("corrupt checkpoint: trailing bytes")
    return _READABLE[magic], out


def _load_one(version: int, shared: dict[str, Any], head: dict[str, Any], segments: list[Any]) -> World:
    """One replicate from its head and the segments after it (version 5: the fixed agent fields,
    one record per round, then the posts of the rounds out of the window; versions 3-4: one
    segment per frozen round)."""
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
    ids = world.market_ids
    table = head["reasons"]
    if version >= 5:
        (floats, ints), static, *rest = segments
        rounds = rest[: head["round"] + 1]
        post_segments = [*rest[head["round"] + 1 :], *head["live_posts"]]
        if len(rest) - len(rounds) != head["frozen_posts"] or len(static) != len(head["agents"]):
            raise CheckpointError("corrupt checkpoint: segments do not add up")
        _load_agents_v5(world, static, head["agents"], floats, ints, table)
    else:
        rounds = [*segments, *head["live_rounds"]]
        post_segments = [seg["posts"] for seg in rounds if seg["round"] > 0]
        k = len(_AGENT_FIELDS)
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
    rounded = world.rounded  # shared objects, as the live run holds them (round() is a no-op here)
    for seg in rounds:
        world.stated.append([tuple(map(rounded, row)) for row in seg["stated"]])
        world.confidences.append(list(map(rounded, seg["confidences"])))
        if seg["round"] == 0:
            continue
        world.trades.extend(Trade(*row) for row in seg["trades"])
        world.snapshots.append(RoundSnapshot(**seg["snapshot"]))
        world.reason_log.extend(seg["reasons"])
        for m, prices in seg["history"].items():
            world.markets[m].history.append(prices)
        if seg["thoughts"]:
            world.thoughts[seg["round"]] = [(a, t) for a, t in seg["thoughts"]]
    for posts in post_segments:
        world.posts.extend(Post(*row) for row in posts)
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


def _load_agents_v5(
    world: World,
    static: list[list[Any]],
    dynamic: list[list[Any]],
    floats: list[float],
    ints: list[int],
    table: list[str],
) -> None:
    """The agents of a version 5 replicate: fixed fields, JSON state and the number segment."""
    ids = world.market_ids
    m = len(ids)
    fi = ii = 0  # read positions in floats and ints
    for fixed, row in zip(static, dynamic, strict=True):
        fields = dict(zip(_STATIC_FIELDS, fixed, strict=True))
        fields.update(zip(_DYNAMIC_FIELDS, row[: len(_DYNAMIC_FIELDS)], strict=True))
        prior = dict(zip(ids, floats[fi : fi + m], strict=True))
        probabilities = dict(zip(ids, floats[fi + m : fi + 2 * m], strict=True))
        holdings = {mid: floats[fi + 2 * m + 2 * k : fi + 2 * m + 2 * k + 2] for k, mid in enumerate(ids)}
        fi += 4 * m
        reasons = {mid: table[i] for mid, i in zip(ids, ints[ii : ii + m], strict=True)}
        ii += m
        n = ints[ii]
        follows = dict.fromkeys(ints[ii + 1 : ii + 1 + n])
        ii += 1 + n
        n = ints[ii]
        trust = dict(zip(ints[ii + 1 : ii + 1 + n], floats[fi : fi + n], strict=True))
        ii += 1 + n
        fi += n
        n = ints[ii]
        last_feed = tuple(ints[ii + 1 : ii + 1 + n])
        ii += 1 + n
        world.agents.append(
            Agent(
                **fields,
                prior=prior,
                belief=BeliefState(probabilities, reasons, row[len(_DYNAMIC_FIELDS)]),
                holdings=holdings,
                follows=follows,
                trust=trust,
                last_feed=last_feed,
            )
        )
    if fi != len(floats) or ii != len(ints):
        raise CheckpointError("corrupt checkpoint: agent numbers do not add up")


def load_world(data: bytes) -> tuple[list[World], CallStats, int]:
    """Rebuild ``(replicate worlds, stats, stage)`` from checkpoint bytes."""
    version, segments = _segments(data)
    if len(segments) < 2:
        raise CheckpointError("corrupt checkpoint: no run head")
    head, shared, *rest = segments
    if head.get("version") != version:
        raise CheckpointError(f"checkpoint version {head.get('version')} != {version}")
    worlds = []
    try:
        chunks = head.get("call_chunks", 0)  # none before version 5
        stats = dict(head["stats"])
        stats["calls"] = [row for chunk in rest[:chunks] for row in chunk] + stats["calls"]
        pos = chunks
        for size in head["layout"]:
            world_head, *more = rest[pos : pos + size]
            pos += size
            worlds.append(_load_one(version, shared, world_head, more))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"corrupt checkpoint: {exc}") from exc
    if not worlds or pos != len(rest):
        raise CheckpointError("corrupt checkpoint: replicate layout does not add up")
    return worlds, CallStats.from_state(stats), head["stage"]
