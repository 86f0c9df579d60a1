"""A fake OpenAI-compatible chat-completions server on 127.0.0.1 (aiohttp).

It serves ``POST /v1/chat/completions`` with at most ``concurrency`` requests in progress at once.
Overflow policy (``overflow``): ``"queue"`` (default, like ``vllm serve``) makes excess requests wait
for a free slot - waiting time is not busy time; ``"reject"`` answers them ``429`` at once.

Each admitted request follows the next entry of a cyclic ``script``:

- ``valid``: after ``latency_ms``, the ``responder``'s JSON reply (by default one that matches the
  engine's schema: agent turns state a belief for every market; see also :func:`scripted_beliefs`);
- ``invalid_json``: after the latency, text that is not JSON;
- ``schema_violation``: after the latency, JSON that breaks the schema (an unknown action);
- ``slow``: like ``valid`` after ``slow_ms``;
- ``http_429``: ``429 Too Many Requests`` with ``Retry-After: 0`` (no slot taken);
- ``http_500``: ``500`` after a short delay.

It records, for slot-occupancy figures, the peak and time-averaged concurrency and the busy
slot-time (sum over requests of the time each held a slot), plus one ``(start, end)`` wall-clock
interval per admitted request. ``GET /stats`` returns them as JSON; ``POST /stats/reset`` clears them.

Run standalone: ``python -m tests.fakes.openai_server --port 8001 --concurrency 64 --latency-ms 50``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

from tests.fakes.app_server import AppServer, serve_until_interrupted, standalone_parser

BEHAVIOURS = ("valid", "invalid_json", "schema_violation", "slow", "http_429", "http_500")
Responder = Callable[[dict[str, Any], int], dict[str, Any]]

# What the engine's agent prompts (services/gpu_runner/engine/prompts.py) say about who and when.
AGENT_LINE = re.compile(r"^YOU: agent (\d+)\b", re.MULTILINE)
ROUND_LINE = re.compile(r"^ROUND (\d+) of", re.MULTILINE)
WALLET_LINE = re.compile(r"^- \[(\w+)\] price", re.MULTILINE)


def schema_of(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The request's ``response_format`` schema name and schema (``""`` and ``{}`` when absent)."""
    fmt = (body.get("response_format") or {}).get("json_schema") or {}
    return str(fmt.get("name", "")), dict(fmt.get("schema") or {})


def prompt_text(body: dict[str, Any], role: str | None = None) -> str:
    """Every message's text (or only ``role``'s), joined - a retry's last message is the complaint."""
    return "\n".join(
        str(m.get("content", "")) for m in body.get("messages", []) if role is None or m.get("role") == role
    )


def market_ids(body: dict[str, Any]) -> list[str]:
    """The markets an agent turn must state beliefs for: from the schema, else from the wallet lines."""
    _, schema = schema_of(body)
    required = ((schema.get("properties") or {}).get("beliefs") or {}).get("required")
    if required:
        return [str(m) for m in required]
    return list(dict.fromkeys(WALLET_LINE.findall(prompt_text(body))))


def agent_and_round(body: dict[str, Any]) -> tuple[int | None, int | None]:
    """The agent id and round an agent-turn prompt is for (None where the prompt does not say)."""
    text = prompt_text(body, "user")
    agent, round_no = AGENT_LINE.search(text), ROUND_LINE.search(text)
    return (int(agent.group(1)) if agent else None, int(round_no.group(1)) if round_no else None)


def _market_item(schema: dict[str, Any]) -> dict[str, Any]:
    """A derived market carrying every field the requested markets schema names."""
    item = {
        "question": "Will Alpha Corp announce support within the horizon?",
        "initial_price_yes": 0.4,
        "rationale": "Alpha Corp leads.",
        "link": 0.6,
        "resolution": "YES if Alpha Corp publicly announces support before the horizon ends.",
    }
    items = (((schema.get("properties") or {}).get("markets") or {}).get("items") or {}).get("properties")
    return {k: v for k, v in item.items() if k in items} if items else item


