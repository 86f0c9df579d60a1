"""A fake OpenAI-compatible chat-completions server on 127.0.0.1 (aiohttp).

It serves ``POST /v1/chat/completions`` with at most ``concurrency`` requests in progress at once.
Overflow policy (``overflow``): ``"queue"`` (default, like ``vllm serve``) makes excess requests wait
for a free slot - waiting time is not busy time; ``"reject"`` answers them ``429`` at once.

Each admitted request follows the next entry of a cyclic ``script``:

- ``valid``: after ``latency_ms``, a JSON reply that matches the requested schema;
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

import argparse
import asyncio
import json
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

BEHAVIOURS = ("valid", "invalid_json", "schema_violation", "slow", "http_429", "http_500")
Responder = Callable[[dict[str, Any], int], dict[str, Any]]


def default_responder(body: dict[str, Any], n: int) -> dict[str, Any]:
    """A schema-valid answer for the engine's schemas (by ``json_schema.name``)."""
    fmt = (body.get("response_format") or {}).get("json_schema") or {}
    name = fmt.get("name", "")
    prompt = str(body["messages"][-1].get("content", ""))
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
        return {
            "markets": [
                {
                    "question": "Will Alpha Corp announce support within the horizon?",
                    "initial_price_yes": 0.4,
                    "rationale": "Alpha Corp leads.",
                    "link": 0.6,
                }
            ]
        }
    if name == "agent_turn":
        stance = round(((n * 37) % 200) / 100.0 - 1.0, 2)
        actions: list[dict[str, Any]] = [
            {"type": "create_post", "text": f"Take {n}: my view has stance {stance:+.2f}.", "stance": stance}
        ]
        posts = re.findall(r"^- #(\d+) by", prompt, re.MULTILINE)
        if posts:
            actions.append({"type": "like", "post_id": int(posts[0])})
        markets = re.findall(r"^- \[(\w+)\] price", prompt, re.MULTILINE)
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
        return {"thought": "Reading the feed.", "actions": actions}
    return {}


class FakeOpenAIServer:
    """See the module docstring. Use ``await start()`` / ``await stop()`` or ``async with``."""

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
        self.concurrency = concurrency
        self.latency = latency_ms / 1000.0
        self.slow = slow_ms / 1000.0
        self.overflow = overflow
        self.script = list(script)
        self.responder = responder
        self._slots = asyncio.Semaphore(concurrency)
        self._runner: web.AppRunner | None = None
        self.base_url = ""
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

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen (port 0 = any free port); returns the base URL ending in ``/v1``."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, backlog=1024)
        await site.start()
        sock = site._server.sockets[0]  # type: ignore[union-attr]
        self.base_url = f"http://{host}:{sock.getsockname()[1]}/v1"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAIServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
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

    async def serve() -> None:
        url = await server.start(args.host, args.port)
        print(
            f"fake OpenAI server on {url} (concurrency {args.concurrency}, {args.latency_ms:g} ms)",
            flush=True,
        )
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
