"""What the fake servers share: an aiohttp application served on loopback, in this process.

A subclass builds its routes in `app()`; `await start()` listens (port 0: any free port) and
returns the base URL (plus `url_suffix`), `await stop()` closes it, or `async with` does both.
Standalone (`python -m tests.fakes.<name>`): `standalone_parser` reads --host/--port (plus what
the module adds) and `serve_until_interrupted` serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Self

from aiohttp import web


class AppServer(ABC):
    """An aiohttp application on a loopback port; see the module docstring."""

    url_suffix = ""  # appended to http://host:port in `base_url`
    backlog = 128  # the listen queue (aiohttp's default)

    def __init__(self) -> None:
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    @abstractmethod
    def app(self) -> web.Application:
        """The application with this server's routes."""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen (port 0 = any free port); returns the base URL."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, backlog=self.backlog)
        await site.start()
        sock = site._server.sockets[0]  # type: ignore[union-attr]
        self.base_url = f"http://{host}:{sock.getsockname()[1]}{self.url_suffix}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def standalone_parser(module_doc: str, default_port: int) -> argparse.ArgumentParser:
    """A command line with --host and --port, described by the first line of `module_doc`."""
    parser = argparse.ArgumentParser(description=module_doc.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    return parser


def serve_until_interrupted(server: AppServer, host: str, port: int, banner: Callable[[str], str]) -> None:
    """Serves `server` on host:port, printing `banner(base_url)` once it listens, until Ctrl-C."""

    async def serve() -> None:
        print(banner(await server.start(host, port)), flush=True)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
