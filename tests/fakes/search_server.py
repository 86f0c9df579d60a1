"""A fake web search API on 127.0.0.1 answering like SearxNG's JSON API (aiohttp).

``GET /search?q=<query>&format=json`` returns ``{"query": q, "results": [{"url", "title",
"content", "engine"}]}`` from a fixed list of ``results`` (default: three pages about the query);
``format`` other than ``json`` answers 403, as SearxNG does when JSON output is disabled.
``fail_with`` makes every search answer that HTTP status instead. ``queries`` records what was asked.

Run standalone: ``python -m tests.fakes.search_server --port 8888``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from tests.fakes.app_server import AppServer, serve_until_interrupted, standalone_parser


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


class FakeSearchServer(AppServer):
    """See the module docstring; its base URL has no ``/search``."""

    def __init__(
        self, *, results: Sequence[dict[str, Any]] | None = None, fail_with: int | None = None
    ) -> None:
        super().__init__()
        self.results = list(results) if results is not None else None
        self.fail_with = fail_with
        self.queries: list[str] = []

    async def _search(self, request: web.Request) -> web.Response:
        query = request.query.get("q", "")
        self.queries.append(query)
        if self.fail_with is not None:
            return web.json_response({"error": "unavailable"}, status=self.fail_with)
        if request.query.get("format") != "json":
            return web.Response(status=403, text="JSON output is disabled")
        results = self.results if self.results is not None else default_results(query)
        return web.json_response({"query": query, "number_of_results": len(results), "results": results})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/search", self._search)
        return app


def main(argv: Sequence[str] | None = None) -> None:
    args = standalone_parser(__doc__, 8888).parse_args(argv)
    serve_until_interrupted(
        FakeSearchServer(), args.host, args.port, lambda url: f"fake search API on {url}/search"
    )


if __name__ == "__main__":
    main()