def default_responder(body: dict[str, Any], n: int) -> dict[str, Any]:
    """A schema-valid answer for the engine's schemas (by ``json_schema.name``).

    Agent turns state a belief for every market of the request (varying with ``n``), a confidence,
    a post, a like of the first post in the feed and, with cash left, a small buy.
    """
    name, schema = schema_of(body)
    prompt = prompt_text(body, "user")
    if name == "entities":
        return {
            "entities": [
                {"name": "Alpha Corp", "kind": "organisation", "summary": "Builds the thing.", "stance": 0.6},
                {"name": "Beta Union", "kind": "faction", "summary": "Wants it stopped.", "stance": -0.7},
                {"name": "Dana Reyes", "kind": "person", "summary": "An undecided regulator.", "stance": 0.1},
            ],
            "relations": [{"source": "Alpha Corp", "target": "Beta Union", "type": "opposes"}],
        }
    if name == "markets":
        return {"markets": [_market_item(schema)]}
    if name == "direct_forecast":
        return {"reason": "scripted single forecast", "probability": 0.5}
    if name == "agent_turn":
        stance = round(((n * 37) % 200) / 100.0 - 1.0, 2)
        markets = market_ids(body)
        beliefs = {
            m: {
                "reason": f"Take {n} on {m}.",
                "probability": round(0.1 + 0.008 * ((n * 53 + k * 17) % 100), 2),
            }
            for k, m in enumerate(markets)
        }
        actions: list[dict[str, Any]] = [
            {"type": "create_post", "text": f"Take {n}: my view has stance {stance:+.2f}.", "stance": stance}
        ]
        posts = re.findall(r"^- #(\d+) by", prompt, re.MULTILINE)
        if posts:
            actions.append({"type": "like", "post_id": int(posts[0])})
        cash = re.search(r"cash (\d+(?:\.\d+)?)", prompt)
        if markets and cash and float(cash.group(1)) >= 5:
            actions.append(
                {
                    "type": "buy",
                    "market_id": markets[n % len(markets)],
                    "outcome": "yes" if stance >= 0 else "no",
                    "amount": 2.5,
                }
            )
        return {"thought": "Reading the feed.", "beliefs": beliefs, "confidence": 0.6, "actions": actions}
    return {}


Stated = Callable[[int, int], "float | Mapping[str, float]"]


def scripted_beliefs(
    stated: Stated,
    *,
    confidence: float = 0.6,
    actions: Callable[[dict[str, Any], int], list[dict[str, Any]]] | None = None,
) -> Responder:
    """A responder whose agents state what ``stated(agent_id, round)`` says.

    ``stated`` returns one probability for every market or a ``{market_id: probability}`` mapping
    (markets it leaves out get 0.5). Each reason is ``"scripted agent A round R: P"`` so a test can
    find it in a later prompt. A probability outside [0, 1] is sent as it is - the engine rejects
    such a turn, which is how a test scripts a failed turn. ``actions(body, n)`` gives the turn's
    actions (default: ``do_nothing``). Every other schema gets :func:`default_responder`'s answer.
    """

    def respond(body: dict[str, Any], n: int) -> dict[str, Any]:
        name, _ = schema_of(body)
        if name != "agent_turn":
            return default_responder(body, n)
        agent, round_no = agent_and_round(body)
        if agent is None or round_no is None:
            raise ValueError("agent turn prompt names no agent or round")
        said = stated(agent, round_no)
        beliefs = {}
        for m in market_ids(body):
            p = float(said.get(m, 0.5)) if isinstance(said, Mapping) else float(said)
            beliefs[m] = {"reason": f"scripted agent {agent} round {round_no}: {p:.2f}", "probability": p}
        return {
            "thought": f"agent {agent} round {round_no}",
            "beliefs": beliefs,
            "confidence": confidence,
            "actions": actions(body, n) if actions else [{"type": "do_nothing"}],
        }

    return respond


