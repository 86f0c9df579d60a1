"""The web UI: static ES modules under /assets and the single page at each UI path.

No build step and nothing from a CDN: `services/gateway/web/` is served as it is. Every UI path
returns the same index.html; the page's router picks the view from the path. Any other GET outside
/api and /assets is answered 404 with that same page when the client wants HTML (a browser), so
the app shows its own "not found" view, and with the JSON error body otherwise. Shared forecasts'
pages (/share/{token}) get their link-preview tags in <head> (`with_head_tags`, routes_meta).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from services.gateway.errors import http_error_handler

WEB_DIR = Path(__file__).resolve().parent / "web"
INDEX = WEB_DIR / "index.html"

# The UI's paths (see web/assets/app.js); anything else outside /api and /assets is a 404.
# /share/{token} is routes_meta's: the same page with the shared forecast's preview tags.
UI_PATHS = (
    "/",
    "/login",
    "/signup",
    "/forgot-password",
    "/reset-password",
    "/verify-email",
    "/account",
    "/admin",
    "/track-record",
    "/jobs",
    "/jobs/new",
    "/jobs/{job_id:int}",
)

router = APIRouter(include_in_schema=False)


_HTML = "text/html; charset=utf-8"
_NO_CACHE = {"Cache-Control": "no-cache"}


async def index() -> FileResponse:
    return FileResponse(INDEX, media_type=_HTML, headers=_NO_CACHE)


def _wants_page(request: Request) -> bool:
    """A browser navigating to a path outside the API and the assets."""
    if request.method not in ("GET", "HEAD"):
        return False
    path = request.url.path
    if any(path == prefix or path.startswith(prefix + "/") for prefix in ("/api", "/assets")):
        return False
    return "text/html" in request.headers.get("accept", "").lower()


async def not_found_handler(request: Request, exc: Exception) -> Response:
    """404 with the app's page for a browser (it shows its "not found" view); JSON otherwise."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404 and _wants_page(request):
        return FileResponse(INDEX, status_code=404, media_type=_HTML, headers=_NO_CACHE)
    return await http_error_handler(request, exc)


# Tags the preview replaces if the page already carries them.
_PREVIEW_TAG = re.compile(
    r'[ \t]*<meta\s+(?:name|property)="(?:description|og:[^"]*|twitter:[^"]*)"[^>]*>[ \t]*\n?', re.IGNORECASE
)
_TITLE = re.compile(r"<title>.*?</title>", re.IGNORECASE | re.DOTALL)
_HEAD_END = re.compile(r"</head>", re.IGNORECASE)


def with_head_tags(title: str, metas: Sequence[tuple[str, str, str]], status_code: int = 200) -> HTMLResponse:
    """index.html with `title` and the (attribute, key, content) meta tags in <head>, all escaped.

    attribute is "name" or "property" (Open Graph uses property)."""
    page = _PREVIEW_TAG.sub("", INDEX.read_text(encoding="utf-8"))
    page = _TITLE.sub(lambda _m: f"<title>{html.escape(title)}</title>", page, count=1)
    tags = "".join(
        f'  <meta {attribute}="{html.escape(key)}" content="{html.escape(content)}">\n'
        for attribute, key, content in metas
    )
    page = _HEAD_END.sub(lambda _m: tags + "</head>", page, count=1)
    return HTMLResponse(page, status_code=status_code, headers=_NO_CACHE)


for _path in UI_PATHS:
    router.add_api_route(_path, index, methods=["GET"])


class _RevalidatedStatic(StaticFiles):
    """Assets have no content hash in their names, so browsers must revalidate (ETag) each time."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/assets", _RevalidatedStatic(directory=WEB_DIR / "assets"), name="assets")
