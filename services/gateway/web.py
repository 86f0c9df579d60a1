"""The web UI: static ES modules under /assets and the single page at each UI path.

No build step and nothing from a CDN: `services/gateway/web/` is served as it is. Every UI path
returns the same index.html; the page's router picks the view from the path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

WEB_DIR = Path(__file__).resolve().parent / "web"
INDEX = WEB_DIR / "index.html"

# The UI's paths (see web/js/router.js); anything else outside /api and /assets is a 404.
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
    "/share/{token}",
)

router = APIRouter(include_in_schema=False)


async def index() -> FileResponse:
    return FileResponse(INDEX, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})


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
