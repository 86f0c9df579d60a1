"""What the web UI needs before anyone signs in, and what other sites see of a shared forecast.

- `GET /api/config`: whether web enrichment has a search provider, the seed limits the jobs
  service enforces, and the sample briefings.
- `GET /api/samples/{id}`: one sample briefing, ready to submit.
- `GET /share/{token}`: the app's page with the shared forecast's link-preview tags (title,
  description, Open Graph, Twitter card) in <head>; 404 with generic tags once the link is revoked.
- `GET /api/share/{token}/preview.png`: the preview card (services/gateway/preview.py).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from services.gateway import preview, samples, web
from services.gateway.deps import Anonymous, Clients
from services.gateway.errors import ERROR_RESPONSES, ApiError
from services.gateway.routes_jobs import share_urls
from services.gateway.routes_share import ShareToken, shared_job_of
from services.jobs.domain.validation import MAX_SEED_CHARS, MIN_SEED_WORDS

router = APIRouter(responses=ERROR_RESPONSES)

SampleId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Link-preview crawlers fetch the card again and again; a revoked link's card may live this long.
PREVIEW_MAX_AGE_SECONDS = 300


class SampleInfo(BaseModel):
    id: str
    title: str
    goal: str = Field(description="a yes/no question the briefing can answer")
    summary: str


class SampleDetail(SampleInfo):
    seed_text: str
    forecast_days: int


class ConfigResponse(BaseModel):
    search_provider: bool = Field(description="web enrichment has a search provider to ask")
    seed_max_chars: int = Field(description="a seed may be at most this many characters")
    seed_min_words: int = Field(description="a submitted seed needs at least this many words")
    samples: list[SampleInfo]


def _info(sample: samples.Sample) -> dict[str, Any]:
    return {"id": sample.id, "title": sample.title, "goal": sample.goal, "summary": sample.summary}


@router.get("/api/config", response_model=ConfigResponse, tags=["meta"])
async def config(request: Request) -> Any:
    """What the UI needs to know before sign-in: enrichment availability, seed limits, samples."""
    return {
        "search_provider": bool(request.app.state.search_settings.url.strip()),
        "seed_max_chars": MAX_SEED_CHARS,
        "seed_min_words": MIN_SEED_WORDS,
        "samples": [_info(sample) for sample in samples.available()],
    }


@router.get("/api/samples/{sample_id}", response_model=SampleDetail, tags=["meta"])
async def sample(sample_id: SampleId) -> Any:
    """A sample briefing with its question and horizon, ready to forecast."""
    found = samples.find(sample_id)
    if found is None:
        raise ApiError(404, "NOT_FOUND", "there is no sample briefing with that name")
    info, text = found
    return {**_info(info), "seed_text": text, "forecast_days": info.forecast_days}


# --- shared forecasts: link previews --------------------------------------------------------------


def _generic_page(status_code: int) -> HTMLResponse:
    """The app's page with swarmcast's own tags (the app says the link no longer works)."""
    return web.with_head_tags(
        preview.SITE_NAME,
        [
            ("name", "description", preview.GENERIC_DESCRIPTION),
            ("property", "og:title", preview.SITE_NAME),
            ("property", "og:description", preview.GENERIC_DESCRIPTION),
            ("property", "og:type", "website"),
            ("property", "og:site_name", preview.SITE_NAME),
            ("name", "twitter:card", "summary"),
        ],
        status_code=status_code,
    )


@router.get("/share/{token}", include_in_schema=False, response_class=HTMLResponse)
async def share_page(token: str, caller: Anonymous, services: Clients, request: Request) -> HTMLResponse:
    """The app's page for a shared forecast, with its link-preview tags."""
    if not _TOKEN.fullmatch(token):
        return _generic_page(404)
    try:
        job = await shared_job_of(token, caller, services, request)
    except ApiError as error:
        # Revoked or unknown: 404; anything else (rate limit, a service down) keeps its status.
        return _generic_page(error.status)
    summary = preview.summarize(job)
    urls = share_urls(request, token)
    description = summary.description()
    return web.with_head_tags(
        f"{summary.goal} · {preview.SITE_NAME}",
        [
            ("name", "description", description),
            ("property", "og:title", summary.goal),
            ("property", "og:description", description),
            ("property", "og:type", "article"),
            ("property", "og:site_name", preview.SITE_NAME),
            ("property", "og:url", urls["share_url"]),
            ("property", "og:image", f"{urls['api_url']}/preview.png"),
            ("property", "og:image:type", "image/png"),
            ("property", "og:image:width", str(preview.WIDTH)),
            ("property", "og:image:height", str(preview.HEIGHT)),
            ("property", "og:image:alt", f"Forecast card: {summary.goal}"),
            ("name", "twitter:card", "summary_large_image"),
            ("name", "twitter:title", summary.goal),
            ("name", "twitter:description", description),
        ],
    )


@router.get(
    "/api/share/{token}/preview.png",
    tags=["sharing"],
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "a 1200×630 PNG card"}},
)
async def share_preview(
    token: ShareToken, caller: Anonymous, services: Clients, request: Request
) -> Response:
    """The shared forecast's link-preview card: the goal, the forecast with its interval, the
    verdict, a bar per question (404 once revoked)."""
    job = await shared_job_of(token, caller, services, request)
    png = await run_in_threadpool(preview.render_card, preview.summarize(job))
    return Response(
        png, media_type="image/png", headers={"Cache-Control": f"public, max-age={PREVIEW_MAX_AGE_SECONDS}"}
    )
