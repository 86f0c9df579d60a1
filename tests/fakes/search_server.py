"""A fake web search API on 127.0.0.1 answering like SearxNG's JSON API (aiohttp).

``GET /search?q=<query>&format=json`` returns ``{"query": q, "results": [{"url", "title",
"content", "engine"}]}`` from a fixed list of ``results`` (default: three pages about the query);
``format`` other than ``json`` answers 403, as SearxNG does when JSON output is disabled.
``fail_with`` makes every search answer that HTTP status instead. ``queries`` records what was asked.

Run standalone: ``python -m tests.fakes.search_server --port 8888``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from typing import Any

from aiohttp import web


def default_results(query: str) -> list[dict[str, Any]]:
    return [
        {
            "url": f"https://news.example.org/{i}",
            "title": f"Report {i} on: {query[:60]}",
            "content": f"Finding {i}: polling shows {40 + 7 * i}% support; council debate continues.",
            "engine": "fake",
        }
        for i in range(1, 4)
    ]


class FakeSearchServer:
    def __init__(
        self, *, results: Sequence[dict[str, Any]] | None = None, fail_with: int | None = None
    ) -> None:
        self.results = list(results) if results is not None else None
        self.fail_with = fail_with
        self.queries: list[str] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    async def _search(self, request: web.Request) -> web.Response:
        query = request.query.get("q", "")
        self.queries.append(query)
        if self.fail_with is not None:
            return web.json_response({"error": "unavailable"}, status=self.fail_with)
        if request.query.get("format") != "json":
            return web.Response(status=403, text="JSON output is disabled")
        results = self.results if self.results is not None else default_results(query)
        return web.json_response({"query": query, "number_of_results": len(results), "results": results})

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen (port 0 = any free port); returns the base URL (without ``/search``)."""
        app = web.Application()
        app.router.add_get("/search", self._search)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sock = site._server.sockets[0]  # type: ignore[union-attr]
        self.base_url = f"http://{host}:{sock.getsockname()[1]}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSearchServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8888)
    args = parser.parse_args(argv)
    server = FakeSearchServer()

    async def serve() -> None:
        print(f"fake search API on {await server.start(args.host, args.port)}/search", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