class FakeOpenAIServer(AppServer):
    """See the module docstring. Use ``await start()`` / ``await stop()`` or ``async with``."""

    url_suffix = "/v1"
    backlog = 1024

    def __init__(
        self,
        *,
        concurrency: int = 8,
        latency_ms: float = 50.0,
        overflow: str = "queue",
        script: Sequence[str] = ("valid",),
        slow_ms: float = 400.0,
        responder: Responder = default_responder,
    ) -> None:
        if overflow not in ("queue", "reject"):
            raise ValueError("overflow must be 'queue' or 'reject'")
        unknown = [s for s in script if s not in BEHAVIOURS]
        if unknown or not script:
            raise ValueError(f"unknown script entries {unknown}; choose from {BEHAVIOURS}")
        super().__init__()
        self.concurrency = concurrency
        self.latency = latency_ms / 1000.0
        self.slow = slow_ms / 1000.0
        self.overflow = overflow
        self.script = list(script)
        self.responder = responder
        self._slots = asyncio.Semaphore(concurrency)
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.by_behaviour: dict[str, int] = {}
        self.rejected = 0
        self.active = 0
        self.peak = 0
        self.busy = 0.0
        self.intervals: list[tuple[float, float]] = []
        self._area = 0.0  # integral of active over time, for the average concurrency
        self._since = time.perf_counter()
        self._first: float | None = None
        self._last: float | None = None

    # -- accounting -----------------------------------------------------------------------------

    def _tick(self, delta: int) -> None:
        now = time.perf_counter()
        if self._first is not None:
            self._area += self.active * (now - self._since)
        self._since = now
        self.active += delta
        self.peak = max(self.peak, self.active)

    def stats(self, intervals: bool = False) -> dict[str, Any]:
        span = (self._last or 0.0) - (self._first or 0.0)
        out: dict[str, Any] = {
            "requests": self.requests,
            "by_behaviour": dict(self.by_behaviour),
            "rejected": self.rejected,
            "peak_concurrency": self.peak,
            "busy_slot_seconds": self.busy,
            "concurrency": self.concurrency,
            "latency_ms": self.latency * 1000.0,
            "active_span_seconds": span,
            "average_concurrency": self._area / span if span > 0 else 0.0,
        }
        if intervals:
            out["intervals"] = self.intervals
        return out

    # -- HTTP -----------------------------------------------------------------------------------

    async def _chat(self, request: web.Request) -> web.Response:
        n = self.requests
        self.requests += 1
        behaviour = self.script[n % len(self.script)]
        self.by_behaviour[behaviour] = self.by_behaviour.get(behaviour, 0) + 1
        if behaviour == "http_429":
            return web.json_response(
                {"error": {"message": "rate limited"}}, status=429, headers={"Retry-After": "0"}
            )
        if self.overflow == "reject" and self.active >= self.concurrency:
            self.rejected += 1
            return web.json_response(
                {"error": {"message": "server busy"}}, status=429, headers={"Retry-After": "0"}
            )
        body = await request.json()
        # A slot is held for the "generation" only, like an inference server's sequence slot;
        # building and writing the HTTP response happens after it is freed.
        async with self._slots:
            wall_start, start = time.time(), time.perf_counter()
            if self._first is None:
                self._first = start
                self._since = start
            self._tick(+1)
            try:
                if behaviour == "http_500":
                    await asyncio.sleep(self.latency / 5)
                else:
                    await asyncio.sleep(self.slow if behaviour == "slow" else self.latency)
            finally:
                end = time.perf_counter()
                self._tick(-1)
                self.busy += end - start
                self._last = end
                self.intervals.append((wall_start, wall_start + (end - start)))
        if behaviour == "http_500":
            return web.json_response({"error": {"message": "internal"}}, status=500)
        if behaviour == "invalid_json":
            content = "Sure! Here is my answer: {actions: [like post 3"
        elif behaviour == "schema_violation":
            content = json.dumps({"actions": [{"type": "teleport", "where": "moon"}]})
        else:
            content = json.dumps(self.responder(body, n))
        prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
        return web.json_response(
            {
                "id": f"chatcmpl-{n}",
                "object": "chat.completion",
                "model": body.get("model", "fake"),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content},
                    }
                ],
                "usage": {
                    "prompt_tokens": max(1, prompt_chars // 4),
                    "completion_tokens": max(1, len(content) // 4),
                    "total_tokens": max(1, prompt_chars // 4) + max(1, len(content) // 4),
                },
            }
        )

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats(intervals=request.query.get("intervals") == "1"))

    async def _reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/stats", self._stats)
        app.router.add_post("/stats/reset", self._reset)
        return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = standalone_parser(__doc__, 8001)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--slow-ms", type=float, default=400.0)
    parser.add_argument("--overflow", choices=("queue", "reject"), default="queue")
    parser.add_argument("--script", default="valid", help=f"comma-separated cycle of {', '.join(BEHAVIOURS)}")
    args = parser.parse_args(argv)
    server = FakeOpenAIServer(
        concurrency=args.concurrency,
        latency_ms=args.latency_ms,
        slow_ms=args.slow_ms,
        overflow=args.overflow,
        script=args.script.split(","),
    )
    serve_until_interrupted(
        server,
        args.host,
        args.port,
        lambda url: f"fake OpenAI server on {url} (concurrency {args.concurrency}, {args.latency_ms:g} ms)",
    )


if __name__ == "__main__":
    main()
